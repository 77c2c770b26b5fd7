#include "aiot/lineage/drift.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/special_functions/gamma.hpp>
#include <nlohmann/json.hpp>

#include "aiot/core/error.hpp"

namespace aiot::lineage {

using nlohmann::json;

namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

// An empirical distribution: distinct sorted values with their cumulative weights. Built from raw
// values (weight 1 each) or from a KLL sketch's weighted items, so the exact and the sketch
// versions of every metric share one implementation.
struct Empirical {
  std::vector<double> x;
  std::vector<double> cumulative;  // weight of values ≤ x[i]
  double total = 0;

  static Empirical from_values(std::span<const double> values) {
    std::vector<double> sorted;
    sorted.reserve(values.size());
    for (double v : values) {
      if (!std::isnan(v)) {
        sorted.push_back(v);
      }
    }
    std::sort(sorted.begin(), sorted.end());
    Empirical e;
    for (double v : sorted) {
      if (!e.x.empty() && e.x.back() == v) {
        e.cumulative.back() += 1;
      } else {
        e.x.push_back(v);
        e.cumulative.push_back((e.cumulative.empty() ? 0 : e.cumulative.back()) + 1);
      }
    }
    e.total = static_cast<double>(sorted.size());
    return e;
  }

  static Empirical from_sketch(const KllSketch& sketch) {
    Empirical e;
    double running = 0;
    for (const auto& [value, weight] : sketch.weighted_items()) {
      running += static_cast<double>(weight);
      e.x.push_back(value);
      e.cumulative.push_back(running);
    }
    e.total = running;
    return e;
  }

  bool empty() const { return total <= 0; }

  // F(v) = fraction of weight ≤ v.
  double cdf(double v) const {
    const auto it = std::upper_bound(x.begin(), x.end(), v);
    if (it == x.begin()) {
      return 0.0;
    }
    return cumulative[static_cast<std::size_t>(it - x.begin()) - 1] / total;
  }

  // Lower quantile: the smallest value whose F is ≥ q.
  double quantile(double q) const {
    const double target = q * total - 1e-9 * total;
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), target);
    return it == cumulative.end() ? x.back() : x[static_cast<std::size_t>(it - cumulative.begin())];
  }

  // Population standard deviation.
  double stddev() const {
    double mean = 0;
    double previous = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      mean += x[i] * (cumulative[i] - previous);
      previous = cumulative[i];
    }
    mean /= total;
    double ss = 0;
    previous = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      ss += (x[i] - mean) * (x[i] - mean) * (cumulative[i] - previous);
      previous = cumulative[i];
    }
    return std::sqrt(ss / total);
  }
};

std::vector<double> normalised(std::span<const double> v) {
  double sum = 0;
  for (double x : v) {
    sum += x;
  }
  std::vector<double> out(v.begin(), v.end());
  if (sum > 0) {
    for (double& x : out) {
      x /= sum;
    }
  }
  return out;
}

std::string numeric_status(const DriftResult& r) {
  if (r.n_ref < r.thresholds.min_n || r.n_cur < r.thresholds.min_n) {
    return "insufficient data";
  }
  if (r.psi >= r.thresholds.psi_major) {
    return "major";
  }
  if (r.psi >= r.thresholds.psi_moderate) {
    return "moderate";
  }
  return "stable";
}

DriftResult numeric_drift(const Empirical& ref, const Empirical& cur, const DriftThresholds& t, double sigma_ref) {
  DriftResult r;
  r.kind = DriftKind::numeric;
  r.thresholds = t;
  r.n_ref = static_cast<std::uint64_t>(std::llround(ref.total));
  r.n_cur = static_cast<std::uint64_t>(std::llround(cur.total));
  r.chi2 = k_nan;
  r.chi2_p = k_nan;
  if (ref.empty() || cur.empty()) {
    r.psi = r.js = r.w1_normed = r.ks_d = r.ks_p = r.hellinger = k_nan;
    r.status = "insufficient data";
    return r;
  }

  // Bins cut at the reference's lower deciles; equal cut points (ties) merge bins.
  std::vector<double> cuts;
  for (int i = 1; i < t.psi_bins; ++i) {
    const double c = ref.quantile(static_cast<double>(i) / t.psi_bins);
    if (cuts.empty() || c > cuts.back()) {
      cuts.push_back(c);
    }
  }
  std::vector<double> ref_fractions;
  std::vector<double> cur_fractions;
  double ref_previous = 0;
  double cur_previous = 0;
  for (double c : cuts) {
    const double rf = ref.cdf(c);
    const double cf = cur.cdf(c);
    ref_fractions.push_back(rf - ref_previous);
    cur_fractions.push_back(cf - cur_previous);
    ref_previous = rf;
    cur_previous = cf;
  }
  ref_fractions.push_back(1.0 - ref_previous);
  cur_fractions.push_back(1.0 - cur_previous);
  for (double& f : ref_fractions) {
    f = std::max(f, 0.0);
  }
  for (double& f : cur_fractions) {
    f = std::max(f, 0.0);
  }
  r.psi = psi(ref_fractions, cur_fractions, t.psi_epsilon);
  r.js = js_distance(ref_fractions, cur_fractions);
  r.hellinger = hellinger(ref_fractions, cur_fractions);

  // KS D and W1 on the merged support: both Fs are step functions that only jump at the points.
  std::vector<double> points;
  points.reserve(ref.x.size() + cur.x.size());
  std::merge(ref.x.begin(), ref.x.end(), cur.x.begin(), cur.x.end(), std::back_inserter(points));
  points.erase(std::unique(points.begin(), points.end()), points.end());
  double d = 0;
  double w1 = 0;
  std::size_t i_ref = 0;
  std::size_t i_cur = 0;
  double f_ref = 0;
  double f_cur = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double p = points[i];
    while (i_ref < ref.x.size() && ref.x[i_ref] <= p) {
      f_ref = ref.cumulative[i_ref] / ref.total;
      ++i_ref;
    }
    while (i_cur < cur.x.size() && cur.x[i_cur] <= p) {
      f_cur = cur.cumulative[i_cur] / cur.total;
      ++i_cur;
    }
    const double gap = std::abs(f_ref - f_cur);
    d = std::max(d, gap);
    if (i + 1 < points.size()) {
      w1 += gap * (points[i + 1] - p);
    }
  }
  r.ks_d = d;
  r.ks_p = ks_p_value(d, r.n_ref, r.n_cur);
  const double sigma = sigma_ref >= 0 ? sigma_ref : ref.stddev();
  r.w1_normed = w1 / std::max(sigma, t.w1_sigma_floor);
  r.status = numeric_status(r);
  return r;
}

}  // namespace

json DriftThresholds::to_json() const {
  return json{{"psi_moderate", psi_moderate}, {"psi_major", psi_major}, {"js_moderate", js_moderate},
              {"js_major", js_major},         {"ks_alpha", ks_alpha},   {"min_n", min_n},
              {"psi_bins", psi_bins},         {"psi_epsilon", psi_epsilon}, {"w1_sigma_floor", w1_sigma_floor}};
}

bool DriftResult::ks_drift() const { return std::isfinite(ks_p) && ks_p < thresholds.ks_alpha; }

json DriftResult::to_json() const {
  return json{{"kind", kind == DriftKind::numeric ? "numeric" : "categorical"},
              {"psi", number_or_null(psi)},
              {"js", number_or_null(js)},
              {"w1_normed", number_or_null(w1_normed)},
              {"ks_d", number_or_null(ks_d)},
              {"ks_p", number_or_null(ks_p)},
              {"hellinger", number_or_null(hellinger)},
              {"chi2", number_or_null(chi2)},
              {"chi2_p", number_or_null(chi2_p)},
              {"chi2_dof", chi2_dof},
              {"n_ref", n_ref},
              {"n_cur", n_cur},
              {"status", status},
              {"thresholds", thresholds.to_json()}};
}

DriftResult drift_exact(std::span<const double> reference, std::span<const double> current,
                        const DriftThresholds& thresholds) {
  return numeric_drift(Empirical::from_values(reference), Empirical::from_values(current), thresholds, -1);
}

DriftResult drift_sketch(const KllSketch& reference, const KllSketch& current, const DriftThresholds& thresholds,
                         double reference_stddev) {
  return numeric_drift(Empirical::from_sketch(reference), Empirical::from_sketch(current), thresholds,
                       reference_stddev);
}

DriftResult drift_categorical(const std::map<std::string, std::uint64_t>& reference,
                              const std::map<std::string, std::uint64_t>& current, const DriftThresholds& t) {
  DriftResult r;
  r.kind = DriftKind::categorical;
  r.thresholds = t;
  r.w1_normed = r.ks_d = r.ks_p = k_nan;
  std::map<std::string, std::pair<double, double>> table;  // category -> (ref, cur)
  for (const auto& [category, count] : reference) {
    table[category].first += static_cast<double>(count);
    r.n_ref += count;
  }
  for (const auto& [category, count] : current) {
    table[category].second += static_cast<double>(count);
    r.n_cur += count;
  }
  if (r.n_ref == 0 || r.n_cur == 0) {
    r.psi = r.js = r.hellinger = r.chi2 = r.chi2_p = k_nan;
    r.status = "insufficient data";
    return r;
  }
  std::vector<double> ref_fractions;
  std::vector<double> cur_fractions;
  const double n_ref = static_cast<double>(r.n_ref);
  const double n_cur = static_cast<double>(r.n_cur);
  const double n = n_ref + n_cur;
  double chi2 = 0;
  int categories = 0;
  for (const auto& [category, counts] : table) {
    if (counts.first + counts.second <= 0) {
      continue;
    }
    ++categories;
    ref_fractions.push_back(counts.first / n_ref);
    cur_fractions.push_back(counts.second / n_cur);
    // 2 × C homogeneity table: expected = row total × column total / N.
    const double column = counts.first + counts.second;
    const double e_ref = n_ref * column / n;
    const double e_cur = n_cur * column / n;
    chi2 += (counts.first - e_ref) * (counts.first - e_ref) / e_ref;
    chi2 += (counts.second - e_cur) * (counts.second - e_cur) / e_cur;
  }
  r.psi = psi(ref_fractions, cur_fractions, t.psi_epsilon);
  r.js = js_distance(ref_fractions, cur_fractions);
  r.hellinger = hellinger(ref_fractions, cur_fractions);
  r.chi2_dof = std::max(categories - 1, 0);
  r.chi2 = r.chi2_dof > 0 ? chi2 : 0.0;
  r.chi2_p = r.chi2_dof > 0 ? chi2_sf(r.chi2, r.chi2_dof) : 1.0;
  if (r.n_ref < t.min_n || r.n_cur < t.min_n) {
    r.status = "insufficient data";
  } else if (r.js >= t.js_major) {
    r.status = "major";
  } else if (r.js >= t.js_moderate) {
    r.status = "moderate";
  } else {
    r.status = "stable";
  }
  return r;
}

double psi(std::span<const double> ref_fractions, std::span<const double> cur_fractions, double epsilon) {
  if (ref_fractions.size() != cur_fractions.size()) {
    throw Error::usage("psi: the two distributions have different numbers of bins");
  }
  double sum = 0;
  for (std::size_t i = 0; i < ref_fractions.size(); ++i) {
    const double e = ref_fractions[i] > 0 ? ref_fractions[i] : epsilon;
    const double a = cur_fractions[i] > 0 ? cur_fractions[i] : epsilon;
    sum += (a - e) * std::log(a / e);
  }
  return sum;
}

double js_distance(std::span<const double> p_in, std::span<const double> q_in) {
  if (p_in.size() != q_in.size()) {
    throw Error::usage("js_distance: the two distributions have different lengths");
  }
  const auto p = normalised(p_in);
  const auto q = normalised(q_in);
  double divergence = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) {
      divergence += 0.5 * p[i] * std::log2(p[i] / m);
    }
    if (q[i] > 0) {
      divergence += 0.5 * q[i] * std::log2(q[i] / m);
    }
  }
  return std::sqrt(std::max(divergence, 0.0));
}

double hellinger(std::span<const double> p_in, std::span<const double> q_in) {
  if (p_in.size() != q_in.size()) {
    throw Error::usage("hellinger: the two distributions have different lengths");
  }
  const auto p = normalised(p_in);
  const auto q = normalised(q_in);
  double sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double d = std::sqrt(p[i]) - std::sqrt(q[i]);
    sum += d * d;
  }
  return std::sqrt(sum) / std::sqrt(2.0);
}

double kolmogorov_q(double lambda) {
  if (!(lambda > 0)) {
    return 1.0;
  }
  if (lambda < 1.18) {
    // The theta-function form converges fast here, where the alternating series does not:
    // P(K ≤ λ) = √(2π)/λ Σ_{k≥1} exp(−(2k−1)²π²/(8λ²)).
    const double factor = std::sqrt(2.0 * M_PI) / lambda;
    const double w = M_PI * M_PI / (8.0 * lambda * lambda);
    double cdf = 0;
    for (int k = 1; k <= 20; ++k) {
      const double odd = 2.0 * k - 1.0;
      cdf += std::exp(-odd * odd * w);
    }
    return std::clamp(1.0 - factor * cdf, 0.0, 1.0);
  }
  double sum = 0;
  for (int k = 1; k <= 100; ++k) {
    const double term = std::exp(-2.0 * k * k * lambda * lambda);
    sum += (k % 2 == 1 ? term : -term);
    if (term < 1e-17) {
      break;
    }
  }
  return std::clamp(2.0 * sum, 0.0, 1.0);
}

double ks_p_value(double d, std::uint64_t n_ref, std::uint64_t n_cur) {
  if (n_ref == 0 || n_cur == 0 || !std::isfinite(d)) {
    return k_nan;
  }
  const double n = static_cast<double>(n_ref);
  const double m = static_cast<double>(n_cur);
  const double ne = n * m / (n + m);
  const double root = std::sqrt(ne);
  return kolmogorov_q((root + 0.12 + 0.11 / root) * d);
}

double chi2_sf(double statistic, int dof) {
  if (dof <= 0) {
    return 1.0;
  }
  if (!(statistic > 0)) {
    return 1.0;
  }
  return boost::math::gamma_q(0.5 * dof, 0.5 * statistic);
}

}  // namespace aiot::lineage
