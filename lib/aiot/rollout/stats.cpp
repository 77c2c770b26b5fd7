#include "aiot/rollout/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "aiot/core/error.hpp"

namespace aiot::rollout {

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

void require_probability(double p, const char* what, bool open_interval) {
  bool ok = open_interval ? (p > 0.0 && p < 1.0) : (p >= 0.0 && p <= 1.0);
  if (!ok) {
    throw Error::usage(std::string(what) + " must be " + (open_interval ? "in (0, 1)" : "in [0, 1]") +
                       ", got " + std::to_string(p));
  }
}

void require_finite(std::span<const double> values, const char* what) {
  for (double v : values) {
    if (!std::isfinite(v)) {
      throw Error::usage(std::string(what) + " contains a value that is not a finite number");
    }
  }
}

}  // namespace

// ---- normal distribution -------------------------------------------------------------

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double normal_sf(double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); }

double normal_quantile(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) {
    throw Error::usage("normal quantile needs a probability in [0, 1], got " + std::to_string(p));
  }
  if (p == 0.0) {
    return -k_inf;
  }
  if (p == 1.0) {
    return k_inf;
  }
  // Wichura (1988), Algorithm AS241 PPND16, Applied Statistics 37(3):477-484.
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    const double num =
        (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r + 6.7265770927008700853e+4) * r +
             4.5921953931549871457e+4) * r + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
          1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) * q;
    const double den =
        (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r + 3.9307895800092710610e+4) * r +
             2.1213794301586595867e+4) * r + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
          4.2313330701600911252e+1) * r + 1.0);
    return num / den;
  }
  double r = q < 0.0 ? p : 1.0 - p;
  r = std::sqrt(-std::log(r));
  double x = 0.0;
  if (r <= 5.0) {
    r -= 1.6;
    const double num =
        (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r +
             1.27045825245236838258e+0) * r + 3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
          4.63033784615654529590e+0) * r + 1.42343711074968357734e+0);
    const double den =
        (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r +
             1.48103976427480074590e-1) * r + 6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
          2.05319162663775882187e+0) * r + 1.0);
    x = num / den;
  } else {
    r -= 5.0;
    const double num =
        (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r +
             2.65321895265761230930e-2) * r + 2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
          5.46378491116411436990e+0) * r + 6.65790464350110377720e+0);
    const double den =
        (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r +
             7.86869131145613259100e-4) * r + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
          5.99832206555887937690e-1) * r + 1.0);
    x = num / den;
  }
  return q < 0.0 ? -x : x;
}

// ---- descriptive statistics ----------------------------------------------------------

double mean(std::span<const double> values) {
  if (values.empty()) {
    throw Error::usage("mean of an empty sample");
  }
  require_finite(values, "sample");
  double sum = 0.0;
  for (double v : values) {
    sum += v;
  }
  return sum / static_cast<double>(values.size());
}

double percentile(std::span<const double> values, double q) {
  if (values.empty()) {
    throw Error::usage("percentile of an empty sample");
  }
  require_probability(q, "percentile", false);
  require_finite(values, "sample");
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// ---- proportions ---------------------------------------------------------------------

Interval wilson_interval(std::int64_t x, std::int64_t n, double z) {
  if (n < 0 || x < 0 || x > n) {
    throw Error::usage("Wilson interval needs 0 <= x <= n, got x=" + std::to_string(x) +
                       ", n=" + std::to_string(n));
  }
  if (!(z >= 0.0) || std::isinf(z)) {
    throw Error::usage("Wilson interval needs a finite z >= 0");
  }
  if (n == 0) {
    return {0.0, 1.0};
  }
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(x) / nn;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / nn;
  const double centre = (p + z2 / (2.0 * nn)) / denom;
  const double half = z / denom * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
  Interval out{centre - half, centre + half};
  // Rounding can leave −1e-17 at x = 0 or 1 + 2e-16 at x = n.
  out.lower = x == 0 ? 0.0 : std::clamp(out.lower, 0.0, 1.0);
  out.upper = x == n ? 1.0 : std::clamp(out.upper, 0.0, 1.0);
  return out;
}

DifferenceInterval newcombe_interval(std::int64_t x_canary, std::int64_t n_canary,
                                     std::int64_t x_baseline, std::int64_t n_baseline, double z) {
  if (n_canary <= 0 || n_baseline <= 0) {
    throw Error::usage("Newcombe interval needs devices on both sides");
  }
  DifferenceInterval out;
  out.canary = wilson_interval(x_canary, n_canary, z);
  out.baseline = wilson_interval(x_baseline, n_baseline, z);
  const double pc = static_cast<double>(x_canary) / static_cast<double>(n_canary);
  const double pb = static_cast<double>(x_baseline) / static_cast<double>(n_baseline);
  out.estimate = pc - pb;
  out.lower = out.estimate - std::hypot(pc - out.canary.lower, out.baseline.upper - pb);
  out.upper = out.estimate + std::hypot(out.canary.upper - pc, pb - out.baseline.lower);
  return out;
}

// ---- two-sample location -------------------------------------------------------------

MannWhitney mann_whitney(std::span<const double> canary, std::span<const double> baseline,
                         bool continuity) {
  require_finite(canary, "canary sample");
  require_finite(baseline, "baseline sample");
  MannWhitney out;
  out.m = static_cast<std::int64_t>(canary.size());
  out.n = static_cast<std::int64_t>(baseline.size());
  const double m = static_cast<double>(out.m);
  const double n = static_cast<double>(out.n);
  out.mean = m * n / 2.0;
  if (out.m == 0 || out.n == 0) {
    return out;
  }
  // (value, from canary) sorted by value; equal values share their mid-rank.
  std::vector<std::pair<double, bool>> all;
  all.reserve(canary.size() + baseline.size());
  for (double v : canary) {
    all.emplace_back(v, true);
  }
  for (double v : baseline) {
    all.emplace_back(v, false);
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum_canary = 0.0;
  double tie_term = 0.0;
  std::size_t i = 0;
  while (i < all.size()) {
    std::size_t j = i;
    while (j + 1 < all.size() && all[j + 1].first == all[i].first) {
      ++j;
    }
    const double tie = static_cast<double>(j - i + 1);
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;
    for (std::size_t k = i; k <= j; ++k) {
      if (all[k].second) {
        rank_sum_canary += mid_rank;
      }
    }
    tie_term += tie * tie * tie - tie;
    i = j + 1;
  }
  const double total = m + n;
  out.u = rank_sum_canary - m * (m + 1.0) / 2.0;
  out.tie_term = tie_term;
  const double variance = m * n / 12.0 * ((total + 1.0) - tie_term / (total * (total - 1.0)));
  out.sd = variance > 0.0 ? std::sqrt(variance) : 0.0;
  if (out.sd == 0.0) {
    return out;
  }
  const double diff = out.u - out.mean;
  const double cc = continuity ? 0.5 : 0.0;
  const double magnitude = std::max(std::fabs(diff) - cc, 0.0);
  out.z = (diff < 0.0 ? -magnitude : magnitude) / out.sd;
  out.p_two_sided = std::min(1.0, 2.0 * normal_sf(std::fabs(out.z)));
  out.p_greater = normal_sf((diff - cc) / out.sd);
  out.p_less = normal_cdf((diff + cc) / out.sd);
  return out;
}

namespace {
// Counts over the m·n differences c[i] − b[j] of ascending c and b, each in O(m + n): for a fixed
// i the differences fall as j grows, so those below a bound are a suffix of b whose start only
// moves right as c[i] grows. fl(x − y) is monotone in both arguments, so this holds in floating
// point too.
struct DifferenceCounts {
  std::int64_t below = 0;     // differences < t
  std::int64_t at_most = 0;   // differences ≤ t
};

DifferenceCounts count_differences(std::span<const double> c, std::span<const double> b, double t) {
  DifferenceCounts out;
  std::size_t lt = 0;  // first j with c[i] − b[j] < t
  std::size_t le = 0;  // first j with c[i] − b[j] ≤ t
  const std::size_t n = b.size();
  for (double ci : c) {
    while (lt < n && !(ci - b[lt] < t)) ++lt;
    while (le < n && !(ci - b[le] <= t)) ++le;
    out.below += static_cast<std::int64_t>(n - lt);
    out.at_most += static_cast<std::int64_t>(n - le);
  }
  return out;
}

// The smallest difference ≥ t, or +inf when there is none.
double smallest_difference_from(std::span<const double> c, std::span<const double> b, double t) {
  double best = std::numeric_limits<double>::infinity();
  std::size_t lt = 0;
  const std::size_t n = b.size();
  for (double ci : c) {
    while (lt < n && !(ci - b[lt] < t)) ++lt;
    if (lt > 0) best = std::min(best, ci - b[lt - 1]);  // the last j whose difference is still ≥ t
  }
  return best;
}

// The 0-based order statistic r of all m·n differences c[i] − b[j] (ascending c and b), exactly,
// without forming them. The answer is kept strictly inside (lo, hi); each step takes as pivot the
// smallest real difference at or above the midpoint, so tied values (metrics reported in steps of
// 0.5 ms) are hit directly instead of bisected down to the last bit. Once at most m + n
// differences are left inside, they are selected among. Selection among pairwise differences in
// the manner of Monahan (1984), with midpoint pivots in place of his random ones.
double difference_order_statistic(std::span<const double> c, std::span<const double> b, std::int64_t r) {
  double lo = c.front() - b.back();  // the smallest difference
  DifferenceCounts at_lo = count_differences(c, b, lo);
  if (at_lo.at_most > r) return lo;
  double hi = c.back() - b.front();  // the largest difference
  DifferenceCounts at_hi = count_differences(c, b, hi);
  if (at_hi.below <= r) return hi;
  const auto few = static_cast<std::int64_t>(c.size() + b.size());
  // Invariant: at_lo.at_most <= r < at_hi.below, so lo < answer < hi.
  while (at_hi.below - at_lo.at_most > few) {
    // Some difference lies strictly between lo and hi, so a double does too: keep mid inside.
    double mid = lo / 2 + hi / 2;
    if (!(mid > lo)) mid = std::nextafter(lo, hi);
    if (!(mid < hi)) mid = std::nextafter(hi, lo);
    const double pivot = smallest_difference_from(c, b, mid);
    if (!(pivot < hi)) {
      // Nothing in [mid, hi): the answer is below mid.
      hi = mid;
      at_hi = count_differences(c, b, hi);
      continue;
    }
    const DifferenceCounts at_pivot = count_differences(c, b, pivot);
    if (at_pivot.below <= r && r < at_pivot.at_most) return pivot;
    if (r < at_pivot.below) {
      hi = pivot;
      at_hi = at_pivot;
    } else {
      lo = pivot;
      at_lo = at_pivot;
    }
  }
  // The differences strictly between lo and hi: per i a run of j between two suffix starts.
  std::vector<double> left;
  left.reserve(static_cast<std::size_t>(at_hi.below - at_lo.at_most));
  std::size_t j_hi = 0;
  std::size_t j_lo = 0;
  const std::size_t n = b.size();
  for (double ci : c) {
    while (j_hi < n && !(ci - b[j_hi] < hi)) ++j_hi;
    while (j_lo < n && !(ci - b[j_lo] <= lo)) ++j_lo;
    for (std::size_t j = j_hi; j < j_lo; ++j) left.push_back(ci - b[j]);
  }
  auto nth = left.begin() + (r - at_lo.at_most);
  std::nth_element(left.begin(), nth, left.end());
  return *nth;
}
}  // namespace

ShiftEstimate hodges_lehmann(std::span<const double> canary, std::span<const double> baseline, double z) {
  if (canary.empty() || baseline.empty()) {
    throw Error::usage("Hodges-Lehmann needs values on both sides");
  }
  if (!(z >= 0.0) || std::isinf(z)) {
    throw Error::usage("Hodges-Lehmann needs a finite z >= 0");
  }
  require_finite(canary, "canary sample");
  require_finite(baseline, "baseline sample");
  std::vector<double> c(canary.begin(), canary.end());
  std::vector<double> b(baseline.begin(), baseline.end());
  std::sort(c.begin(), c.end());
  std::sort(b.begin(), b.end());
  const auto m = static_cast<std::int64_t>(c.size());
  const auto n = static_cast<std::int64_t>(b.size());
  ShiftEstimate out;
  out.pairs = m * n;
  const std::int64_t mn = out.pairs;
  const double md = static_cast<double>(m);
  const double nd = static_cast<double>(n);
  const double mnd = md * nd;
  out.k = static_cast<std::int64_t>(std::floor(mnd / 2.0 - z * std::sqrt(mnd * (md + nd + 1.0) / 12.0)));

  auto order_stat = [&](std::int64_t r) { return difference_order_statistic(c, b, r); };
  out.estimate = (order_stat((mn - 1) / 2) + order_stat(mn / 2)) / 2.0;
  if (out.k < 0) {
    // Even the extreme differences do not reach this confidence: no finite interval.
    out.attainable = false;
    out.lower = -k_inf;
    out.upper = k_inf;
    return out;
  }
  out.lower = order_stat(out.k);           // D(k+1), 1-based
  out.upper = order_stat(mn - out.k - 1);  // D(mn−k), 1-based
  return out;
}

// ---- repeated looks ------------------------------------------------------------------

double bonferroni_alpha(double alpha, std::int64_t looks) {
  require_probability(alpha, "alpha", true);
  if (looks < 1) {
    throw Error::usage("the number of looks must be at least 1, got " + std::to_string(looks));
  }
  return alpha / static_cast<double>(looks);
}

// ---- power helpers -------------------------------------------------------------------

std::int64_t zero_failure_sample_size(double p, double alpha) {
  require_probability(p, "failure rate", true);
  require_probability(alpha, "alpha", true);
  return static_cast<std::int64_t>(std::ceil(std::log(alpha) / std::log1p(-p) - 1e-9));
}

double min_detectable_failure_rate(std::int64_t n, double alpha) {
  require_probability(alpha, "alpha", true);
  if (n < 1) {
    throw Error::usage("a wave needs at least 1 device, got " + std::to_string(n));
  }
  // 1 − α^(1/n), written with expm1 to keep precision when the rate is small.
  return -std::expm1(std::log(alpha) / static_cast<double>(n));
}

std::int64_t two_proportion_sample_size(double p1, double p2, double alpha, double power,
                                        VarianceModel model) {
  require_probability(p1, "p1", true);
  require_probability(p2, "p2", true);
  require_probability(alpha, "alpha", true);
  require_probability(power, "power", true);
  if (p1 == p2) {
    throw Error::usage("p1 and p2 must differ to size a test");
  }
  const double z_alpha = normal_quantile(1.0 - alpha);
  const double z_beta = normal_quantile(power);
  const double p_bar = (p1 + p2) / 2.0;
  const double pooled_var = 2.0 * p_bar * (1.0 - p_bar);
  const double unpooled_var = p1 * (1.0 - p1) + p2 * (1.0 - p2);
  const double delta2 = (p2 - p1) * (p2 - p1);
  double n = 0.0;
  switch (model) {
    case VarianceModel::pooled:
      n = (z_alpha + z_beta) * (z_alpha + z_beta) * pooled_var / delta2;
      break;
    case VarianceModel::unpooled:
      n = (z_alpha + z_beta) * (z_alpha + z_beta) * unpooled_var / delta2;
      break;
    case VarianceModel::fleiss: {
      const double root = z_alpha * std::sqrt(pooled_var) + z_beta * std::sqrt(unpooled_var);
      n = root * root / delta2;
      break;
    }
  }
  return static_cast<std::int64_t>(std::ceil(n - 1e-9));
}

std::int64_t mann_whitney_sample_size(double shift_sd, double alpha, double power) {
  require_probability(alpha, "alpha", true);
  require_probability(power, "power", true);
  if (!(shift_sd > 0.0) || std::isinf(shift_sd)) {
    throw Error::usage("the shift to detect must be a positive number of standard deviations");
  }
  const double z_sum = normal_quantile(1.0 - alpha) + normal_quantile(power);
  const double n = 2.0 * z_sum * z_sum / (shift_sd * shift_sd) / k_mann_whitney_efficiency;
  return static_cast<std::int64_t>(std::ceil(n - 1e-9));
}

}  // namespace aiot::rollout
