// Rollout health gates (rollouts.md §4.4) on scenarios whose expected verdicts are derived in
// the comments. Reference numbers come from Python with the standard library only:
//   import math
//   def wilson(x, n, z):
//       p = x/n; d = 1+z*z/n; c = (p+z*z/(2*n))/d
//       h = z/d*math.sqrt(p*(1-p)/n+z*z/(4*n*n)); return (c-h, c+h)
//   def newcombe(xc, nc, xb, nb, z):
//       pc, pb = xc/nc, xb/nb; lc, uc = wilson(xc, nc, z); lb, ub = wilson(xb, nb, z); d = pc-pb
//       return d, d-math.sqrt((pc-lc)**2+(ub-pb)**2), d+math.sqrt((uc-pc)**2+(pb-lb)**2)
// with z_{0.95} = 1.6448536269514722, z_{0.975} = 1.959963984540054,
// z_{1-0.05/8} = 2.4977054744123715 (bisection on 0.5*erfc, see test_rollout_stats.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/rollout/gates.hpp"

using namespace aiot;
using namespace aiot::rollout;

namespace {

OutcomeParams install_gate(double failure_above, double alpha = 0.05) {
  OutcomeParams p;
  p.name = "install";
  p.success_at_least = 0.95;
  p.failure_above = failure_above;
  p.min_samples = 30;
  p.alpha = alpha;
  return p;
}

OutcomeCounts finished(std::int64_t succeeded, std::int64_t failed) {
  OutcomeCounts c;
  c.assigned = succeeded + failed;
  c.succeeded = succeeded;
  c.failed = failed;
  return c;
}

}  // namespace

TEST_CASE("outcome gate: a version failing 15% of installs is caught in a 50-device canary") {
  // s = 42, f = 8, n = 50. Confidence mode, α = 0.05, one look: z = z_{0.95} = 1.6449.
  // wilson(8, 50, 1.6448536269514722) = (0.09257809678760262, 0.262328469547061):
  // the lower bound 9.26% > failureAbove 5% → FAIL.
  const GateResult r = outcome_gate(finished(42, 8), install_gate(0.05));
  CHECK(r.verdict == Verdict::fail);
  CHECK(r.record["verdict"] == "FAIL");
  CHECK(r.record["n"] == 50);
  CHECK(r.record["f"] == 8);
  CHECK(std::fabs(r.record["z"].get<double>() - 1.6448536269514722) < 1e-12);
  CHECK(std::fabs(r.record["failure_interval"]["lower"].get<double>() - 0.09257809678760262) < 1e-9);
  CHECK(std::fabs(r.record["failure_interval"]["upper"].get<double>() - 0.262328469547061) < 1e-9);
  CHECK(r.reason.find("lower bound 9.26%") != std::string::npos);
  CHECK(r.record["critical"] == false);
  CHECK(r.record["name"] == "install");
}

TEST_CASE("outcome gate: zero failures need enough devices to PASS") {
  // Upper Wilson bound at x = 0 is z²/(n + z²).
  SUBCASE("50/50 at α = 0.05 (z = 1.6449): upper 2.7055/52.7055 = 0.05133 > 5% → INCONCLUSIVE") {
    const GateResult r = outcome_gate(finished(50, 0), install_gate(0.05));
    CHECK(r.verdict == Verdict::inconclusive);
    CHECK(std::fabs(r.record["failure_interval"]["upper"].get<double>() - 0.05133318578627012) < 1e-9);
    CHECK(r.record["failure_interval"]["lower"] == 0.0);
    CHECK(r.reason.find("upper bound") != std::string::npos);
  }
  SUBCASE("50/50 at α = 0.025 (z = 1.96): upper 3.8415/53.8415 = 0.0713 > 5% → INCONCLUSIVE") {
    const GateResult r = outcome_gate(finished(50, 0), install_gate(0.05, 0.025));
    CHECK(r.verdict == Verdict::inconclusive);
    CHECK(std::fabs(r.record["failure_interval"]["upper"].get<double>() - 0.07134759913335871) < 1e-9);
  }
  SUBCASE("100/100: upper 0.02634 (z = 1.6449) or 0.03699 (z = 1.96) <= 5% → PASS") {
    GateResult r = outcome_gate(finished(100, 0), install_gate(0.05));
    CHECK(r.verdict == Verdict::pass);
    CHECK(std::fabs(r.record["failure_interval"]["upper"].get<double>() - 0.02634272078317432) < 1e-9);
    r = outcome_gate(finished(100, 0), install_gate(0.05, 0.025));
    CHECK(r.verdict == Verdict::pass);
    CHECK(std::fabs(r.record["failure_interval"]["upper"].get<double>() - 0.03699349820698568) < 1e-9);
  }
}

TEST_CASE("outcome gate: maxFailedCount trips before minSamples") {
  // 10 finished devices, minSamples 30: no statistical verdict yet, but 3 failures reach the
  // count limit of 3.
  OutcomeParams p = install_gate(0.05);
  p.max_failed_count = 3;
  OutcomeCounts c = finished(7, 3);
  c.assigned = 50;
  c.in_progress = 40;
  GateResult r = outcome_gate(c, p);
  CHECK(r.verdict == Verdict::fail);
  CHECK(r.reason.find("maxFailedCount 3") != std::string::npos);

  // Two failures and one time-out: the time-out counts by default (f = 3) ...
  c = OutcomeCounts{};
  c.assigned = 50;
  c.succeeded = 7;
  c.failed = 2;
  c.timed_out = 1;
  c.in_progress = 40;
  CHECK(outcome_gate(c, p).verdict == Verdict::fail);
  // ... and not when timeoutCountsAsFailure is false (f = 2): only 9 finished < 30.
  p.timeout_counts_as_failure = false;
  r = outcome_gate(c, p);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.record["f"] == 2);
  CHECK(r.reason.find("minSamples") != std::string::npos);
}

TEST_CASE("outcome gate: canceled and skipped devices leave the denominator") {
  // 110 assigned, 5 canceled, 5 skipped, 100 succeeded: n = 100, s/n = 100% → PASS.
  // Counting them would give 100/110 = 90.9% < successAtLeast 95%.
  OutcomeCounts c;
  c.assigned = 110;
  c.canceled = 5;
  c.skipped = 5;
  c.succeeded = 100;
  const GateResult r = outcome_gate(c, install_gate(0.05));
  CHECK(r.verdict == Verdict::pass);
  CHECK(r.record["n"] == 100);
  CHECK(r.record["success_rate"] == 1.0);
}

TEST_CASE("outcome gate: devices still in progress hold the success rate down") {
  // 100 assigned, 90 succeeded, 10 in progress: s/n = 90% < 95% → INCONCLUSIVE (not FAIL:
  // 0 failures).
  OutcomeCounts c;
  c.assigned = 100;
  c.succeeded = 90;
  c.in_progress = 10;
  const GateResult r = outcome_gate(c, install_gate(0.05));
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.reason.find("successAtLeast") != std::string::npos);
}

TEST_CASE("outcome gate: point mode vs confidence mode") {
  // 50 assigned, 45 succeeded, 3 failed, 2 in progress. failureAbove 5%.
  // point: f/n = 3/50 = 6% > 5% → FAIL (hawkBit-style).
  // confidence: wilson(3, 48, 1.6449) = (0.02525, 0.14644): lower 2.5% <= 5% (no FAIL),
  // upper 14.6% > 5% (no PASS) → INCONCLUSIVE.
  OutcomeCounts c;
  c.assigned = 50;
  c.succeeded = 45;
  c.failed = 3;
  c.in_progress = 2;
  OutcomeParams p = install_gate(0.05);
  const GateResult conf = outcome_gate(c, p);
  CHECK(conf.verdict == Verdict::inconclusive);
  CHECK(std::fabs(conf.record["failure_interval"]["lower"].get<double>() - 0.025252112488450967) < 1e-9);
  p.mode = OutcomeMode::point;
  const GateResult point = outcome_gate(c, p);
  CHECK(point.verdict == Verdict::fail);
  CHECK(point.record["failure_rate"] == doctest::Approx(0.06));
  CHECK_FALSE(point.record.contains("failure_interval"));
}

TEST_CASE("outcome gate: looks split alpha (Bonferroni)") {
  // 4 looks: α' = 0.0125, z = z_{0.9875}; still FAIL for 8/50 (the bound only moves down a bit).
  OutcomeParams p = install_gate(0.05);
  p.looks = 4;
  const GateResult r = outcome_gate(finished(42, 8), p);
  CHECK(r.record["alpha_prime"] == 0.0125);
  CHECK(r.record["z"].get<double>() > 2.24);
  CHECK(r.record["z"].get<double>() < 2.25);
  CHECK(r.verdict == Verdict::fail);
}

TEST_CASE("outcome gate: bad input") {
  OutcomeCounts c = finished(10, 0);
  c.canceled = 1;  // 11 accounted for, 10 assigned
  CHECK_THROWS_AS(outcome_gate(c, install_gate(0.05)), Error);
  OutcomeParams p = install_gate(1.5);
  CHECK_THROWS_AS(outcome_gate(finished(10, 0), p), Error);
  p = install_gate(0.05);
  p.looks = 0;
  CHECK_THROWS_AS(outcome_gate(finished(10, 0), p), Error);
  // No devices at all: INCONCLUSIVE, not an error.
  CHECK(outcome_gate(OutcomeCounts{}, install_gate(0.05)).verdict == Verdict::inconclusive);
}

// ---- threshold ------------------------------------------------------------------------

namespace {

ThresholdParams confidence_floor() {
  ThresholdParams p;
  p.name = "confidence-floor";
  p.aggregate = Aggregate::median;
  p.success_condition = ">= 0.80";
  p.failure_condition = "< 0.60";
  p.failure_limit = 1;
  p.consecutive_success = 3;
  return p;
}

// One look whose median is `v` (three devices: v − 0.01, v, v + 0.01).
ThresholdLook look(double v) { return ThresholdLook{{v - 0.01, v, v + 0.01}, false}; }
ThresholdLook error_look() { return ThresholdLook{{}, true}; }
ThresholdLook empty_look() { return ThresholdLook{{}, false}; }

}  // namespace

TEST_CASE("conditions and aggregates parse") {
  Condition c = parse_condition(">= 0.80");
  CHECK(c.op == CompareOp::ge);
  CHECK(c.threshold == 0.8);
  CHECK(c.holds(0.8));
  CHECK_FALSE(c.holds(0.79));
  c = parse_condition("<0.6");
  CHECK(c.op == CompareOp::lt);
  CHECK(c.holds(0.59));
  CHECK_FALSE(c.holds(0.6));
  CHECK(parse_condition("  != -3e2 ").threshold == -300.0);
  CHECK(parse_condition("== +1").holds(1.0));
  CHECK(parse_condition("> 5").op == CompareOp::gt);
  CHECK(parse_condition("<= 5").op == CompareOp::le);
  for (const char* bad : {"", "0.8", "=> 0.8", ">=", ">= abc", ">= 0.8x", "~ 1", ">= inf"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_condition(bad), Error);
  }
  try {
    parse_condition("=> 0.8");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::usage);
    CHECK(e.message().find("\"=> 0.8\"") != std::string::npos);
  }

  CHECK(parse_aggregate("p95") == Aggregate::p95);
  CHECK_THROWS_AS(parse_aggregate("p99"), Error);
  const std::vector<double> v{10, 2, 4, 8, 6};  // sorted 2 4 6 8 10
  CHECK(aggregate_values(v, Aggregate::median) == 6.0);
  CHECK(aggregate_values(v, Aggregate::mean) == 6.0);
  CHECK(aggregate_values(v, Aggregate::min) == 2.0);
  CHECK(aggregate_values(v, Aggregate::max) == 10.0);
  // p95, type 7: h = 4·0.95 = 3.8 → 8 + 0.8·(10 − 8) = 9.6
  CHECK(aggregate_values(v, Aggregate::p95) == doctest::Approx(9.6).epsilon(1e-15));
}

TEST_CASE("threshold look: Argo evaluateResult semantics") {
  ThresholdParams p = confidence_floor();
  CHECK(evaluate_look(look(0.85), p).result == LookResult::successful);
  CHECK(evaluate_look(look(0.55), p).result == LookResult::failed);
  CHECK(evaluate_look(look(0.70), p).result == LookResult::inconclusive);  // neither holds
  CHECK(evaluate_look(error_look(), p).result == LookResult::error);
  CHECK(evaluate_look(empty_look(), p).result == LookResult::no_data);
  const LookEvaluation e = evaluate_look(look(0.85), p);
  REQUIRE(e.value);
  CHECK(*e.value == doctest::Approx(0.85));
  CHECK(e.n == 3);

  // Both conditions hold: the failure condition wins.
  p.success_condition = ">= 0.5";
  p.failure_condition = "< 0.7";
  CHECK(evaluate_look(look(0.6), p).result == LookResult::failed);
  // Only a success condition: not holding is a failure.
  p.failure_condition.clear();
  CHECK(evaluate_look(look(0.4), p).result == LookResult::failed);
  // Only a failure condition: not holding is a success.
  p.success_condition.clear();
  p.failure_condition = "< 0.7";
  CHECK(evaluate_look(look(0.9), p).result == LookResult::successful);
  // Neither: every measurement succeeds.
  p.failure_condition.clear();
  CHECK(evaluate_look(look(0.1), p).result == LookResult::successful);
  // Non-finite values are dropped and counted; too few devices is no data.
  p = confidence_floor();
  p.min_samples = 3;
  const LookEvaluation nan_look = evaluate_look(ThresholdLook{{0.9, std::nan(""), 0.9}, false}, p);
  CHECK(nan_look.result == LookResult::no_data);
  CHECK(nan_look.dropped == 1);
  CHECK(nan_look.n == 2);
}

TEST_CASE("threshold gate: consecutive successes") {
  const ThresholdParams p = confidence_floor();
  // Two successful looks of the three needed: still evaluating.
  std::vector<ThresholdLook> looks{look(0.85), look(0.9)};
  GateResult r = threshold_gate(looks, p);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.reason.rfind("waiting", 0) == 0);
  CHECK(r.record["state"] == "waiting");
  // The third makes it PASS.
  looks.push_back(look(0.82));
  r = threshold_gate(looks, p);
  CHECK(r.verdict == Verdict::pass);
  CHECK(r.record["consecutive_successes"] == 3);
  CHECK(r.record["looks"].size() == 3);
  CHECK(r.record["looks"][2]["result"] == "Successful");
  // A failed look in between restarts the streak (1 failed look is within failureLimit 1).
  looks = {look(0.85), look(0.9), look(0.5), look(0.85), look(0.9)};
  r = threshold_gate(looks, p);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.record["state"] == "waiting");
  CHECK(r.record["counts"]["failed"] == 1);
  looks.push_back(look(0.95));
  CHECK(threshold_gate(looks, p).verdict == Verdict::pass);
  // Looks without data neither count nor break the streak.
  looks = {look(0.85), empty_look(), look(0.9), empty_look(), look(0.81)};
  r = threshold_gate(looks, p);
  CHECK(r.verdict == Verdict::pass);
  CHECK(r.record["counts"]["no_data"] == 2);
  // No looks yet: waiting.
  CHECK(threshold_gate(std::vector<ThresholdLook>{}, p).record["state"] == "waiting");
}

TEST_CASE("threshold gate: failureLimit counts failed looks cumulatively") {
  const ThresholdParams p = confidence_floor();  // failureLimit 1: the second failed look fails
  std::vector<ThresholdLook> looks{look(0.5), look(0.9), look(0.9), look(0.9)};
  CHECK(threshold_gate(looks, p).verdict == Verdict::pass);  // 1 failed ≤ 1, then 3 successes
  looks.push_back(look(0.55));
  const GateResult r = threshold_gate(looks, p);
  CHECK(r.verdict == Verdict::fail);
  CHECK(r.record["state"] == "failed");
  CHECK(r.reason.find("2 failed looks > failureLimit 1") != std::string::npos);
}

TEST_CASE("threshold gate: inconclusiveLimit") {
  ThresholdParams p = confidence_floor();  // inconclusiveLimit 0 (Argo default)
  std::vector<ThresholdLook> looks{look(0.9), look(0.7)};
  GateResult r = threshold_gate(looks, p);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.record["state"] == "inconclusive");
  p.inconclusive_limit = 1;
  r = threshold_gate(looks, p);
  CHECK(r.record["state"] == "waiting");
  looks.push_back(look(0.65));
  CHECK(threshold_gate(looks, p).record["state"] == "inconclusive");
}

TEST_CASE("threshold gate: consecutive query errors") {
  const ThresholdParams p = confidence_floor();  // consecutiveErrorLimit 4: the 5th errors
  std::vector<ThresholdLook> looks{look(0.9), error_look(), error_look(), error_look(), error_look()};
  GateResult r = threshold_gate(looks, p);
  CHECK_FALSE(r.errored);
  CHECK(r.record["state"] == "waiting");
  looks.push_back(error_look());
  r = threshold_gate(looks, p);
  CHECK(r.errored);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.record["state"] == "error");
  // A measured look resets the run.
  looks.push_back(look(0.9));
  CHECK_FALSE(threshold_gate(looks, p).errored);
}

TEST_CASE("threshold gate: dryRun never fails the wave") {
  ThresholdParams p = confidence_floor();
  p.dry_run = true;
  const std::vector<ThresholdLook> looks{look(0.5), look(0.5)};
  const GateResult r = threshold_gate(looks, p);
  CHECK(r.verdict == Verdict::fail);  // recorded as it is ...
  CHECK(r.dry_run);
  CHECK(r.record["dry_run"] == true);
  CHECK(effective_verdict(r) == Verdict::pass);  // ... but the wave does not act on it
  p.dry_run = false;
  CHECK(effective_verdict(threshold_gate(looks, p)) == Verdict::fail);
}

TEST_CASE("threshold gate: a bad condition is a usage error even without looks") {
  ThresholdParams p = confidence_floor();
  p.success_condition = "at least 0.8";
  CHECK_THROWS_AS(threshold_gate(std::vector<ThresholdLook>{}, p), Error);
}

// ---- proportion-vs-baseline -----------------------------------------------------------

TEST_CASE("proportion gate: the reference's worked example") {
  // newcombe(4, 100, 4, 400, 1.959963984540054) = (0.03, 0.0011858772545601665, 0.08868905701119316)
  ProportionParams p;
  p.name = "crash-free";
  p.critical = true;
  p.min_samples_canary = 100;
  p.min_samples_baseline = 100;
  const ProportionCounts counts{4, 100, 4, 400};

  p.max_increase = 0.0;  // L = +0.12pp > 0 → FAIL
  GateResult r = proportion_gate(counts, p);
  CHECK(r.verdict == Verdict::fail);
  CHECK(r.critical);
  CHECK(r.record["critical"] == true);
  CHECK(std::fabs(r.record["interval"]["lower"].get<double>() - 0.0011858772545601665) < 1e-9);
  CHECK(std::fabs(r.record["interval"]["upper"].get<double>() - 0.08868905701119316) < 1e-9);
  CHECK(std::fabs(r.record["z"].get<double>() - 1.959963984540054) < 1e-12);
  CHECK(r.record["p_canary"] == 0.04);

  p.max_increase = 0.005;  // L = 0.12pp ≤ 0.5pp < U = 8.87pp → INCONCLUSIVE
  r = proportion_gate(counts, p);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.reason.find("more devices") != std::string::npos);

  // Four looks: α' = 0.0125, z = 2.4977054744123715,
  // newcombe(4,100,4,400, z) = (0.03, -0.00529149372169558, 0.11193610878933952): L < 0,
  // so even maxIncrease 0 no longer fails at this look.
  p.max_increase = 0.0;
  p.looks = 4;
  r = proportion_gate(counts, p);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(std::fabs(r.record["z"].get<double>() - 2.4977054744123715) < 1e-12);
  CHECK(std::fabs(r.record["interval"]["lower"].get<double>() - (-0.00529149372169558)) < 1e-9);
}

TEST_CASE("proportion gate: PASS needs the interval under maxIncrease and the samples") {
  // newcombe(10, 1000, 10, 1000, z_{0.975}) = (0, -0.009478079601516937, 0.009478079601516937)
  ProportionParams p;
  p.max_increase = 0.01;  // U = 0.948pp ≤ 1pp → PASS
  GateResult r = proportion_gate({10, 1000, 10, 1000}, p);
  CHECK(r.verdict == Verdict::pass);
  CHECK(std::fabs(r.record["interval"]["upper"].get<double>() - 0.009478079601516937) < 1e-9);
  p.max_increase = 0.009;  // U > 0.9pp → INCONCLUSIVE
  CHECK(proportion_gate({10, 1000, 10, 1000}, p).verdict == Verdict::inconclusive);

  // 0/50 vs 0/50: U = wilson upper(0, 50) = 0.0713 ≤ 10%, but 50 < minSamples 100 per arm.
  p.max_increase = 0.10;
  r = proportion_gate({0, 50, 0, 50}, p);
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.reason.find("needs 100 canary") != std::string::npos);
  p.min_samples_canary = 50;
  p.min_samples_baseline = 50;
  CHECK(proportion_gate({0, 50, 0, 50}, p).verdict == Verdict::pass);

  // No devices on one side.
  CHECK(proportion_gate({0, 0, 1, 100}, p).verdict == Verdict::inconclusive);
  CHECK_THROWS_AS(proportion_gate({5, 4, 0, 10}, p), Error);
}

// ---- distribution-vs-baseline ---------------------------------------------------------

namespace {

// Baseline b_j = 100 + j, j = 0..39 (median 119.5, band at 10% = 11.95); canary c_i = b_i + shift.
std::vector<double> baseline_values() {
  std::vector<double> b;
  for (int j = 0; j < 40; ++j) {
    b.push_back(100.0 + j);
  }
  return b;
}

std::vector<double> shifted(double shift) {
  std::vector<double> c = baseline_values();
  for (double& v : c) {
    v += shift;
  }
  return c;
}

DistributionParams latency_gate(Direction direction) {
  DistributionParams p;
  p.name = "latency";
  p.direction = direction;
  p.tolerance = 0.10;
  p.alpha = 0.05;
  p.min_samples = 30;
  return p;
}

}  // namespace

TEST_CASE("distribution gate: shifted vs unshifted per-device values") {
  // Differences c_i − b_j = shift + (i − j), i, j = 0..39; d = i − j occurs 40 − |d| times.
  // m = n = 40, mn = 1600: k = ⌊800 − 1.959964·√(1600·81/12)⌋ = ⌊800 − 203.69⌋ = 596.
  // #{d ≤ −t} = (40−t)(41−t)/2: t = 6 → 595, t = 5 → 630, so D(597) (= D(k+1)) has d = −5 and
  // by symmetry D(1004) (= D(mn−k)) has d = +5: interval [shift − 5, shift + 5], estimate = shift.
  const std::vector<double> b = baseline_values();
  SUBCASE("30 ms slower: CI [25, 35] > band 11.95 → FAIL") {
    const std::vector<double> c = shifted(30);
    const GateResult r = distribution_gate(c, b, latency_gate(Direction::increase));
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.record["shift"]["estimate"] == 30.0);
    CHECK(r.record["shift"]["k"] == 596);
    CHECK(r.record["shift"]["interval"]["lower"] == 25.0);
    CHECK(r.record["shift"]["interval"]["upper"] == 35.0);
    CHECK(r.record["band"].get<double>() == doctest::Approx(11.95));
    CHECK(r.record["median_baseline"] == 119.5);
    // U_c: c_i > b_j iff i − j > −30, i.e. all pairs but those with d = −30..−39
    // (10 + 9 + … + 1 = 55): 1545; ties c_i = b_j at d = −30 (10 pairs, ½ each) add 5 →
    // U = 1550. The one-sided p-value in the harmful direction is tiny.
    CHECK(r.record["mann_whitney"]["u"] == 1550.0);
    CHECK(r.record["mann_whitney"]["p_direction"].get<double>() < 1e-6);
    CHECK(r.record["inputs"]["canary_values"].size() == 40);
    // Faster is fine when only an increase is harmful: lo = 25 ≥ −11.95 → PASS for decrease.
    CHECK(distribution_gate(c, b, latency_gate(Direction::decrease)).verdict == Verdict::pass);
    // either: the increase side fails → FAIL.
    CHECK(distribution_gate(c, b, latency_gate(Direction::either)).verdict == Verdict::fail);
  }
  SUBCASE("unshifted: CI [−5, 5] within ±11.95 → PASS in every direction") {
    const std::vector<double> c = shifted(0);
    const GateResult r = distribution_gate(c, b, latency_gate(Direction::increase));
    CHECK(r.verdict == Verdict::pass);
    CHECK(r.record["shift"]["interval"]["lower"] == -5.0);
    CHECK(r.record["shift"]["interval"]["upper"] == 5.0);
    CHECK(r.record["mann_whitney"]["u"] == 800.0);  // identical samples: U = mn/2
    CHECK(r.record["mann_whitney"]["p_two_sided"] == 1.0);
    CHECK(distribution_gate(c, b, latency_gate(Direction::decrease)).verdict == Verdict::pass);
    CHECK(distribution_gate(c, b, latency_gate(Direction::either)).verdict == Verdict::pass);
  }
  SUBCASE("30 lower: decrease FAILs (hi = −25 < −11.95), increase PASSes") {
    const std::vector<double> c = shifted(-30);
    CHECK(distribution_gate(c, b, latency_gate(Direction::decrease)).verdict == Verdict::fail);
    CHECK(distribution_gate(c, b, latency_gate(Direction::increase)).verdict == Verdict::pass);
    CHECK(distribution_gate(c, b, latency_gate(Direction::either)).verdict == Verdict::fail);
  }
  SUBCASE("a shift of 10, inside the band but the interval [5, 15] reaches past it → INCONCLUSIVE") {
    const std::vector<double> c = shifted(10);
    const GateResult r = distribution_gate(c, b, latency_gate(Direction::increase));
    CHECK(r.verdict == Verdict::inconclusive);
    CHECK(r.record["shift"]["interval"]["upper"] == 15.0);
  }
}

TEST_CASE("distribution gate: too few devices") {
  // 20 devices per arm < minSamples 30: an unshifted sample cannot PASS ...
  std::vector<double> b;
  std::vector<double> c;
  for (int j = 0; j < 20; ++j) {
    b.push_back(100.0 + j);
    c.push_back(100.0 + j);
  }
  GateResult r = distribution_gate(c, b, latency_gate(Direction::increase));
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(r.reason.find("needs 30 devices per arm") != std::string::npos);
  // ... but a gross regression still FAILs (the brief: FAIL does not wait for minSamples).
  for (double& v : c) {
    v += 100.0;
  }
  CHECK(distribution_gate(c, b, latency_gate(Direction::increase)).verdict == Verdict::fail);
  // No values: INCONCLUSIVE; NaN readings are dropped and counted.
  const std::vector<double> none;
  CHECK(distribution_gate(none, b, latency_gate(Direction::increase)).verdict == Verdict::inconclusive);
  const std::vector<double> with_nan{std::nan(""), 101.0};
  r = distribution_gate(with_nan, b, latency_gate(Direction::increase));
  CHECK(r.record["inputs"]["dropped_non_finite_canary"] == 1);
  CHECK(r.record["inputs"]["m"] == 1);
  // k < 0 for 1 × 20 at 95%: unbounded interval, written as null.
  CHECK(r.record["shift"]["attainable"] == false);
  CHECK(r.record["shift"]["interval"]["lower"].is_null());
  CHECK(r.verdict == Verdict::inconclusive);
  CHECK(parse_direction("either") == Direction::either);
  CHECK_THROWS_AS(parse_direction("up"), Error);
}

TEST_CASE("threshold gate: looks folded into a carry decide as the whole history") {
  // A long bake keeps only the latest looks in the hub record; the folded counts must give the
  // same verdict and counts as replaying every look. Conditions: success >= 0.8, failure < 0.6.
  ThresholdParams p;
  p.name = "confidence";
  p.success_condition = ">= 0.8";
  p.failure_condition = "< 0.6";
  p.failure_limit = 2;
  p.inconclusive_limit = 100;
  p.consecutive_success = 3;
  auto look = [](double v) { return ThresholdLook{{v, v, v}, false}; };
  // 168 hourly looks: every 50th failed (3 failures > failureLimit 2), the rest between (inconclusive)
  // or successful.
  std::vector<ThresholdLook> all;
  for (int i = 0; i < 168; ++i) all.push_back(look(i % 50 == 7 ? 0.5 : (i % 3 == 0 ? 0.7 : 0.9)));
  auto whole = threshold_gate(all, p);
  for (std::size_t kept : {std::size_t{1}, std::size_t{12}, std::size_t{100}}) {
    ThresholdCarry carry;
    for (std::size_t i = 0; i + kept < all.size(); ++i) carry = fold_look(carry, all[i], p);
    std::vector<ThresholdLook> tail(all.end() - static_cast<long>(kept), all.end());
    auto folded = threshold_gate(tail, p, carry);
    CHECK(folded.verdict == whole.verdict);
    CHECK(folded.record["counts"] == whole.record["counts"]);
    CHECK(folded.record["looks"].size() == kept);
    CHECK(folded.record["looks"][0]["index"] == static_cast<std::int64_t>(168 - kept));
    CHECK(ThresholdCarry::from_json(carry.to_json()).failed == carry.failed);
  }
  CHECK(whole.verdict == Verdict::fail);  // 4 failed looks (i = 7, 57, 107, 157) > 2
  // A success streak that starts in the folded part continues into the kept looks.
  std::vector<ThresholdLook> good(5, look(0.9));
  ThresholdCarry c2 = fold_look(fold_look(ThresholdCarry{}, good[0], p), good[1], p);
  CHECK(c2.consecutive_successes == 2);
  CHECK(threshold_gate(std::span(good).subspan(2, 1), p, c2).verdict == Verdict::pass);  // 3 in a row
  CHECK(threshold_gate(std::span(good).subspan(2, 1), p).verdict == Verdict::inconclusive);  // 1 alone
}
