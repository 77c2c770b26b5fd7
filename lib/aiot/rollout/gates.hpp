#pragma once
// Health gates of a rollout wave (rollouts.md §4.4, issue 5 "Gates"). Each gate is a pure
// function from what the devices reported (counts, per-device values, the history of looks)
// and the gate's parameters to a three-valued verdict, plus a JSON record of every input and
// intermediate so `rollout history` can show why. No clock, no hub, no I/O: the controller
// gathers the inputs and decides what a verdict does (critical gates, onInconclusive, ...).
//
// Conventions shared by every gate:
// - Fractions are fractions (0.05, not 5 or "5%"): the spec parser converts "5%" and "0.5pp".
// - α is split over the planned looks of the wave: α' = α / looks (Bonferroni).
// - Invalid parameters throw aiot::Error::usage naming the parameter.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiot/rollout/stats.hpp"

namespace aiot::rollout {

enum class Verdict { pass, fail, inconclusive };

// "PASS", "FAIL", "INCONCLUSIVE" (the spelling of -o json and the journal).
const char* to_string(Verdict verdict);

struct GateResult {
  Verdict verdict = Verdict::inconclusive;
  std::string reason;     // one line for people: "failure rate lower bound 9.1% > 5% (n=50)"
  bool critical = false;  // copied from the params; acting on it is the controller's job
  bool dry_run = false;   // the verdict is recorded but must not change the wave (Argo dryRun)
  bool errored = false;   // threshold gate: consecutive query errors past the limit (Argo Error)
  nlohmann::json record;  // every input, parameter and intermediate; always has "verdict", "reason"
};

// The verdict the wave acts on: a dry-run gate never fails or holds a wave, so PASS.
Verdict effective_verdict(const GateResult& result);

// Fields every gate has.
struct GateCommon {
  std::string name;
  bool critical = false;
  bool dry_run = false;
};

// ---- outcome: install success / failure ----------------------------------------------

enum class OutcomeMode { confidence, point };

// Device counts of a wave by normalized state (§4.3). in_progress = assigned devices that
// have not finished yet (downloading .. verifying, or no report yet).
struct OutcomeCounts {
  std::int64_t assigned = 0;
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
  std::int64_t timed_out = 0;
  std::int64_t canceled = 0;
  std::int64_t skipped = 0;
  std::int64_t in_progress = 0;
};

struct OutcomeParams : GateCommon {
  double success_at_least = 0.95;
  double failure_above = 0.02;
  std::optional<std::int64_t> max_failed_count;  // unset: no count limit
  std::int64_t min_samples = 30;                 // finished devices (s + f) before a statistical verdict
  bool timeout_counts_as_failure = true;
  OutcomeMode mode = OutcomeMode::confidence;
  double alpha = 0.05;
  std::int64_t looks = 1;
};

// n = assigned − canceled − skipped; s = succeeded; f = failed (+ timed_out when it counts).
// z = z_{1−α'} (one-sided bounds).
// FAIL if f ≥ max_failed_count, or if s + f ≥ min_samples and
//   confidence: WilsonLower(f, s+f; z) > failure_above / point: f/n > failure_above.
// PASS if n > 0, s + f ≥ min_samples, s/n ≥ success_at_least and
//   confidence: WilsonUpper(f, s+f; z) ≤ failure_above / point: f/n ≤ failure_above.
// Otherwise INCONCLUSIVE. Counts that do not add up (canceled + skipped + s + f + timed_out +
// in_progress > assigned, or negative) are a usage error.
GateResult outcome_gate(const OutcomeCounts& counts, const OutcomeParams& params);

// ---- threshold: a device-reported metric aggregate against conditions (Argo) ---------

enum class Aggregate { median, mean, p95, max, min };
const char* to_string(Aggregate aggregate);
// "median", "mean", "p95", "max", "min"; anything else is a usage error naming the text.
Aggregate parse_aggregate(std::string_view text);
// p95 is percentile(values, 0.95) (type 7, see stats.hpp). Empty values are a usage error.
double aggregate_values(std::span<const double> values, Aggregate aggregate);

enum class CompareOp { ge, gt, le, lt, eq, ne };

// "<op> <number>" with op one of >=, >, <=, <, ==, != and optional spaces, e.g. ">= 0.80".
struct Condition {
  CompareOp op = CompareOp::ge;
  double threshold = 0.0;
  std::string text;  // as written, for the record
  bool holds(double value) const;
};
// Invalid text is Error::usage naming the text.
Condition parse_condition(std::string_view text);

enum class LookResult { successful, failed, inconclusive, error, no_data };
const char* to_string(LookResult result);

// One look of the threshold gate: the per-device values the hub returned, or a query error.
struct ThresholdLook {
  std::vector<double> values;
  bool query_error = false;
};

struct ThresholdParams : GateCommon {
  Aggregate aggregate = Aggregate::median;
  std::string success_condition;  // empty: not set
  std::string failure_condition;  // empty: not set
  std::int64_t failure_limit = 0;
  std::int64_t inconclusive_limit = 0;
  std::int64_t consecutive_success = 1;
  std::int64_t consecutive_error_limit = 4;
  std::int64_t min_samples = 1;  // devices with a value before a look counts
};

struct LookEvaluation {
  LookResult result = LookResult::no_data;
  std::optional<double> value;  // the aggregate, when there was data
  std::int64_t n = 0;           // finite values used
  std::int64_t dropped = 0;     // non-finite values ignored
};

// One look, Argo's evaluateResult: neither condition set → Successful; only success set →
// Failed when it does not hold; only failure set → Successful when it does not hold; both set
// → Failed if the failure condition holds (it wins), Successful if the success condition holds,
// else Inconclusive. A query error gives `error`; fewer than min_samples finite values give
// `no_data`.
LookEvaluation evaluate_look(const ThresholdLook& look, const ThresholdParams& params);

// The gate over the looks so far, oldest first. `no_data` looks are not measurements: they
// count nowhere and do not break a streak. In order:
// FAIL when failed looks > failure_limit; INCONCLUSIVE with errored = true when the trailing
// run of error looks > consecutive_error_limit; INCONCLUSIVE when inconclusive looks >
// inconclusive_limit; PASS when the last consecutive_success measured looks were all
// Successful; otherwise INCONCLUSIVE with reason "waiting" (still evaluating).
// Conditions are parsed first, so a bad condition is a usage error even with no looks.
GateResult threshold_gate(std::span<const ThresholdLook> looks, const ThresholdParams& params);

// Looks folded out of a long history, so a record that keeps only the latest looks (the hub's
// controller record has a size limit) decides as over all of them: their counts and the trailing
// streaks they leave. threshold_gate with a carry continues from it; the look records it returns
// are the kept looks only (indexes continue after the folded ones).
struct ThresholdCarry {
  std::int64_t looks = 0;
  std::int64_t successful = 0, failed = 0, inconclusive = 0, errors = 0, no_data = 0;
  std::int64_t consecutive_successes = 0, consecutive_errors = 0;
  nlohmann::json to_json() const;
  static ThresholdCarry from_json(const nlohmann::json& j);  // missing fields are 0
};
ThresholdCarry fold_look(ThresholdCarry carry, const ThresholdLook& look, const ThresholdParams& params);
GateResult threshold_gate(std::span<const ThresholdLook> looks, const ThresholdParams& params, const ThresholdCarry& carry);

// ---- proportion-vs-baseline -----------------------------------------------------------

// Devices with the event (e.g. crashes_1h > 0) and devices reporting, per arm.
struct ProportionCounts {
  std::int64_t canary_events = 0;
  std::int64_t canary_devices = 0;
  std::int64_t baseline_events = 0;
  std::int64_t baseline_devices = 0;
};

struct ProportionParams : GateCommon {
  double max_increase = 0.0;  // allowed p_c − p_b, as a fraction (0.5pp = 0.005)
  double alpha = 0.05;        // 1 − confidence
  std::int64_t looks = 1;
  std::int64_t min_samples_canary = 100;
  std::int64_t min_samples_baseline = 100;
};

// Newcombe interval [L, U] for Δ = p_c − p_b, two-sided at 1 − α' (z = z_{1−α'/2}).
// FAIL if L > max_increase; PASS if U ≤ max_increase and both arms have their min samples;
// else INCONCLUSIVE. An arm with no devices is INCONCLUSIVE ("no devices").
GateResult proportion_gate(const ProportionCounts& counts, const ProportionParams& params);

// ---- distribution-vs-baseline ---------------------------------------------------------

enum class Direction { increase, decrease, either };
const char* to_string(Direction direction);
Direction parse_direction(std::string_view text);

struct DistributionParams : GateCommon {
  Direction direction = Direction::increase;  // the harmful direction
  double tolerance = 0.10;                    // τ: allowed shift as a fraction of median(baseline)
  double alpha = 0.05;                        // 1 − confidence
  std::int64_t looks = 1;
  std::int64_t min_samples = 30;              // devices per arm
};

// Per-device values (one number per device, already aggregated per device). Non-finite values
// are dropped and counted. Hodges–Lehmann shift Δ̂ = median(c_i − b_j) with its two-sided
// 1 − α' interval [lo, hi] (z = z_{1−α'/2}); band = τ·|median(b)|.
// increase: FAIL if lo > band; PASS if hi ≤ band and m, n ≥ min_samples.
// decrease: FAIL if hi < −band; PASS if lo ≥ −band and m, n ≥ min_samples.
// either:   FAIL if either side fails; PASS if both pass. Otherwise INCONCLUSIVE.
// The record also carries the Mann-Whitney U, z and p-values (two-sided and in the direction).
GateResult distribution_gate(std::span<const double> canary, std::span<const double> baseline,
                             const DistributionParams& params);

}  // namespace aiot::rollout
