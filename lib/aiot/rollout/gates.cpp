#include "aiot/rollout/gates.hpp"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::rollout {

namespace {

// Per-device values go into the record only up to this many (both arms together), so a
// 10,000-device wave does not put 10,000 numbers in every journal line.
constexpr std::size_t k_record_values_limit = 1000;

// JSON has no infinity or NaN: an unbounded interval end is written as null.
nlohmann::json number(double v) {
  if (!std::isfinite(v)) {
    return nullptr;
  }
  return v;
}

nlohmann::json interval_json(double lower, double upper) {
  return {{"lower", number(lower)}, {"upper", number(upper)}};
}

std::string pct(double fraction) { return fmt::format("{:.2f}%", fraction * 100.0); }

std::string pp(double fraction) { return fmt::format("{:+.2f}pp", fraction * 100.0); }

void require_fraction(double v, const char* name) {
  if (!(v >= 0.0 && v <= 1.0)) {
    throw Error::usage(fmt::format("{} must be a fraction in [0, 1], got {}", name, v));
  }
}

void require_alpha(double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw Error::usage(fmt::format("alpha must be in (0, 1), got {}", alpha));
  }
}

void require_non_negative(std::int64_t v, const char* name) {
  if (v < 0) {
    throw Error::usage(fmt::format("{} must not be negative, got {}", name, v));
  }
}

void require_positive(std::int64_t v, const char* name) {
  if (v < 1) {
    throw Error::usage(fmt::format("{} must be at least 1, got {}", name, v));
  }
}

nlohmann::json common_json(const char* gate, const GateCommon& common) {
  return {{"gate", gate}, {"name", common.name}, {"critical", common.critical}, {"dry_run", common.dry_run}};
}

GateResult finish(nlohmann::json record, const GateCommon& common, Verdict verdict, std::string reason) {
  GateResult result;
  result.verdict = verdict;
  result.reason = std::move(reason);
  result.critical = common.critical;
  result.dry_run = common.dry_run;
  record["verdict"] = to_string(verdict);
  record["reason"] = result.reason;
  result.record = std::move(record);
  return result;
}

std::vector<double> finite_only(std::span<const double> values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) {
    if (std::isfinite(v)) {
      out.push_back(v);
    }
  }
  return out;
}

}  // namespace

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass:
      return "PASS";
    case Verdict::fail:
      return "FAIL";
    case Verdict::inconclusive:
      return "INCONCLUSIVE";
  }
  return "INCONCLUSIVE";
}

Verdict effective_verdict(const GateResult& result) {
  return result.dry_run ? Verdict::pass : result.verdict;
}

// ---- outcome -------------------------------------------------------------------------

GateResult outcome_gate(const OutcomeCounts& counts, const OutcomeParams& params) {
  require_fraction(params.success_at_least, "successAtLeast");
  require_fraction(params.failure_above, "failureAbove");
  require_non_negative(params.min_samples, "minSamples");
  require_alpha(params.alpha);
  require_positive(params.looks, "looks");
  if (params.max_failed_count) {
    require_positive(*params.max_failed_count, "maxFailedCount");
  }
  const std::int64_t parts[] = {counts.assigned, counts.succeeded, counts.failed, counts.timed_out,
                                counts.canceled, counts.skipped, counts.in_progress};
  for (std::int64_t c : parts) {
    require_non_negative(c, "a device count");
  }
  const std::int64_t accounted = counts.succeeded + counts.failed + counts.timed_out + counts.canceled +
                                 counts.skipped + counts.in_progress;
  if (accounted > counts.assigned) {
    throw Error::usage(fmt::format("outcome counts add up to {} but only {} devices are assigned", accounted,
                                   counts.assigned));
  }

  // CANCELED/SKIPPED leave the denominator (hawkBit rule, §4.3); TIMED_OUT is a failure by default.
  const std::int64_t n = counts.assigned - counts.canceled - counts.skipped;
  const std::int64_t s = counts.succeeded;
  const std::int64_t f = counts.failed + (params.timeout_counts_as_failure ? counts.timed_out : 0);
  const std::int64_t finished = s + f;
  const bool enough = finished >= params.min_samples;
  const double alpha_prime = bonferroni_alpha(params.alpha, params.looks);
  const double z = normal_quantile(1.0 - alpha_prime);
  const bool confidence = params.mode == OutcomeMode::confidence;

  nlohmann::json record = common_json("outcome", params);
  record["inputs"] = {{"assigned", counts.assigned},   {"succeeded", counts.succeeded},
                      {"failed", counts.failed},       {"timed_out", counts.timed_out},
                      {"canceled", counts.canceled},   {"skipped", counts.skipped},
                      {"in_progress", counts.in_progress}};
  record["params"] = {{"success_at_least", params.success_at_least},
                      {"failure_above", params.failure_above},
                      {"max_failed_count", params.max_failed_count ? nlohmann::json(*params.max_failed_count)
                                                                   : nlohmann::json(nullptr)},
                      {"min_samples", params.min_samples},
                      {"timeout_counts_as_failure", params.timeout_counts_as_failure},
                      {"mode", confidence ? "confidence" : "point"},
                      {"alpha", params.alpha},
                      {"looks", params.looks}};
  record["n"] = n;
  record["s"] = s;
  record["f"] = f;
  record["finished"] = finished;
  record["success_rate"] = n > 0 ? number(static_cast<double>(s) / static_cast<double>(n)) : nullptr;
  record["failure_rate"] = n > 0 ? number(static_cast<double>(f) / static_cast<double>(n)) : nullptr;
  record["alpha_prime"] = alpha_prime;
  record["z"] = z;

  const Interval failure_bounds = wilson_interval(f, finished, z);
  if (confidence) {
    record["failure_interval"] = interval_json(failure_bounds.lower, failure_bounds.upper);
    record["failure_interval_of"] = "f / (s + f), one-sided Wilson bounds at z_{1-alpha'}";
  }
  const double point_rate = n > 0 ? static_cast<double>(f) / static_cast<double>(n) : 0.0;

  if (params.max_failed_count && f >= *params.max_failed_count) {
    return finish(std::move(record), params, Verdict::fail,
                  fmt::format("{} failed devices >= maxFailedCount {}", f, *params.max_failed_count));
  }
  if (enough && confidence && failure_bounds.lower > params.failure_above) {
    return finish(std::move(record), params, Verdict::fail,
                  fmt::format("failure rate lower bound {} > failureAbove {} ({} of {} finished failed, z={:.3f})",
                              pct(failure_bounds.lower), pct(params.failure_above), f, finished, z));
  }
  if (enough && !confidence && n > 0 && point_rate > params.failure_above) {
    return finish(std::move(record), params, Verdict::fail,
                  fmt::format("failure rate {} > failureAbove {} ({} of {} failed)", pct(point_rate),
                              pct(params.failure_above), f, n));
  }

  if (n == 0) {
    return finish(std::move(record), params, Verdict::inconclusive, "no devices counted yet");
  }
  if (!enough) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("{} finished devices, minSamples is {}", finished, params.min_samples));
  }
  const double success_rate = static_cast<double>(s) / static_cast<double>(n);
  if (success_rate < params.success_at_least) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("success {} < successAtLeast {} ({} of {} succeeded, {} in progress)",
                              pct(success_rate), pct(params.success_at_least), s, n, counts.in_progress));
  }
  if (confidence && failure_bounds.upper > params.failure_above) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("failure rate upper bound {} > failureAbove {}: too few devices to show the rate is low "
                              "({} of {} finished failed, z={:.3f})",
                              pct(failure_bounds.upper), pct(params.failure_above), f, finished, z));
  }
  if (confidence) {
    return finish(std::move(record), params, Verdict::pass,
                  fmt::format("success {} >= {}, failure rate upper bound {} <= {}", pct(success_rate),
                              pct(params.success_at_least), pct(failure_bounds.upper), pct(params.failure_above)));
  }
  return finish(std::move(record), params, Verdict::pass,
                fmt::format("success {} >= {}, failure rate {} <= {}", pct(success_rate), pct(params.success_at_least),
                            pct(point_rate), pct(params.failure_above)));
}

// ---- threshold -----------------------------------------------------------------------

const char* to_string(Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::median:
      return "median";
    case Aggregate::mean:
      return "mean";
    case Aggregate::p95:
      return "p95";
    case Aggregate::max:
      return "max";
    case Aggregate::min:
      return "min";
  }
  return "median";
}

Aggregate parse_aggregate(std::string_view text) {
  for (Aggregate a : {Aggregate::median, Aggregate::mean, Aggregate::p95, Aggregate::max, Aggregate::min}) {
    if (text == to_string(a)) {
      return a;
    }
  }
  throw Error::usage(fmt::format("invalid aggregate \"{}\": expected median, mean, p95, max or min", text));
}

double aggregate_values(std::span<const double> values, Aggregate aggregate) {
  if (values.empty()) {
    throw Error::usage(fmt::format("{} of no values", to_string(aggregate)));
  }
  switch (aggregate) {
    case Aggregate::median:
      return median(values);
    case Aggregate::mean:
      return mean(values);
    case Aggregate::p95:
      return percentile(values, 0.95);
    case Aggregate::max:
      return percentile(values, 1.0);
    case Aggregate::min:
      return percentile(values, 0.0);
  }
  return median(values);
}

bool Condition::holds(double value) const {
  switch (op) {
    case CompareOp::ge:
      return value >= threshold;
    case CompareOp::gt:
      return value > threshold;
    case CompareOp::le:
      return value <= threshold;
    case CompareOp::lt:
      return value < threshold;
    case CompareOp::eq:
      return value == threshold;
    case CompareOp::ne:
      return value != threshold;
  }
  return false;
}

Condition parse_condition(std::string_view text) {
  auto invalid = [&] {
    return Error::usage(
        fmt::format("invalid condition \"{}\": expected an operator (>=, >, <=, <, ==, !=) and a number, "
                    "e.g. \">= 0.80\"",
                    text));
  };
  std::string_view rest = str::trim(text);
  struct OpText {
    std::string_view text;
    CompareOp op;
  };
  // Two-character operators first, so ">=" is not read as ">" followed by "=0.8".
  static constexpr OpText k_ops[] = {{">=", CompareOp::ge}, {"<=", CompareOp::le}, {"==", CompareOp::eq},
                                     {"!=", CompareOp::ne}, {">", CompareOp::gt},  {"<", CompareOp::lt}};
  Condition condition;
  bool found = false;
  for (const auto& candidate : k_ops) {
    if (rest.starts_with(candidate.text)) {
      condition.op = candidate.op;
      rest.remove_prefix(candidate.text.size());
      found = true;
      break;
    }
  }
  if (!found) {
    throw invalid();
  }
  rest = str::trim(rest);
  if (rest.starts_with('+')) {
    rest.remove_prefix(1);  // from_chars does not take a leading '+'
  }
  if (rest.empty()) {
    throw invalid();
  }
  const char* end = rest.data() + rest.size();
  auto [ptr, ec] = std::from_chars(rest.data(), end, condition.threshold);
  if (ec != std::errc() || ptr != end || !std::isfinite(condition.threshold)) {
    throw invalid();
  }
  condition.text = std::string(str::trim(text));
  return condition;
}

const char* to_string(LookResult result) {
  switch (result) {
    case LookResult::successful:
      return "Successful";
    case LookResult::failed:
      return "Failed";
    case LookResult::inconclusive:
      return "Inconclusive";
    case LookResult::error:
      return "Error";
    case LookResult::no_data:
      return "NoData";
  }
  return "NoData";
}

namespace {

LookEvaluation evaluate_look_with(const ThresholdLook& look, const ThresholdParams& params,
                                  const std::optional<Condition>& success, const std::optional<Condition>& failure) {
  LookEvaluation out;
  if (look.query_error) {
    out.result = LookResult::error;
    return out;
  }
  const std::vector<double> values = finite_only(look.values);
  out.n = static_cast<std::int64_t>(values.size());
  out.dropped = static_cast<std::int64_t>(look.values.size() - values.size());
  if (values.empty() || out.n < params.min_samples) {
    out.result = LookResult::no_data;
    return out;
  }
  const double value = aggregate_values(values, params.aggregate);
  out.value = value;
  // Argo's evaluateResult: a missing condition is the negation of the other one, and a
  // holding failure condition wins over a holding success condition.
  bool succeeded = success ? success->holds(value) : false;
  bool failed = failure ? failure->holds(value) : false;
  if (!success && !failure) {
    out.result = LookResult::successful;
    return out;
  }
  if (success && !failure) {
    failed = !succeeded;
  } else if (!success && failure) {
    succeeded = !failed;
  }
  if (failed) {
    out.result = LookResult::failed;
  } else if (succeeded) {
    out.result = LookResult::successful;
  } else {
    out.result = LookResult::inconclusive;
  }
  return out;
}

std::optional<Condition> optional_condition(const std::string& text) {
  if (str::trim(text).empty()) {
    return std::nullopt;
  }
  return parse_condition(text);
}

void validate_threshold_params(const ThresholdParams& params) {
  require_non_negative(params.failure_limit, "failureLimit");
  require_non_negative(params.inconclusive_limit, "inconclusiveLimit");
  require_positive(params.consecutive_success, "consecutiveSuccess");
  require_non_negative(params.consecutive_error_limit, "consecutiveErrorLimit");
  require_positive(params.min_samples, "minSamples");
}

}  // namespace

LookEvaluation evaluate_look(const ThresholdLook& look, const ThresholdParams& params) {
  validate_threshold_params(params);
  return evaluate_look_with(look, params, optional_condition(params.success_condition),
                            optional_condition(params.failure_condition));
}

GateResult threshold_gate(std::span<const ThresholdLook> looks, const ThresholdParams& params) {
  return threshold_gate(looks, params, ThresholdCarry{});
}

nlohmann::json ThresholdCarry::to_json() const {
  return {{"looks", looks},         {"successful", successful},
          {"failed", failed},       {"inconclusive", inconclusive},
          {"errors", errors},       {"noData", no_data},
          {"consecutiveSuccesses", consecutive_successes}, {"consecutiveErrors", consecutive_errors}};
}

ThresholdCarry ThresholdCarry::from_json(const nlohmann::json& j) {
  ThresholdCarry c;
  if (!j.is_object()) return c;
  c.looks = j.value("looks", std::int64_t{0});
  c.successful = j.value("successful", std::int64_t{0});
  c.failed = j.value("failed", std::int64_t{0});
  c.inconclusive = j.value("inconclusive", std::int64_t{0});
  c.errors = j.value("errors", std::int64_t{0});
  c.no_data = j.value("noData", std::int64_t{0});
  c.consecutive_successes = j.value("consecutiveSuccesses", std::int64_t{0});
  c.consecutive_errors = j.value("consecutiveErrors", std::int64_t{0});
  return c;
}

namespace {
// One look's effect on the running counts (the same rules as threshold_gate's loop).
void count_look(ThresholdCarry& c, LookResult result) {
  ++c.looks;
  switch (result) {
    case LookResult::successful:
      ++c.successful;
      ++c.consecutive_successes;
      c.consecutive_errors = 0;
      break;
    case LookResult::failed:
      ++c.failed;
      c.consecutive_successes = 0;
      c.consecutive_errors = 0;
      break;
    case LookResult::inconclusive:
      ++c.inconclusive;
      c.consecutive_successes = 0;
      c.consecutive_errors = 0;
      break;
    case LookResult::error:
      ++c.errors;
      ++c.consecutive_errors;
      c.consecutive_successes = 0;
      break;
    case LookResult::no_data: ++c.no_data; break;
  }
}
}  // namespace

ThresholdCarry fold_look(ThresholdCarry carry, const ThresholdLook& look, const ThresholdParams& params) {
  validate_threshold_params(params);
  count_look(carry, evaluate_look_with(look, params, optional_condition(params.success_condition),
                                       optional_condition(params.failure_condition))
                        .result);
  return carry;
}

GateResult threshold_gate(std::span<const ThresholdLook> looks, const ThresholdParams& params,
                          const ThresholdCarry& carry) {
  validate_threshold_params(params);
  const std::optional<Condition> success = optional_condition(params.success_condition);
  const std::optional<Condition> failure = optional_condition(params.failure_condition);

  nlohmann::json record = common_json("threshold", params);
  record["params"] = {{"aggregate", to_string(params.aggregate)},
                      {"success_condition", success ? nlohmann::json(success->text) : nlohmann::json(nullptr)},
                      {"failure_condition", failure ? nlohmann::json(failure->text) : nlohmann::json(nullptr)},
                      {"failure_limit", params.failure_limit},
                      {"inconclusive_limit", params.inconclusive_limit},
                      {"consecutive_success", params.consecutive_success},
                      {"consecutive_error_limit", params.consecutive_error_limit},
                      {"min_samples", params.min_samples}};

  ThresholdCarry c = carry;
  nlohmann::json look_records = nlohmann::json::array();
  for (std::size_t i = 0; i < looks.size(); ++i) {
    const LookEvaluation look = evaluate_look_with(looks[i], params, success, failure);
    nlohmann::json entry = {{"index", static_cast<std::int64_t>(i) + carry.looks}, {"result", to_string(look.result)}, {"n", look.n}};
    entry["value"] = look.value ? number(*look.value) : nullptr;
    if (look.dropped > 0) {
      entry["dropped_non_finite"] = look.dropped;
    }
    look_records.push_back(std::move(entry));
    count_look(c, look.result);
  }
  const std::int64_t successful = c.successful, failed = c.failed, inconclusive = c.inconclusive, errors = c.errors,
                     no_data = c.no_data, consecutive_errors = c.consecutive_errors,
                     consecutive_successes = c.consecutive_successes;
  if (carry.looks > 0) record["folded_looks"] = carry.looks;
  record["looks"] = std::move(look_records);
  record["counts"] = {{"successful", successful}, {"failed", failed},    {"inconclusive", inconclusive},
                      {"error", errors},          {"no_data", no_data}};
  record["consecutive_successes"] = consecutive_successes;
  record["consecutive_errors"] = consecutive_errors;

  auto done = [&](const char* state, Verdict verdict, std::string reason) {
    record["state"] = state;
    return finish(std::move(record), params, verdict, std::move(reason));
  };
  if (failed > params.failure_limit) {
    return done("failed", Verdict::fail,
                fmt::format("{} failed looks > failureLimit {}", failed, params.failure_limit));
  }
  if (consecutive_errors > params.consecutive_error_limit) {
    GateResult result =
        done("error", Verdict::inconclusive,
             fmt::format("{} consecutive query errors > consecutiveErrorLimit {}", consecutive_errors,
                         params.consecutive_error_limit));
    result.errored = true;
    return result;
  }
  if (inconclusive > params.inconclusive_limit) {
    return done("inconclusive", Verdict::inconclusive,
                fmt::format("{} inconclusive looks > inconclusiveLimit {}", inconclusive, params.inconclusive_limit));
  }
  if (consecutive_successes >= params.consecutive_success) {
    return done("passed", Verdict::pass,
                fmt::format("last {} looks successful (consecutiveSuccess {})", consecutive_successes,
                            params.consecutive_success));
  }
  return done("waiting", Verdict::inconclusive,
              fmt::format("waiting: {} of {} consecutive successful looks", consecutive_successes,
                          params.consecutive_success));
}

// ---- proportion-vs-baseline -----------------------------------------------------------

GateResult proportion_gate(const ProportionCounts& counts, const ProportionParams& params) {
  require_alpha(params.alpha);
  require_positive(params.looks, "looks");
  require_non_negative(params.min_samples_canary, "minSamples.canary");
  require_non_negative(params.min_samples_baseline, "minSamples.baseline");
  if (!std::isfinite(params.max_increase) || params.max_increase <= -1.0 || params.max_increase >= 1.0) {
    throw Error::usage(fmt::format("maxIncrease must be a fraction in (-1, 1), got {}", params.max_increase));
  }
  if (counts.canary_events < 0 || counts.canary_devices < 0 || counts.canary_events > counts.canary_devices ||
      counts.baseline_events < 0 || counts.baseline_devices < 0 || counts.baseline_events > counts.baseline_devices) {
    throw Error::usage(fmt::format("proportion counts need 0 <= events <= devices, got canary {}/{}, baseline {}/{}",
                                   counts.canary_events, counts.canary_devices, counts.baseline_events,
                                   counts.baseline_devices));
  }
  const double alpha_prime = bonferroni_alpha(params.alpha, params.looks);
  const double z = normal_quantile(1.0 - alpha_prime / 2.0);

  nlohmann::json record = common_json("proportion-vs-baseline", params);
  record["inputs"] = {{"canary_events", counts.canary_events},
                      {"canary_devices", counts.canary_devices},
                      {"baseline_events", counts.baseline_events},
                      {"baseline_devices", counts.baseline_devices}};
  record["params"] = {{"max_increase", params.max_increase},
                      {"alpha", params.alpha},
                      {"looks", params.looks},
                      {"min_samples_canary", params.min_samples_canary},
                      {"min_samples_baseline", params.min_samples_baseline}};
  record["alpha_prime"] = alpha_prime;
  record["z"] = z;
  record["interval_of"] = "p_canary - p_baseline, two-sided Newcombe hybrid score at 1 - alpha'";

  if (counts.canary_devices == 0 || counts.baseline_devices == 0) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("no devices: canary {}, baseline {}", counts.canary_devices, counts.baseline_devices));
  }
  const DifferenceInterval diff = newcombe_interval(counts.canary_events, counts.canary_devices,
                                                    counts.baseline_events, counts.baseline_devices, z);
  const double pc = static_cast<double>(counts.canary_events) / static_cast<double>(counts.canary_devices);
  const double pb = static_cast<double>(counts.baseline_events) / static_cast<double>(counts.baseline_devices);
  record["p_canary"] = pc;
  record["p_baseline"] = pb;
  record["estimate"] = diff.estimate;
  record["interval"] = interval_json(diff.lower, diff.upper);
  record["wilson_canary"] = interval_json(diff.canary.lower, diff.canary.upper);
  record["wilson_baseline"] = interval_json(diff.baseline.lower, diff.baseline.upper);

  const std::string summary = fmt::format("canary {}/{} vs baseline {}/{}, increase {} [{}, {}]", counts.canary_events,
                                          counts.canary_devices, counts.baseline_events, counts.baseline_devices,
                                          pp(diff.estimate), pp(diff.lower), pp(diff.upper));
  if (diff.lower > params.max_increase) {
    return finish(std::move(record), params, Verdict::fail,
                  fmt::format("{}: lower bound > maxIncrease {}", summary, pp(params.max_increase)));
  }
  const bool enough =
      counts.canary_devices >= params.min_samples_canary && counts.baseline_devices >= params.min_samples_baseline;
  if (diff.upper <= params.max_increase && enough) {
    return finish(std::move(record), params, Verdict::pass,
                  fmt::format("{}: upper bound <= maxIncrease {}", summary, pp(params.max_increase)));
  }
  if (!enough) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("{}: needs {} canary and {} baseline devices", summary, params.min_samples_canary,
                              params.min_samples_baseline));
  }
  return finish(std::move(record), params, Verdict::inconclusive,
                fmt::format("{}: interval straddles maxIncrease {}, more devices needed", summary,
                            pp(params.max_increase)));
}

// ---- distribution-vs-baseline ---------------------------------------------------------

const char* to_string(Direction direction) {
  switch (direction) {
    case Direction::increase:
      return "increase";
    case Direction::decrease:
      return "decrease";
    case Direction::either:
      return "either";
  }
  return "increase";
}

Direction parse_direction(std::string_view text) {
  for (Direction d : {Direction::increase, Direction::decrease, Direction::either}) {
    if (text == to_string(d)) {
      return d;
    }
  }
  throw Error::usage(fmt::format("invalid direction \"{}\": expected increase, decrease or either", text));
}

GateResult distribution_gate(std::span<const double> canary, std::span<const double> baseline,
                             const DistributionParams& params) {
  require_alpha(params.alpha);
  require_positive(params.looks, "looks");
  require_non_negative(params.min_samples, "minSamples");
  if (!(params.tolerance >= 0.0) || !std::isfinite(params.tolerance)) {
    throw Error::usage(fmt::format("tolerance must be a fraction >= 0, got {}", params.tolerance));
  }
  const std::vector<double> c = finite_only(canary);
  const std::vector<double> b = finite_only(baseline);
  const auto m = static_cast<std::int64_t>(c.size());
  const auto n = static_cast<std::int64_t>(b.size());
  const double alpha_prime = bonferroni_alpha(params.alpha, params.looks);
  const double z = normal_quantile(1.0 - alpha_prime / 2.0);

  nlohmann::json record = common_json("distribution-vs-baseline", params);
  record["inputs"] = {{"m", m},
                      {"n", n},
                      {"dropped_non_finite_canary", static_cast<std::int64_t>(canary.size()) - m},
                      {"dropped_non_finite_baseline", static_cast<std::int64_t>(baseline.size()) - n}};
  if (c.size() + b.size() <= k_record_values_limit) {
    record["inputs"]["canary_values"] = c;
    record["inputs"]["baseline_values"] = b;
  } else {
    record["inputs"]["values_omitted"] = true;
  }
  record["params"] = {{"direction", to_string(params.direction)},
                      {"tolerance", params.tolerance},
                      {"alpha", params.alpha},
                      {"looks", params.looks},
                      {"min_samples", params.min_samples}};
  record["alpha_prime"] = alpha_prime;
  record["z"] = z;

  if (m == 0 || n == 0) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("no values: canary {}, baseline {}", m, n));
  }
  const double median_canary = median(c);
  const double median_baseline = median(b);
  const double band = params.tolerance * std::fabs(median_baseline);
  const ShiftEstimate shift = hodges_lehmann(c, b, z);
  const MannWhitney mw = mann_whitney(c, b);
  record["median_canary"] = median_canary;
  record["median_baseline"] = median_baseline;
  record["band"] = band;
  record["shift"] = {{"estimate", shift.estimate},
                     {"interval", interval_json(shift.lower, shift.upper)},
                     {"k", shift.k},
                     {"attainable", shift.attainable},
                     {"pairs", shift.pairs}};
  const double p_direction = params.direction == Direction::increase   ? mw.p_greater
                             : params.direction == Direction::decrease ? mw.p_less
                                                                       : mw.p_two_sided;
  record["mann_whitney"] = {{"u", mw.u},
                            {"mean", mw.mean},
                            {"sd", mw.sd},
                            {"tie_term", mw.tie_term},
                            {"z", mw.z},
                            {"p_two_sided", mw.p_two_sided},
                            {"p_greater", mw.p_greater},
                            {"p_less", mw.p_less},
                            {"p_direction", p_direction}};

  const bool enough = m >= params.min_samples && n >= params.min_samples;
  // Infinite bounds (k < 0) compare as never failing and never passing: INCONCLUSIVE.
  const bool increase_fails = shift.lower > band;
  const bool increase_passes = shift.upper <= band;
  const bool decrease_fails = shift.upper < -band;
  const bool decrease_passes = shift.lower >= -band;
  bool fails = false;
  bool passes = false;
  switch (params.direction) {
    case Direction::increase:
      fails = increase_fails;
      passes = increase_passes;
      break;
    case Direction::decrease:
      fails = decrease_fails;
      passes = decrease_passes;
      break;
    case Direction::either:
      fails = increase_fails || decrease_fails;
      passes = increase_passes && decrease_passes;
      break;
  }
  const std::string summary =
      fmt::format("shift {:.6g} [{:.6g}, {:.6g}] vs band ±{:.6g} ({} of median baseline {:.6g}), m={}, n={}",
                  shift.estimate, shift.lower, shift.upper, band, pct(params.tolerance), median_baseline, m, n);
  if (fails) {
    return finish(std::move(record), params, Verdict::fail,
                  fmt::format("{}: {} outside the band", summary,
                              increase_fails ? "increase" : "decrease"));
  }
  if (passes && enough) {
    return finish(std::move(record), params, Verdict::pass, fmt::format("{}: within the band", summary));
  }
  if (!enough) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("{}: needs {} devices per arm", summary, params.min_samples));
  }
  if (!shift.attainable) {
    return finish(std::move(record), params, Verdict::inconclusive,
                  fmt::format("{}: too few devices for a {} interval", summary, pct(1.0 - alpha_prime)));
  }
  return finish(std::move(record), params, Verdict::inconclusive,
                fmt::format("{}: interval reaches past the band, more devices needed", summary));
}

}  // namespace aiot::rollout
