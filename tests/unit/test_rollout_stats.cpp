// Numerics of the rollout gates against values computed independently of this code.
//
// Where a number came from Python (standard library only), the script is quoted next to it.
// The Python normal quantile used for references is NOT AS241 (which stats.cpp implements):
//   import math
//   def Phi(x): return 0.5*math.erfc(-x/math.sqrt(2))
//   def qnorm(p):                      # bisection on Phi, then 3 Newton steps
//       lo, hi = -40.0, 40.0
//       for _ in range(200):
//           mid = (lo+hi)/2
//           lo, hi = (mid, hi) if Phi(mid) < p else (lo, mid)
//       x = (lo+hi)/2
//       for _ in range(3): x -= (Phi(x)-p)/(math.exp(-x*x/2)/math.sqrt(2*math.pi))
//       return x
//   def wilson(x, n, z):               # rollouts.md §4.4, written out again
//       p = x/n; d = 1+z*z/n; c = (p+z*z/(2*n))/d
//       h = z/d*math.sqrt(p*(1-p)/n+z*z/(4*n*n)); return (c-h, c+h)
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/rollout/stats.hpp"

using namespace aiot;
using namespace aiot::rollout;

namespace {
constexpr double k_z975 = 1.959963984540054;  // Φ⁻¹(0.975), published value
}

TEST_CASE("normal quantile matches published percentage points") {
  // Published values (e.g. R qnorm, Abramowitz & Stegun 26.2), confirmed by qnorm() above:
  //   qnorm(0.975) = 1.9599639845400532, qnorm(0.95) = 1.6448536269514726,
  //   qnorm(0.999) = 3.090232306167797,  qnorm(1e-6) = -4.7534243088229
  CHECK(normal_quantile(0.5) == 0.0);
  CHECK(normal_quantile(0.975) == doctest::Approx(1.959963984540054).epsilon(1e-13));
  CHECK(std::fabs(normal_quantile(0.975) - 1.959963984540054) < 1e-12);
  CHECK(std::fabs(normal_quantile(0.95) - 1.6448536269514722) < 1e-12);
  CHECK(std::fabs(normal_quantile(0.999) - 3.090232306167813) < 1e-11);
  CHECK(std::fabs(normal_quantile(1e-6) - (-4.753424308822899)) < 1e-11);
  // Symmetry Φ⁻¹(1−p) = −Φ⁻¹(p), and the far tail region (r > 5 in AS241).
  CHECK(normal_quantile(0.025) == doctest::Approx(-k_z975).epsilon(1e-14));
  CHECK(normal_quantile(1e-20) == doctest::Approx(-9.262340089798408).epsilon(1e-12));
  CHECK(std::isinf(normal_quantile(0.0)));
  CHECK(normal_quantile(0.0) < 0);
  CHECK(std::isinf(normal_quantile(1.0)));
  CHECK_THROWS_AS(normal_quantile(1.5), Error);
  CHECK_THROWS_AS(normal_quantile(std::nan("")), Error);
}

TEST_CASE("normal CDF and quantile round trip") {
  CHECK(normal_cdf(0.0) == 0.5);
  CHECK(normal_cdf(k_z975) == doctest::Approx(0.975).epsilon(1e-15));
  CHECK(normal_sf(k_z975) == doctest::Approx(0.025).epsilon(1e-14));
  for (double p : {1e-12, 1e-6, 0.001, 0.025, 0.07, 0.075, 0.3, 0.5, 0.8, 0.925, 0.93, 0.999, 1 - 1e-9}) {
    CAPTURE(p);
    const double x = normal_quantile(p);
    // Relative error of the round trip, in the tail measured on the smaller probability.
    if (p < 0.5) {
      CHECK(std::fabs(normal_cdf(x) - p) / p < 1e-9);
    } else {
      CHECK(std::fabs(normal_sf(x) - (1 - p)) / (1 - p) < 1e-9);
    }
  }
  // Upper tail only to x = 4: Φ(6) = 1 − 1e-9 keeps just 7 significant digits of 1 − Φ in a
  // double, a limit of the representation, not of the quantile.
  for (double x : {-8.0, -3.0, -0.5, 0.25, 2.0, 4.0}) {
    CAPTURE(x);
    CHECK(normal_quantile(normal_cdf(x)) == doctest::Approx(x).epsilon(1e-9));
  }
}

TEST_CASE("percentile, median, mean") {
  const std::vector<double> v{7, 1, 3, 5};  // sorted 1 3 5 7
  CHECK(median(v) == 4.0);                  // h = 1.5 → 3 + 0.5·(5−3)
  CHECK(mean(v) == 4.0);
  CHECK(percentile(v, 0.0) == 1.0);
  CHECK(percentile(v, 1.0) == 7.0);
  // p95, type 7: h = 3·0.95 = 2.85 → 5 + 0.85·(7−5) = 6.7
  CHECK(percentile(v, 0.95) == doctest::Approx(6.7).epsilon(1e-15));
  const std::vector<double> one{42};
  CHECK(percentile(one, 0.95) == 42.0);
  const std::vector<double> none;
  CHECK_THROWS_AS(median(none), Error);
  CHECK_THROWS_AS(percentile(v, 1.5), Error);
}

TEST_CASE("Wilson score interval at z = 1.96") {
  // Closed forms used as the independent check:
  //   x = 0: lower = 0, upper = z²/(n + z²);  x = n: lower = n/(n + z²), upper = 1.
  //   0/10:  3.8416/13.8416 = 0.2775401687666166
  //   10/10: 10/13.8416     = 0.7224598312333834
  // The others from wilson() above:
  //   5/10   → (0.23658959361548731, 0.7634104063845126)
  //   1/100  → (0.001767386565547261, 0.0544875247609346)
  //   15/100 → (0.09305903191162296, 0.23283733332157835)
  const double z = 1.96;
  Interval w = wilson_interval(0, 10, z);
  CHECK(w.lower == 0.0);
  CHECK(std::fabs(w.upper - 3.8416 / 13.8416) < 1e-9);
  CHECK(std::fabs(w.upper - 0.2775401687666166) < 1e-9);

  w = wilson_interval(5, 10, z);
  CHECK(std::fabs(w.lower - 0.23658959361548731) < 1e-9);
  CHECK(std::fabs(w.upper - 0.7634104063845126) < 1e-9);
  CHECK(w.lower + w.upper == doctest::Approx(1.0).epsilon(1e-15));  // symmetric around ½

  w = wilson_interval(10, 10, z);
  CHECK(std::fabs(w.lower - 10.0 / 13.8416) < 1e-9);
  CHECK(w.upper == 1.0);

  w = wilson_interval(1, 100, z);
  CHECK(std::fabs(w.lower - 0.001767386565547261) < 1e-9);
  CHECK(std::fabs(w.upper - 0.0544875247609346) < 1e-9);

  w = wilson_interval(15, 100, z);
  CHECK(std::fabs(w.lower - 0.09305903191162296) < 1e-9);
  CHECK(std::fabs(w.upper - 0.23283733332157835) < 1e-9);

  w = wilson_interval(0, 0, z);  // no devices: no information
  CHECK(w.lower == 0.0);
  CHECK(w.upper == 1.0);
  CHECK_THROWS_AS(wilson_interval(11, 10, z), Error);
  CHECK_THROWS_AS(wilson_interval(-1, 10, z), Error);
}

TEST_CASE("Newcombe hybrid score interval") {
  SUBCASE("the reference's worked example: 4/100 canary vs 4/400 baseline at 95%") {
    // newcombe(4,100,4,400, qnorm(0.975)) with wilson() above and
    //   L = d - sqrt((pc-lc)**2 + (ub-pb)**2), U = d + sqrt((uc-pc)**2 + (pb-lb)**2)
    // → (0.03, 0.0011858772545601665, 0.08868905701119316), i.e. Δ = +3 pp, [+0.12, +8.87] pp;
    // the reference rounds the upper end to +8.9 pp.
    const DifferenceInterval d = newcombe_interval(4, 100, 4, 400, k_z975);
    CHECK(d.estimate == doctest::Approx(0.03).epsilon(1e-15));
    CHECK(std::fabs(d.lower - 0.0011858772545601665) < 1e-9);
    CHECK(std::fabs(d.upper - 0.08868905701119316) < 1e-9);
    CHECK(std::round(d.lower * 10000) / 100 == 0.12);  // pp, 2 decimals
    CHECK(std::round(d.upper * 1000) / 10 == 8.9);     // pp, 1 decimal
  }
  SUBCASE("Newcombe (1998) Table II example (a): 56/70 vs 48/80, method 10") {
    // Published: 0.0524 to 0.3339. Computed: (0.05243147240236498, 0.3338726540369059).
    const DifferenceInterval d = newcombe_interval(56, 70, 48, 80, k_z975);
    CHECK(d.estimate == doctest::Approx(0.2).epsilon(1e-14));
    CHECK(std::fabs(d.lower - 0.05243147240236498) < 1e-9);
    CHECK(std::fabs(d.upper - 0.3338726540369059) < 1e-9);
    CHECK(std::round(d.lower * 10000) / 10000 == 0.0524);
    CHECK(std::round(d.upper * 10000) / 10000 == 0.3339);
  }
  CHECK_THROWS_AS(newcombe_interval(0, 0, 1, 10, k_z975), Error);
}

TEST_CASE("Mann-Whitney U with ties, by hand") {
  // canary c = {2, 3, 3, 5}, baseline b = {1, 2, 3}; pooled sorted: 1 2 2 3 3 3 5
  // ranks: 1→1, the two 2s→2.5, the three 3s→5, 5→7.
  // R_c = 2.5 + 5 + 5 + 7 = 19.5; U_c = 19.5 − 4·5/2 = 9.5.
  // Check by counting pairs (c > b: 1, tie: ½): c=2: 1 + ½ = 1.5; c=3: 2 + ½ = 2.5 (twice);
  // c=5: 3. Sum 9.5 ✓.  μ = 4·3/2 = 6.
  // Tie groups t = 2 (value 2) and 3 (value 3): Σ(t³ − t) = 6 + 24 = 30; N = 7.
  // σ² = 12/12 · (8 − 30/42) = 51/7 = 7.285714285714286.
  // Continuity-corrected z = (9.5 − 6 − 0.5)/√(51/7) = 1.1114378604524227,
  //   p_two = 2·(1 − Φ(z)) = 0.2663799233424826, p_greater = 1 − Φ(3/σ) = 0.1331899616712413,
  //   p_less = Φ((3.5 + 0.5)/σ) = 0.9308188290598747.
  // Without correction: z = 3.5/σ = 1.2966775038611598, p_two = 0.19474217283959172.
  const std::vector<double> c{2, 3, 3, 5};
  const std::vector<double> b{1, 2, 3};
  const MannWhitney mw = mann_whitney(c, b);
  CHECK(mw.m == 4);
  CHECK(mw.n == 3);
  CHECK(mw.u == 9.5);
  CHECK(mw.mean == 6.0);
  CHECK(mw.tie_term == 30.0);
  CHECK(mw.sd * mw.sd == doctest::Approx(51.0 / 7.0).epsilon(1e-14));
  CHECK(std::fabs(mw.z - 1.1114378604524227) < 1e-12);
  CHECK(std::fabs(mw.p_two_sided - 0.2663799233424826) < 1e-12);
  CHECK(std::fabs(mw.p_greater - 0.1331899616712413) < 1e-12);
  CHECK(std::fabs(mw.p_less - 0.9308188290598747) < 1e-12);

  const MannWhitney raw = mann_whitney(c, b, /*continuity=*/false);
  CHECK(std::fabs(raw.z - 1.2966775038611598) < 1e-12);
  CHECK(std::fabs(raw.p_two_sided - 0.19474217283959172) < 1e-12);

  // Swapping the arms mirrors U (U_b = mn − U_c = 2.5) and the one-sided p-values.
  const MannWhitney swapped = mann_whitney(b, c);
  CHECK(swapped.u == 2.5);
  CHECK(swapped.z == doctest::Approx(-mw.z).epsilon(1e-14));
  CHECK(swapped.p_less == doctest::Approx(mw.p_greater).epsilon(1e-14));

  // All values tied: σ = 0, nothing to test.
  const std::vector<double> same{1, 1, 1};
  const MannWhitney flat = mann_whitney(same, same);
  CHECK(flat.sd == 0.0);
  CHECK(flat.p_two_sided == 1.0);
}

TEST_CASE("Hodges-Lehmann shift and interval") {
  SUBCASE("c = {1,2,3}, b = {0,1}: too small for a 95% interval") {
    // Differences c_i − b_j: 1−0=1, 1−1=0, 2−0=2, 2−1=1, 3−0=3, 3−1=2 → sorted 0 1 1 2 2 3.
    // mn = 6 (even): median = (D(3) + D(4))/2 = (1 + 2)/2 = 1.5.
    // k = ⌊6/2 − 1.96·√(6·6/12)⌋ = ⌊3 − 3.3947⌋ = −1 < 0: no finite 95% interval.
    const std::vector<double> c{1, 2, 3};
    const std::vector<double> b{0, 1};
    const ShiftEstimate hl = hodges_lehmann(c, b, k_z975);
    CHECK(hl.estimate == 1.5);
    CHECK(hl.pairs == 6);
    CHECK(hl.k == -1);
    CHECK_FALSE(hl.attainable);
    CHECK(std::isinf(hl.lower));
    CHECK(std::isinf(hl.upper));
    // At z = 0.5: k = ⌊3 − 0.866⌋ = 2 → [D(3), D(4)] = [1, 2] (1-based).
    const ShiftEstimate narrow = hodges_lehmann(c, b, 0.5);
    CHECK(narrow.k == 2);
    CHECK(narrow.lower == 1.0);
    CHECK(narrow.upper == 2.0);
  }
  SUBCASE("c_i = i + 5, b_j = j for i, j = 1..10") {
    // c_i − b_j = 5 + (i − j); d = i − j takes value d in 10 − |d| pairs.
    // Cumulative count up to d: −9:1, −8:3, −7:6, −6:10, −5:15, −4:21, −3:28, …, −1:45, 0:55.
    // Median = mean of D(50), D(51), both at d = 0 → 5.
    // k = ⌊50 − 1.959964·√(100·21/12)⌋ = ⌊50 − 25.93⌋ = 24 → [D(25), D(76)]:
    // D(25) is in d = −3 (positions 22..28) → 2; D(76) mirrors in d = +3 (73..79) → 8.
    std::vector<double> c;
    std::vector<double> b;
    for (int i = 1; i <= 10; ++i) {
      c.push_back(i + 5);
      b.push_back(i);
    }
    const ShiftEstimate hl = hodges_lehmann(c, b, k_z975);
    CHECK(hl.estimate == 5.0);
    CHECK(hl.k == 24);
    CHECK(hl.lower == 2.0);
    CHECK(hl.upper == 8.0);
    CHECK(hl.pairs == 100);
  }
  SUBCASE("exact at any size: every order statistic equals a brute-force sort") {
    // 1001 × 1001 = 1,002,001 pairs with c_i = b_i + 5: every difference is 5 + (i − j), so the
    // median is 5 and the values are heavily tied (2001 distinct values). k from the formula:
    // mn/2 − 1.959964·√(mn·2003/12) = 501000.5 − 1.959964·12932.4 = 475653.18 → k = 475653.
    std::vector<double> c;
    std::vector<double> b;
    for (int i = 0; i < 1001; ++i) {
      b.push_back(i);
      c.push_back(i + 5);
    }
    const ShiftEstimate hl = hodges_lehmann(c, b, k_z975);
    CHECK(hl.pairs == 1'002'001);
    CHECK(hl.estimate == 5.0);
    CHECK(hl.k == 475653);
    std::vector<double> all;
    for (double x : c)
      for (double y : b) all.push_back(x - y);
    std::sort(all.begin(), all.end());
    CHECK(hl.lower == all[static_cast<std::size_t>(hl.k)]);
    CHECK(hl.upper == all[all.size() - 1 - static_cast<std::size_t>(hl.k)]);
    // By counting: i − j = t in 1001 − |t| pairs; the cumulative count first passes k = 475653 at
    // t = −26 and mn − k − 1 at t = +26, so the interval is 5 ∓ 26.
    CHECK(hl.lower == -21.0);
    CHECK(hl.upper == 31.0);
  }
  SUBCASE("exact on continuous, unsorted, unequal samples against brute force") {
    // Irrational steps: no ties, so bisection has to narrow down to single differences.
    std::vector<double> c;
    std::vector<double> b;
    for (int i = 0; i < 700; ++i) c.push_back(std::fmod(i * 0.6180339887498949, 1.0) * 40.0 + 3.0);
    for (int j = 0; j < 523; ++j) b.push_back(std::fmod(j * 0.4142135623730951, 1.0) * 25.0);
    const ShiftEstimate hl = hodges_lehmann(c, b, 1.0);
    std::vector<double> all;
    for (double x : c)
      for (double y : b) all.push_back(x - y);
    std::sort(all.begin(), all.end());
    const std::size_t mn = all.size();
    CHECK(hl.estimate == (all[(mn - 1) / 2] + all[mn / 2]) / 2.0);
    CHECK(hl.lower == all[static_cast<std::size_t>(hl.k)]);
    CHECK(hl.upper == all[mn - 1 - static_cast<std::size_t>(hl.k)]);
    // Many small random samples, tied (integers 0..4, halves) or not, against brute force at three z.
    std::uint64_t state = 12345;
    auto next = [&state] {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
    };
    for (int trial = 0; trial < 300; ++trial) {
      const int mm = 1 + static_cast<int>(next() * 40);
      const int nn = 1 + static_cast<int>(next() * 40);
      const int kind = trial % 3;
      auto draw = [&] {
        const double u = next();
        return kind == 0 ? std::floor(u * 5) : kind == 1 ? std::floor(u * 40) / 2 : u * 100 - 50;
      };
      std::vector<double> x(mm), y(nn);
      for (auto& v : x) v = draw();
      for (auto& v : y) v = draw();
      std::vector<double> d;
      for (double xi : x)
        for (double yj : y) d.push_back(xi - yj);
      std::sort(d.begin(), d.end());
      for (double zz : {0.0, 1.0, k_z975}) {
        const ShiftEstimate e = hodges_lehmann(x, y, zz);
        CHECK(e.estimate == (d[(d.size() - 1) / 2] + d[d.size() / 2]) / 2.0);
        if (e.attainable) {
          CHECK(e.lower == d[static_cast<std::size_t>(e.k)]);
          CHECK(e.upper == d[d.size() - 1 - static_cast<std::size_t>(e.k)]);
        }
      }
    }
    // One side of a single value, the other all equal: every difference is the same number.
    const std::vector<double> one{2.5};
    const std::vector<double> same(50, 1.0);
    const ShiftEstimate flat = hodges_lehmann(one, same, 0.0);
    CHECK(flat.estimate == 1.5);
    CHECK(flat.lower == 1.5);
    CHECK(flat.upper == 1.5);
  }
  const std::vector<double> empty;
  const std::vector<double> some{1.0};
  CHECK_THROWS_AS(hodges_lehmann(empty, some, k_z975), Error);
}

TEST_CASE("Bonferroni split of alpha over looks") {
  CHECK(bonferroni_alpha(0.05, 1) == 0.05);
  CHECK(bonferroni_alpha(0.05, 4) == 0.0125);
  CHECK_THROWS_AS(bonferroni_alpha(0.05, 0), Error);
  CHECK_THROWS_AS(bonferroni_alpha(1.5, 2), Error);
}

TEST_CASE("power helpers for plan") {
  SUBCASE("zero-failure demonstration") {
    // ln(0.05)/ln(0.99) = 298.07285221322263 → 299 devices (the reference's number).
    CHECK(zero_failure_sample_size(0.01, 0.05) == 299);
    // ln(0.25)/ln(0.5) = 2 exactly: no rounding up to 3.
    CHECK(zero_failure_sample_size(0.5, 0.25) == 2);
  }
  SUBCASE("minimum detectable failure rate is the inverse") {
    // 1 − 0.05^(1/50) = 0.058155079116972264; 1 − 0.05^(1/299) = 0.009969146792899286 (< 1%).
    CHECK(std::fabs(min_detectable_failure_rate(50, 0.05) - 0.058155079116972264) < 1e-12);
    CHECK(std::fabs(min_detectable_failure_rate(299, 0.05) - 0.009969146792899286) < 1e-12);
    CHECK(min_detectable_failure_rate(299, 0.05) <= 0.01);
    CHECK(min_detectable_failure_rate(298, 0.05) > 0.01);
    CHECK(zero_failure_sample_size(min_detectable_failure_rate(50, 0.05), 0.05) == 50);
  }
  SUBCASE("two proportions 1% → 3%, one-sided α = 0.05, power 0.8") {
    // z_α = 1.6448536269514722, z_β = 0.8416212335729143, p̄ = 0.02, Δ = 0.02.
    //   pooled   (z_α+z_β)²·2·p̄q̄/Δ²                      = 605.8906087379373 → 606
    //   unpooled (z_α+z_β)²·(p1q1+p2q2)/Δ²                 = 602.7993301219274 → 603
    //   fleiss   (z_α√(2p̄q̄) + z_β√(p1q1+p2q2))²/Δ²        = 604.8433885865411 → 605
    // The reference's "≈ 603 per arm" is the unpooled formula; the pooled formula the gates'
    // brief asks for gives 606.
    CHECK(two_proportion_sample_size(0.01, 0.03, 0.05, 0.8) == 606);
    CHECK(two_proportion_sample_size(0.01, 0.03, 0.05, 0.8, VarianceModel::pooled) == 606);
    CHECK(two_proportion_sample_size(0.01, 0.03, 0.05, 0.8, VarianceModel::unpooled) == 603);
    CHECK(two_proportion_sample_size(0.01, 0.03, 0.05, 0.8, VarianceModel::fleiss) == 605);
    CHECK_THROWS_AS(two_proportion_sample_size(0.01, 0.01, 0.05, 0.8), Error);
  }
  SUBCASE("Mann-Whitney for a 0.5 SD shift") {
    // 2·(1.6448536269514722 + 0.8416212335729143)²/0.25/(3/π) = 51.79487034803132 → 52
    // (with 0.955 instead of 3/π: 51.79105534676244 → also 52).
    CHECK(mann_whitney_sample_size(0.5, 0.05, 0.8) == 52);
    CHECK_THROWS_AS(mann_whitney_sample_size(0.0, 0.05, 0.8), Error);
  }
}
