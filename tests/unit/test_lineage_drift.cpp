// Drift metrics against values worked out independently of this code.
//
// numpy/scipy are not installed here, so the expected numbers come from the formulas of
// lineage-governance.md §3.2 written out again in Python's standard library (/tmp script, quoted):
//   def psi(e,a,eps=1e-4): return sum(((ai or eps)-(ei or eps))*math.log((ai or eps)/(ei or eps)) for ei,ai in zip(e,a))
//   def js(p,q): m=[(a+b)/2 for a,b in zip(p,q)]
//       return math.sqrt(sum(.5*a*math.log2(a/c) for a,c in zip(p,m) if a) + sum(.5*b*math.log2(b/c) for b,c in zip(q,m) if b))
//   def hel(p,q): return math.sqrt(sum((math.sqrt(a)-math.sqrt(b))**2 for a,b in zip(p,q)))/math.sqrt(2)
//   def Q(l): return 2*sum((-1)**(k-1)*math.exp(-2*k*k*l*l) for k in range(1,1000))   # plain series
//   def ksp(d,n,m): ne=n*m/(n+m); r=math.sqrt(ne); return Q((r+0.12+0.11/r)*d)
//   χ² with 3 dof: sf(x) = erfc(sqrt(x/2)) + sqrt(2x/π)·exp(−x/2)
// The bins, KS D and W1 of the small examples are worked by hand in the comments.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiot/core/error.hpp"
#include "aiot/lineage/drift.hpp"

using namespace aiot;
using namespace aiot::lineage;

namespace {

std::vector<double> range(int from, int to) {
  std::vector<double> v;
  for (int i = from; i <= to; ++i) {
    v.push_back(i);
  }
  return v;
}

std::vector<double> normal_sample(std::size_t n, double mean, double sd, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) {
    const double u1 = std::max(u(rng), 1e-300);
    v.push_back(mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u(rng)));
  }
  return v;
}

}  // namespace

TEST_CASE("numeric drift of 1..100 against 11..110 (a shift of 10)") {
  // Reference deciles (lower quantiles) of 1..100: 10, 20, ..., 90, so every reference bin holds
  // 0.1. 11..110 puts 0 in (-inf, 10], 0.1 in each middle bin and 0.2 in (90, +inf).
  // PSI = (1e-4 − 0.1)·ln(1e-4/0.1) + (0.2 − 0.1)·ln 2 = 0.759399470...
  // D = 0.1 (e.g. at x = 10), n_e = 50, λ = 0.72066, p = Q_KS(λ) = 0.676620...
  // W1 = 10 (a pure shift), σ_ref = sqrt((100² − 1)/12) = 28.86607..., so W1/σ = 0.346427...
  const auto ref = range(1, 100);
  const auto cur = range(11, 110);
  const auto r = drift_exact(ref, cur);
  CHECK(r.kind == DriftKind::numeric);
  CHECK(r.n_ref == 100);
  CHECK(r.n_cur == 100);
  CHECK(r.psi == doctest::Approx(0.75939947042631).epsilon(1e-9));
  CHECK(r.js == doctest::Approx(0.249510771093808).epsilon(1e-9));
  CHECK(r.hellinger == doctest::Approx(0.242030253816936).epsilon(1e-9));
  CHECK(r.ks_d == doctest::Approx(0.1));
  CHECK(r.ks_p == doctest::Approx(0.676620149700246).epsilon(1e-9));
  CHECK(r.w1_normed == doctest::Approx(0.346427483320997).epsilon(1e-9));
  CHECK(r.status == "major");
  CHECK_FALSE(r.ks_drift());
  CHECK(std::isnan(r.chi2));

  const auto j = r.to_json();
  CHECK(j["status"] == "major");
  CHECK(j["chi2"].is_null());
  CHECK(j["thresholds"]["psi_bins"] == 10);
  CHECK(j["thresholds"]["psi_epsilon"] == 1e-4);
}

TEST_CASE("numeric drift with ties: equal decile cut points merge bins") {
  // ref: fifty 1s and fifty 2s: deciles 1,1,1,1,1,2,2,2,2 → cuts {1, 2}, bins (-inf,1], (1,2], (2,inf)
  // with fractions 0.5, 0.5, 0. cur: thirty 1s, fifty 2s, twenty 3s → 0.3, 0.5, 0.2.
  // PSI = (0.3−0.5)·ln(0.6) + (0.2−1e-4)·ln(0.2/1e-4) = 1.62158552641566.
  // D = 0.2 at x = 1 and x = 2; W1 = 0.2·1 + 0.2·1 = 0.4; σ_ref = 0.5 → W1/σ = 0.8.
  std::vector<double> ref(50, 1.0);
  ref.insert(ref.end(), 50, 2.0);
  std::vector<double> cur(30, 1.0);
  cur.insert(cur.end(), 50, 2.0);
  cur.insert(cur.end(), 20, 3.0);
  const auto r = drift_exact(ref, cur);
  CHECK(r.psi == doctest::Approx(1.62158552641566).epsilon(1e-9));
  CHECK(r.js == doctest::Approx(0.343840659070468).epsilon(1e-9));
  CHECK(r.hellinger == doctest::Approx(0.335710687019729).epsilon(1e-9));
  CHECK(r.ks_d == doctest::Approx(0.2));
  CHECK(r.ks_p == doctest::Approx(0.0313766521530725).epsilon(1e-9));
  CHECK(r.ks_drift());
  CHECK(r.w1_normed == doctest::Approx(0.8));
}

TEST_CASE("no drift, small windows and empty windows") {
  const auto same = range(1, 200);
  const auto r = drift_exact(same, same);
  CHECK(r.psi == doctest::Approx(0.0));
  CHECK(r.js == doctest::Approx(0.0));
  CHECK(r.ks_d == 0.0);
  CHECK(r.ks_p == doctest::Approx(1.0));
  CHECK(r.w1_normed == 0.0);
  CHECK(r.status == "stable");

  // Fewer than 100 values: metrics computed, status says not to trust them.
  const auto small = drift_exact(range(1, 50), range(30, 79));
  CHECK(small.status == "insufficient data");
  CHECK(small.psi > 0.25);

  const std::vector<double> none;
  const auto empty = drift_exact(none, same);
  CHECK(empty.status == "insufficient data");
  CHECK(std::isnan(empty.psi));
  CHECK(empty.to_json()["psi"].is_null());

  // A constant reference: σ_ref = 0 is floored at 0.001, W1 = 1 → 1000.
  const std::vector<double> constant(100, 5.0);
  const std::vector<double> constant_up(100, 6.0);
  CHECK(drift_exact(constant, constant_up).w1_normed == doctest::Approx(1000.0));

  // A modest shift lands in the moderate band: 1..1000 vs 41..1040 moves 4 % of the mass out of
  // the first decile bin and into the last: PSI = 2·(0.04)·... ≈ 0.1 — assert the band, computed:
  // (0.06−0.1)·ln(0.6) + (0.14−0.1)·ln(1.4) = 0.0204 + 0.0135 = 0.0339 → stable; 1..1000 vs
  // 101..1100 gives (1e-4−0.1)·ln(1e-3) + (0.2−0.1)·ln 2 = 0.6901 + 0.0693 → major.
  CHECK(drift_exact(range(1, 1000), range(41, 1040)).psi == doctest::Approx(0.0339).epsilon(0.01));
  CHECK(drift_exact(range(1, 1000), range(41, 1040)).status == "stable");
}

TEST_CASE("the pieces: Q_KS, KS p-values, χ² tail, PSI epsilon") {
  CHECK(kolmogorov_q(0.5) == doctest::Approx(0.963945243664875).epsilon(1e-10));
  CHECK(kolmogorov_q(1.0) == doctest::Approx(0.269999671677355).epsilon(1e-10));
  CHECK(kolmogorov_q(1.36) == doctest::Approx(0.0494858767553779).epsilon(1e-10));
  CHECK(kolmogorov_q(2.0) == doctest::Approx(0.000670925255779695).epsilon(1e-10));
  CHECK(kolmogorov_q(0.0) == 1.0);
  CHECK(kolmogorov_q(0.1) == doctest::Approx(1.0));
  CHECK(ks_p_value(0.1, 100, 100) == doctest::Approx(0.676620149700246).epsilon(1e-10));
  CHECK(std::isnan(ks_p_value(0.1, 0, 100)));

  // χ² survival: 1 dof at 3.841458820694124 is 0.05; 2 dof: exp(−x/2).
  CHECK(chi2_sf(3.841458820694124, 1) == doctest::Approx(0.05).epsilon(1e-9));
  CHECK(chi2_sf(4.0, 2) == doctest::Approx(std::exp(-2.0)).epsilon(1e-12));
  CHECK(chi2_sf(0.0, 3) == 1.0);

  const double a[] = {0.5, 0.5};
  const double b[] = {1.0, 0.0};
  // Zero becomes 1e-4: (1−0.5)·ln(2) + (1e-4−0.5)·ln(1e-4/0.5).
  CHECK(psi(a, b) == doctest::Approx(0.5 * std::log(2.0) + (1e-4 - 0.5) * std::log(1e-4 / 0.5)));
  // Disjoint supports: JS distance base 2 and Hellinger are both exactly 1.
  const double c[] = {1.0, 0.0};
  const double d[] = {0.0, 1.0};
  CHECK(js_distance(c, d) == doctest::Approx(1.0));
  CHECK(hellinger(c, d) == doctest::Approx(1.0));
  const double three[] = {0.2, 0.3, 0.5};
  CHECK_THROWS_AS(psi(a, three), Error);
}

TEST_CASE("categorical drift: JS, χ² and PSI over the union of categories") {
  // ref a:50 b:30 c:20, cur a:40 b:30 c:20 d:10 → 2×4 table, dof 3, χ² = 11.1111..., p = 0.01113998...
  const std::map<std::string, std::uint64_t> ref{{"a", 50}, {"b", 30}, {"c", 20}};
  const std::map<std::string, std::uint64_t> cur{{"a", 40}, {"b", 30}, {"c", 20}, {"d", 10}};
  const auto r = drift_categorical(ref, cur);
  CHECK(r.kind == DriftKind::categorical);
  CHECK(r.chi2 == doctest::Approx(11.1111111111111).epsilon(1e-9));
  CHECK(r.chi2_dof == 3);
  CHECK(r.chi2_p == doctest::Approx(0.0111399806416677).epsilon(1e-8));
  CHECK(r.psi == doctest::Approx(0.712399107501737).epsilon(1e-9));
  CHECK(r.js == doctest::Approx(0.232412936543558).epsilon(1e-9));
  CHECK(r.hellinger == doctest::Approx(0.229752920547361).epsilon(1e-9));
  CHECK(r.status == "moderate");  // JS 0.232: ≥ 0.1, < 0.25
  CHECK(std::isnan(r.ks_d));
  CHECK(r.to_json()["ks_d"].is_null());
  CHECK(r.to_json()["kind"] == "categorical");

  const auto same = drift_categorical(ref, ref);
  CHECK(same.chi2 == doctest::Approx(0.0));
  CHECK(same.chi2_p == doctest::Approx(1.0));
  CHECK(same.status == "stable");
  CHECK(drift_categorical({}, cur).status == "insufficient data");
}

TEST_CASE("sketch drift agrees with exact drift on large windows") {
  // KLL at k = 200 has rank error ε ≤ 1.65 %; each F is off by at most ε, so |D_sketch − D_exact|
  // ≤ 2ε. PSI and W1 have no closed-form bound: the tolerances below are margins over what these
  // seeds give (PSI within 0.02 + 5 %, W1/σ within 0.03 + 10 %: the sketch's own noise is about
  // 0.015 σ when the windows do not differ).
  for (const double shift : {0.0, 0.1, 0.3, 1.0}) {
    CAPTURE(shift);
    const auto ref = normal_sample(60000, 20.0, 2.0, 5);
    const auto cur = normal_sample(40000, 20.0 + shift * 2.0, 2.0, 6);
    KllSketch ref_sketch;
    KllSketch cur_sketch;
    for (double x : ref) {
      ref_sketch.update(x);
    }
    for (double x : cur) {
      cur_sketch.update(x);
    }
    const auto exact = drift_exact(ref, cur);
    const auto approx = drift_sketch(ref_sketch, cur_sketch);
    CHECK(approx.n_ref == 60000);
    CHECK(approx.n_cur == 40000);
    CHECK(std::abs(approx.ks_d - exact.ks_d) <= 2 * ref_sketch.normalized_rank_error());
    CHECK(std::abs(approx.psi - exact.psi) <= 0.02 + 0.05 * exact.psi);
    CHECK(std::abs(approx.w1_normed - exact.w1_normed) <= 0.03 + 0.10 * exact.w1_normed);
    CHECK(approx.status == exact.status);
    // With the exact σ from the profile's Moments the normaliser is the same as exact.
    Moments m;
    for (double x : ref) {
      m.update(x);
    }
    const auto with_sigma = drift_sketch(ref_sketch, cur_sketch, {}, m.stddev());
    CHECK(std::abs(with_sigma.w1_normed - exact.w1_normed) <= 0.03 + 0.10 * exact.w1_normed);
  }
  // A shift of one σ is major drift by PSI; none is stable.
  KllSketch a;
  KllSketch b;
  for (double x : normal_sample(20000, 0, 1, 1)) {
    a.update(x);
  }
  for (double x : normal_sample(20000, 1.0, 1, 2)) {
    b.update(x);
  }
  CHECK(drift_sketch(a, b).status == "major");
  CHECK(drift_sketch(a, a).status == "stable");
  CHECK(drift_sketch(a, KllSketch()).status == "insufficient data");
}
