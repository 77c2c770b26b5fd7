// Report metrics: intervals, bias audit, performance and decay, against hand-computed values.
// The worked numbers in the comments come from the formulas in docs/report-metrics.md.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>

#include "aiot/core/error.hpp"
#include "aiot/report/metrics.hpp"

using namespace aiot::report;
using doctest::Approx;

namespace {

std::chrono::system_clock::time_point day(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days{std::chrono::year{y} / m / d};
}

// `n` decisions in `group`: `selected` with ŷ = 1; labels optional.
void add(std::vector<Decision>& out, const std::string& group, int n, int selected) {
  for (int i = 0; i < n; ++i) {
    out.push_back({group, i < selected, std::nullopt});
  }
}

// Labelled decisions: tp, fn (positives) and fp, tn (negatives).
void add_labelled(std::vector<Decision>& out, const std::string& group, int tp, int fn, int fp, int tn) {
  for (int i = 0; i < tp; ++i) out.push_back({group, true, true});
  for (int i = 0; i < fn; ++i) out.push_back({group, false, true});
  for (int i = 0; i < fp; ++i) out.push_back({group, true, false});
  for (int i = 0; i < tn; ++i) out.push_back({group, false, false});
}

const GroupBias& group(const BiasAudit& a, const std::string& name) {
  for (const auto& g : a.groups) {
    if (g.group == name) {
      return g;
    }
  }
  FAIL("no group " << name);
  return a.groups.front();
}

bool finite_or_missing(const Stat& s) {
  if (!s.value) {
    return !s.missing.empty();
  }
  return std::isfinite(*s.value) && s.missing.empty();
}

}  // namespace

TEST_CASE("Stat never carries a non-finite number") {
  CHECK_FALSE(Stat::of(std::nan("")).has_value());
  CHECK_FALSE(Stat::of(INFINITY).missing.empty());
  CHECK(*Stat::of(0.25).value == 0.25);
  CHECK(Stat::none("").missing == "insufficient data");
}

TEST_CASE("iso_week") {
  CHECK(iso_week(day(2026, 11, 26)) == "2026-W48");  // 2026-01-01 is a Thursday: W01 starts 2025-12-29
  CHECK(iso_week(day(2026, 11, 16)) == "2026-W47");  // Monday
  CHECK(iso_week(day(2026, 11, 22) + std::chrono::hours(23)) == "2026-W47");  // Sunday night
  CHECK(iso_week(day(2027, 1, 1)) == "2026-W53");    // Friday: its Thursday is in 2026
  CHECK(iso_week(day(2024, 12, 30)) == "2025-W01");  // Monday: its Thursday is 2025-01-02
  CHECK(iso_week(day(2021, 1, 3)) == "2020-W53");
}

TEST_CASE("Wilson score interval") {
  // 8/10 at 95 %: p̂ = 0.8, z²/n = 0.38415, centre = (0.8 + 0.19207)/1.38415 = 0.71674,
  // half = 1.95996/1.38415·√(0.016 + 0.0096037) = 0.22658 -> [0.4902, 0.9433].
  auto w = wilson(8, 10);
  CHECK(w.lower == Approx(0.4901624715).epsilon(1e-9));
  CHECK(w.upper == Approx(0.9433178485).epsilon(1e-9));
  // 0/10: the lower bound is exactly 0, the upper 0.27753 (the "rule of three" is 0.3).
  w = wilson(0, 10);
  CHECK(w.lower == 0.0);
  CHECK(w.upper == Approx(0.2775327999).epsilon(1e-9));
  w = wilson(10, 10);
  CHECK(w.lower == Approx(0.7224672001).epsilon(1e-9));
  CHECK(w.upper == Approx(1.0));
  w = wilson(0, 0);  // no information
  CHECK(w.lower == 0.0);
  CHECK(w.upper == 1.0);
  CHECK_THROWS_AS(wilson(11, 10), aiot::Error);
  CHECK_THROWS_AS(wilson(-1, 10), aiot::Error);
}

TEST_CASE("Newcombe interval for a difference of proportions") {
  // Newcombe (1998) worked example: 56/70 − 48/80 = 0.2000, 95 % CI (0.0524, 0.3339).
  auto d = newcombe(56, 70, 48, 80);
  CHECK(d.estimate == Approx(0.2));
  CHECK(d.ci.lower == Approx(0.0524).epsilon(1e-3));
  CHECK(d.ci.upper == Approx(0.3339).epsilon(1e-3));
  CHECK(d.ci.lower == Approx(0.0524314724).epsilon(1e-9));
  CHECK(d.ci.upper == Approx(0.3338726540).epsilon(1e-9));
  CHECK_THROWS_AS(newcombe(0, 0, 1, 2), aiot::Error);
}

TEST_CASE("bootstrap: deterministic, stated, and honest when not computable") {
  Groups groups{{1, 0, 1, 1, 0, 1, 0, 1, 1, 1}, {0, 0, 1, 0, 0, 1, 0, 0, 0, 1}};
  auto mean_difference = [](const Groups& g) -> std::optional<double> {
    double a = 0, b = 0;
    for (double v : g[0]) a += v;
    for (double v : g[1]) b += v;
    return a / static_cast<double>(g[0].size()) - b / static_cast<double>(g[1].size());
  };
  BootstrapOptions options;
  options.resamples = 500;
  auto first = bootstrap_ci(groups, mean_difference, options);
  auto second = bootstrap_ci(groups, mean_difference, options);
  REQUIRE(first.ci);
  CHECK(first.resamples == 500);
  CHECK(first.used == 500);
  CHECK(first.seed == k_default_bootstrap_seed);
  CHECK(first.ci->lower == second.ci->lower);  // same seed, same bits
  CHECK(first.ci->upper == second.ci->upper);
  // The point estimate 0.7 − 0.3 = 0.4 lies inside, and the interval is not degenerate.
  CHECK(first.ci->lower < 0.4);
  CHECK(first.ci->upper > 0.4);
  CHECK(first.ci->lower >= -1.0);
  CHECK(first.ci->upper <= 1.0);
  // Another seed draws other resamples (continuous values, so the percentiles differ).
  Groups continuous{{0.11, 0.52, 0.93, 0.24, 0.35, 0.86, 0.47}, {0.18, 0.29, 0.61, 0.72, 0.03}};
  auto seeded = bootstrap_ci(continuous, mean_difference, options);
  options.seed = 7;
  auto other = bootstrap_ci(continuous, mean_difference, options);
  REQUIRE(seeded.ci);
  REQUIRE(other.ci);
  CHECK((other.ci->lower != seeded.ci->lower || other.ci->upper != seeded.ci->upper));

  // Constant groups: every resample gives the same value, so the interval is that point.
  auto constant = bootstrap_ci(Groups{{1, 1, 1}, {0, 0}}, mean_difference, options);
  REQUIRE(constant.ci);
  CHECK(constant.ci->lower == 1.0);
  CHECK(constant.ci->upper == 1.0);

  // Mostly not computable: no interval rather than one from a biased subset.
  auto never = bootstrap_ci(groups, [](const Groups&) -> std::optional<double> { return std::nullopt; }, options);
  CHECK_FALSE(never.ci);
  CHECK(never.used == 0);
  BootstrapOptions bad;
  bad.resamples = 0;
  CHECK_THROWS_AS(bootstrap_ci(groups, mean_difference, bad), aiot::Error);
}

TEST_CASE("count bootstrap agrees with the observation bootstrap and scales to large groups") {
  // Group a: 30 of 50 selected, group b: 10 of 40; statistic: SR_a − SR_b = 0.6 − 0.25 = 0.35.
  Groups observations(2);
  for (int i = 0; i < 50; ++i) observations[0].push_back(i < 30 ? 1.0 : 0.0);
  for (int i = 0; i < 40; ++i) observations[1].push_back(i < 10 ? 1.0 : 0.0);
  auto from_observations = [](const Groups& g) -> std::optional<double> {
    double a = 0, b = 0;
    for (double v : g[0]) a += v;
    for (double v : g[1]) b += v;
    return a / 50.0 - b / 40.0;
  };
  auto from_counts = [](const GroupCounts& g) -> std::optional<double> {
    return static_cast<double>(g[0][1]) / static_cast<double>(g[0][0] + g[0][1]) -
           static_cast<double>(g[1][1]) / static_cast<double>(g[1][0] + g[1][1]);
  };
  BootstrapOptions o;
  o.resamples = 4000;
  auto slow = bootstrap_ci(observations, from_observations, o);
  auto fast = bootstrap_ci_counts(GroupCounts{{20, 30}, {30, 10}}, from_counts, o);
  REQUIRE(slow.ci);
  REQUIRE(fast.ci);
  // Normal-theory check: SE = √(0.6·0.4/50 + 0.25·0.75/40) = 0.0980 -> 0.35 ± 0.192; both
  // bootstraps land within Monte Carlo error of [0.158, 0.542].
  CHECK(fast.ci->lower == Approx(0.158).epsilon(0.25));
  CHECK(fast.ci->upper == Approx(0.542).epsilon(0.08));
  CHECK(std::fabs(fast.ci->lower - slow.ci->lower) < 0.04);
  CHECK(std::fabs(fast.ci->upper - slow.ci->upper) < 0.04);
  auto again = bootstrap_ci_counts(GroupCounts{{20, 30}, {30, 10}}, from_counts, o);
  CHECK(again.ci->lower == fast.ci->lower);  // deterministic

  // Sizes stay fixed in every resample, and a group with one category never moves.
  bool sizes_kept = true;
  auto constant = bootstrap_ci_counts(GroupCounts{{0, 7}, {5, 0, 0}}, [&](const GroupCounts& g) -> std::optional<double> {
    sizes_kept = sizes_kept && g[0][0] + g[0][1] == 7 && g[1][0] == 5;
    return static_cast<double>(g[0][1]);
  }, o);
  CHECK(sizes_kept);
  CHECK(constant.ci->lower == 7.0);
  CHECK(constant.ci->upper == 7.0);

  // 1.68 million decisions (10,000 devices × 168 hours) in two groups: O(categories) per resample.
  auto big = bootstrap_ci_counts(GroupCounts{{800'000, 880'000}, {1'000'000, 680'000}}, from_counts);
  REQUIRE(big.ci);
  CHECK(big.ci->lower < 0.1190476);  // 880/1680 − 680/1680
  CHECK(big.ci->upper > 0.1190476);
  CHECK(big.ci->upper - big.ci->lower < 0.01);
  CHECK_THROWS_AS(bootstrap_ci_counts(GroupCounts{{-1, 2}}, from_counts), aiot::Error);
}

TEST_CASE("bias audit without labels: selection rate, DPD, DI and the four-fifths rule") {
  // berlin 40/50 = 0.8, paris 20/40 = 0.5, tiny 3/10 (below n = 30: insufficient).
  std::vector<Decision> d;
  add(d, "berlin", 50, 40);
  add(d, "paris", 40, 20);
  add(d, "tiny", 10, 3);
  auto a = audit_bias("v1", "site", d);
  CHECK(a.model_version == "v1");
  CHECK(a.dimension == "site");
  CHECK_FALSE(a.labelled);
  REQUIRE(a.groups.size() == 3);
  CHECK(a.groups[0].group == "berlin");  // sorted by name
  CHECK(a.reference_group == "berlin");  // most favoured
  CHECK(a.reference_rule == "most favoured (highest selection rate)");
  CHECK(a.insufficient_groups == 1);

  const auto& berlin = group(a, "berlin");
  CHECK(*berlin.selection_rate.value == Approx(0.8));
  CHECK(berlin.selection_rate.ci->lower == Approx(0.6696289407).epsilon(1e-9));  // Wilson 40/50
  CHECK(berlin.selection_rate.ci->upper == Approx(0.8875624998).epsilon(1e-9));
  CHECK(*berlin.disparate_impact.value == Approx(1.0));
  CHECK_FALSE(berlin.adverse_impact);

  const auto& paris = group(a, "paris");
  CHECK(*paris.selection_rate.value == Approx(0.5));
  // DI = 0.5 / 0.8 = 0.625 < 0.8: adverse impact.
  CHECK(*paris.disparate_impact.value == Approx(0.625));
  CHECK(paris.adverse_impact);
  // SPD = 0.5 − 0.8 = −0.3; Newcombe from Wilson [0.35200, 0.64800] and [0.66963, 0.88756]:
  // L = −0.3 − √(0.148² + 0.08756²) = −0.47197, U = −0.3 + √(0.148² + 0.13037²) = −0.10276.
  CHECK(*paris.parity_difference.value == Approx(-0.3));
  CHECK(paris.parity_difference.ci->lower == Approx(-0.4719668331).epsilon(1e-9));
  CHECK(paris.parity_difference.ci->upper == Approx(-0.1027640666).epsilon(1e-9));
  CHECK(paris.tpr.missing == "no labels");

  const auto& tiny = group(a, "tiny");
  CHECK_FALSE(tiny.sufficient);
  CHECK(tiny.n == 10);
  CHECK(tiny.selected == 3);
  CHECK_FALSE(tiny.selection_rate.has_value());
  CHECK(tiny.selection_rate.missing == "insufficient data: n = 10 < 30");
  CHECK_FALSE(tiny.adverse_impact);
  CHECK(a.adverse_impact_groups == std::vector<std::string>{"paris"});

  // DPD = 0.8 − 0.5 = 0.3 (tiny excluded), DPR = 0.5/0.8 = 0.625.
  CHECK(*a.demographic_parity_difference.value == Approx(0.3));
  REQUIRE(a.demographic_parity_difference.ci);
  CHECK(a.demographic_parity_difference.ci->lower < 0.3);
  CHECK(a.demographic_parity_difference.ci->upper > 0.3);
  CHECK(*a.demographic_parity_ratio.value == Approx(0.625));
  CHECK(a.equalized_odds_difference.missing == "no labels (label-free)");
  CHECK(a.overall.n == 100);
  CHECK(*a.overall.selection_rate.value == Approx(0.63));
  CHECK(a.bootstrap_resamples == k_default_bootstrap_resamples);

  // Determinism: the same decisions give the same CIs.
  auto again = audit_bias("v1", "site", d);
  CHECK(again.demographic_parity_difference.ci->lower == a.demographic_parity_difference.ci->lower);
}

TEST_CASE("bias audit: named reference group, fallback, min group size") {
  std::vector<Decision> d;
  add(d, "berlin", 50, 40);
  add(d, "paris", 40, 20);
  add(d, "tiny", 10, 3);
  BiasOptions o;
  o.reference_group = "paris";
  auto a = audit_bias("v1", "site", d, o);
  CHECK(a.reference_group == "paris");
  CHECK(a.reference_rule == "named in policy");
  CHECK(*group(a, "berlin").disparate_impact.value == Approx(1.6));  // 0.8 / 0.5
  CHECK(a.adverse_impact_groups.empty());

  o.reference_group = "tiny";  // below the minimum: most favoured instead, and said so
  a = audit_bias("v1", "site", d, o);
  CHECK(a.reference_group == "berlin");
  CHECK(a.reference_rule.find("named group 'tiny' is below the minimum size") != std::string::npos);
  o.reference_group = "nowhere";
  a = audit_bias("v1", "site", d, o);
  CHECK(a.reference_rule.find("has no decisions") != std::string::npos);

  o.reference_group.clear();
  o.min_group_size = 5;  // configurable: tiny now counts, its DI = 0.3/0.8
  a = audit_bias("v1", "site", d, o);
  CHECK(group(a, "tiny").sufficient);
  CHECK(*group(a, "tiny").disparate_impact.value == Approx(0.375));
  CHECK(*a.demographic_parity_difference.value == Approx(0.5));
}

TEST_CASE("bias audit with labels: TPR, FPR, equalized odds") {
  // berlin: 25 positives (TP 20), 25 negatives (FP 20): TPR 0.8, FPR 0.8.
  // paris:  20 positives (TP 15), 20 negatives (FP 5):  TPR 0.75, FPR 0.25.
  // TPR spread 0.05, FPR spread 0.55 -> EOD = max = 0.55, equal opportunity difference 0.05.
  std::vector<Decision> d;
  add_labelled(d, "berlin", 20, 5, 20, 5);
  add_labelled(d, "paris", 15, 5, 5, 15);
  auto a = audit_bias("v2", "region", d);
  CHECK(a.labelled);
  const auto& berlin = group(a, "berlin");
  CHECK(berlin.positives == 25);
  CHECK(berlin.true_positives == 20);
  CHECK(*berlin.tpr.value == Approx(0.8));
  CHECK(berlin.tpr.ci->lower == Approx(0.6086904963).epsilon(1e-9));  // Wilson 20/25
  CHECK(*berlin.fpr.value == Approx(0.8));
  const auto& paris = group(a, "paris");
  CHECK(*paris.tpr.value == Approx(0.75));
  CHECK(paris.tpr.ci->upper == Approx(0.8881382986).epsilon(1e-9));  // Wilson 15/20
  CHECK(*paris.fpr.value == Approx(0.25));
  CHECK(*a.equal_opportunity_difference.value == Approx(0.05));
  CHECK(*a.equalized_odds_difference.value == Approx(0.55));
  REQUIRE(a.equalized_odds_difference.ci);
  CHECK(a.equalized_odds_difference.ci->lower <= 0.55);
  CHECK(a.equalized_odds_difference.ci->upper >= 0.55);
}

TEST_CASE("bias audit edge cases: no data, one group, all-one labels, zero rates") {
  auto empty = audit_bias("v1", "site", {});
  CHECK(empty.groups.empty());
  CHECK(empty.reference_group.empty());
  CHECK(empty.demographic_parity_difference.missing.find("insufficient data") == 0);
  CHECK(finite_or_missing(empty.overall.selection_rate));

  std::vector<Decision> one;
  add(one, "only", 40, 10);
  auto a = audit_bias("v1", "site", one);
  CHECK(a.demographic_parity_difference.missing == "insufficient data: needs two groups with n >= 30");
  CHECK(*group(a, "only").disparate_impact.value == 1.0);

  // Every label is 1: no negatives, so FPR (and EOD) are insufficient, never NaN.
  std::vector<Decision> all_positive;
  add_labelled(all_positive, "a", 30, 10, 0, 0);
  add_labelled(all_positive, "b", 20, 20, 0, 0);
  a = audit_bias("v1", "site", all_positive);
  CHECK(*group(a, "a").tpr.value == Approx(0.75));
  CHECK(group(a, "a").fpr.missing == "insufficient data: 0 labelled negatives < 10");
  CHECK_FALSE(a.equalized_odds_difference.has_value());
  CHECK(finite_or_missing(a.equalized_odds_difference));

  // Nobody selected anywhere: DI and DPR would divide by zero.
  std::vector<Decision> none;
  add(none, "a", 30, 0);
  add(none, "b", 30, 0);
  a = audit_bias("v1", "site", none);
  CHECK(*a.demographic_parity_difference.value == 0.0);
  CHECK(a.demographic_parity_ratio.missing == "every selection rate is 0");
  CHECK_FALSE(group(a, "b").disparate_impact.has_value());
  CHECK(a.adverse_impact_groups.empty());
}

TEST_CASE("bias audit by segment: one audit per version and dimension") {
  std::vector<SegmentedDecision> d;
  for (int i = 0; i < 60; ++i) {
    d.push_back({i < 40 ? "v1" : "v2", {{"site", i % 2 == 0 ? "berlin" : "paris"}, {"region", "eu"}}, i % 3 == 0, {}});
  }
  d.push_back({"v2", {}, true, {}});  // no segments: "(unknown)"
  BiasOptions o;
  o.min_group_size = 1;
  o.reference_by_dimension["site"] = "paris";
  auto audits = audit_bias_by_segment(d, {"site", "region", "site"}, o);
  REQUIRE(audits.size() == 4);
  CHECK(audits[0].model_version == "v1");
  CHECK(audits[0].dimension == "region");
  CHECK(audits[1].dimension == "site");
  CHECK(audits[1].reference_group == "paris");
  CHECK(audits[0].reference_rule == "most favoured (highest selection rate)");
  CHECK(audits[2].model_version == "v2");
  CHECK(audits[2].groups.back().group == "eu");
  CHECK(audits[2].groups.front().group == "(unknown)");
  CHECK(audits[3].groups.size() == 3);
}

TEST_CASE("performance per week with labels and a decay alert") {
  auto week = [](std::string w, int tp, int fp_fn, int tn) {
    WeekCounts c;
    c.model_version = "v1";
    c.week = std::move(w);
    c.tp = tp;
    c.fp = fp_fn / 2;
    c.fn = fp_fn - fp_fn / 2;
    c.tn = tn;
    c.predictions = tp + fp_fn + tn;
    c.predicted_positive = c.tp + c.fp;
    return c;
  };
  // F1 = 2TP/(2TP + FP + FN): W44 80/100 = 0.80, W45 82/100 = 0.82, W46 78/100 = 0.78,
  // reference mean 0.80, sample sd √((0 + 0.02² + 0.02²)/2) = 0.02, band ±3σ = [0.74, 0.86].
  // W47 70/100 = 0.70: relative drop 12.5 % > 5 % and below 0.74 -> alert.
  // W48 77/100 = 0.77: drop 3.75 %, inside the band -> no alert.
  std::vector<WeekCounts> weeks{week("2026-W44", 40, 20, 40), week("2026-W45", 41, 18, 41),
                                week("2026-W46", 39, 22, 39), week("2026-W47", 35, 30, 35),
                                week("2026-W48", 77, 46, 77)};
  // W48 has F1 = 154/200 = 0.77.
  auto p = evaluate_performance("v1", weeks, {"2026-W44", "2026-W45", "2026-W46"});
  CHECK_FALSE(p.label_free);
  CHECK(p.metric == "f1");
  REQUIRE(p.weeks.size() == 5);
  CHECK(*p.weeks[0].f1.value == Approx(0.8));
  CHECK(*p.weeks[0].accuracy.value == Approx(0.8));  // (40 + 40)/100
  CHECK(*p.weeks[0].precision.value == Approx(0.8));  // 40/(40 + 10)
  CHECK(*p.weeks[0].recall.value == Approx(0.8));
  REQUIRE(p.checks.size() == 2);
  const auto& w47 = p.checks[0];
  CHECK(w47.week == "2026-W47");
  CHECK(*w47.value.value == Approx(0.70));
  CHECK(*w47.reference_mean.value == Approx(0.80));
  CHECK(*w47.reference_sd.value == Approx(0.02));
  CHECK(*w47.relative_change.value == Approx(-0.125));
  CHECK(w47.alert);
  CHECK(w47.reason.find("relative drop 12.5 % > 5.0 %") != std::string::npos);
  CHECK(w47.reason.find("below reference mean ± 3σ") != std::string::npos);
  const auto& w48 = p.checks[1];
  CHECK(*w48.value.value == Approx(0.77));
  CHECK(*w48.relative_change.value == Approx(-0.0375));
  CHECK_FALSE(w48.alert);
  CHECK(p.alert);

  // The σ rule alone: reference 0.80, 0.81, 0.79 (sd 0.01, band [0.77, 0.83]) and 0.765:
  // drop 4.4 % < 5 % but outside the band.
  std::vector<WeekCounts> tight{week("2026-W44", 40, 20, 40), week("2026-W45", 81, 38, 81),
                                week("2026-W46", 79, 42, 79), week("2026-W47", 153, 94, 153)};
  p = evaluate_performance("v1", tight, {"2026-W44", "2026-W45", "2026-W46"});
  REQUIRE(p.checks.size() == 1);
  CHECK(*p.checks[0].value.value == Approx(0.765));
  CHECK(*p.checks[0].reference_sd.value == Approx(0.01));
  CHECK(p.checks[0].alert);
  CHECK(p.checks[0].reason.find("relative drop") == std::string::npos);
  CHECK(p.checks[0].reason.find("below reference mean") != std::string::npos);
}

TEST_CASE("performance without labels is label-free, and small weeks are insufficient") {
  std::vector<WeekCounts> weeks;
  const std::vector<std::pair<std::string, double>> confidence{
      {"2026-W45", 0.90}, {"2026-W46", 0.90}, {"2026-W47", 0.80}};
  for (const auto& [w, mean] : confidence) {
    WeekCounts c;
    c.model_version = "v3";
    c.week = w;
    for (int i = 0; i < 100; ++i) {
      add_prediction(c, i < 25, std::nullopt, mean);
    }
    weeks.push_back(c);
  }
  WeekCounts small;
  small.week = "2026-W48";
  add_prediction(small, true, std::nullopt, 0.5);
  weeks.push_back(small);
  auto p = evaluate_performance("v3", weeks, {"2026-W45", "2026-W46"});
  CHECK(p.label_free);
  CHECK(p.metric == "mean_confidence");
  CHECK(p.weeks[0].f1.missing == "no labels (label-free)");
  CHECK(*p.weeks[0].prediction_rate.value == Approx(0.25));
  REQUIRE(p.checks.size() == 2);
  // 0.80 vs 0.90: relative drop 11.1 % > 5 %; two reference weeks < 3, so no σ rule.
  CHECK(*p.checks[0].relative_change.value == Approx(-1.0 / 9.0));
  CHECK(p.checks[0].alert);
  CHECK_FALSE(p.checks[0].reference_sd.has_value());
  CHECK_FALSE(p.checks[1].alert);
  CHECK(p.checks[1].reason == "not checked: insufficient data: n = 1 < 30");
  CHECK(p.weeks[3].prediction_rate.missing == "insufficient data: n = 1 < 30");

  // Nothing at all: no weeks, no checks, no NaN.
  auto empty = evaluate_performance("v9", {}, {"2026-W45"});
  CHECK(empty.weeks.empty());
  CHECK(empty.checks.empty());
  CHECK_FALSE(empty.alert);

  // No reference data: checks say so.
  p = evaluate_performance("v3", weeks, {});
  CHECK(p.checks.size() == 4);
  CHECK(p.checks[0].reason == "not checked: no reference week with enough data");
  CHECK_FALSE(p.alert);
}

TEST_CASE("add_prediction fills the confusion matrix") {
  WeekCounts c;
  add_prediction(c, true, true, 0.9);
  add_prediction(c, true, false, std::nullopt);
  add_prediction(c, false, true, 0.4);
  add_prediction(c, false, false, std::nan(""));
  add_prediction(c, false, std::nullopt, std::nullopt);
  CHECK(c.predictions == 5);
  CHECK(c.predicted_positive == 2);
  CHECK((c.tp == 1 && c.fp == 1 && c.fn == 1 && c.tn == 1));
  CHECK(c.confidence_count == 2);
  CHECK(c.confidence_sum == Approx(1.3));
}
