#include "aiot/rollout/gate_inputs.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/output/output.hpp"

namespace aiot::rollout {

namespace {

Error bad(const GateSpec& g, const std::string& field, const std::string& why) {
  return Error::usage(fmt::format("gate '{}': {}: {}", g.name, field, why));
}

// "95%" -> 0.95, "0.5pp" -> 0.005, 0.95 -> 0.95.
double fraction(const GateSpec& g, const std::string& field, const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) throw bad(g, field, "expected a number or a percentage");
  std::string s(str::trim(v.get<std::string>()));
  double scale = 1.0;
  if (s.size() > 2 && s.substr(s.size() - 2) == "pp") {
    s.resize(s.size() - 2);
    scale = 0.01;
  } else if (!s.empty() && s.back() == '%') {
    s.pop_back();
    scale = 0.01;
  }
  char* end = nullptr;
  double x = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(x)) throw bad(g, field, "not a number: " + v.dump());
  return x * scale;
}

std::int64_t integer(const GateSpec& g, const std::string& field, const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number() && std::floor(v.get<double>()) == v.get<double>()) return static_cast<std::int64_t>(v.get<double>());
  throw bad(g, field, "expected a whole number");
}

double alpha_from(const GateSpec& g) {
  if (g.params.contains("confidence")) {
    double c = fraction(g, "confidence", g.params["confidence"]);
    if (!(c > 0 && c < 1)) throw bad(g, "confidence", "must be between 0 and 1");
    return 1 - c;
  }
  return 0.05;
}

template <class P>
void common(P& p, const GateSpec& g) {
  p.name = g.name;
  p.critical = g.critical;
  p.dry_run = g.dry_run;
}

}  // namespace

OutcomeParams outcome_params(const GateSpec& g, std::int64_t looks) {
  OutcomeParams p;
  common(p, g);
  const auto& j = g.params;
  if (j.contains("successAtLeast")) p.success_at_least = fraction(g, "successAtLeast", j["successAtLeast"]);
  if (j.contains("failureAbove")) p.failure_above = fraction(g, "failureAbove", j["failureAbove"]);
  if (j.contains("maxFailedCount")) p.max_failed_count = integer(g, "maxFailedCount", j["maxFailedCount"]);
  if (j.contains("minSamples")) p.min_samples = integer(g, "minSamples", j["minSamples"]);
  if (j.contains("timeoutCountsAsFailure")) p.timeout_counts_as_failure = j["timeoutCountsAsFailure"].get<bool>();
  if (j.contains("mode")) p.mode = j["mode"] == "point" ? OutcomeMode::point : OutcomeMode::confidence;
  p.alpha = alpha_from(g);
  p.looks = std::max<std::int64_t>(1, looks);
  return p;
}

ThresholdParams threshold_params(const GateSpec& g) {
  ThresholdParams p;
  common(p, g);
  const auto& j = g.params;
  if (j.contains("aggregate")) p.aggregate = parse_aggregate(j["aggregate"].get<std::string>());
  if (j.contains("successCondition")) p.success_condition = j["successCondition"].get<std::string>();
  if (j.contains("failureCondition")) p.failure_condition = j["failureCondition"].get<std::string>();
  if (j.contains("failureLimit")) p.failure_limit = integer(g, "failureLimit", j["failureLimit"]);
  if (j.contains("inconclusiveLimit")) p.inconclusive_limit = integer(g, "inconclusiveLimit", j["inconclusiveLimit"]);
  if (j.contains("consecutiveSuccess")) p.consecutive_success = integer(g, "consecutiveSuccess", j["consecutiveSuccess"]);
  if (j.contains("minSamples")) p.min_samples = integer(g, "minSamples", j["minSamples"]);
  return p;
}

ProportionParams proportion_params(const GateSpec& g, std::int64_t looks) {
  ProportionParams p;
  common(p, g);
  const auto& j = g.params;
  if (j.contains("maxIncrease")) p.max_increase = fraction(g, "maxIncrease", j["maxIncrease"]);
  if (j.contains("minSamples")) {
    const auto& m = j["minSamples"];
    if (m.is_object()) {
      if (m.contains("canary")) p.min_samples_canary = integer(g, "minSamples.canary", m["canary"]);
      if (m.contains("baseline")) p.min_samples_baseline = integer(g, "minSamples.baseline", m["baseline"]);
    } else {
      p.min_samples_canary = p.min_samples_baseline = integer(g, "minSamples", m);
    }
  }
  p.alpha = alpha_from(g);
  p.looks = std::max<std::int64_t>(1, looks);
  return p;
}

DistributionParams distribution_params(const GateSpec& g, std::int64_t looks) {
  DistributionParams p;
  common(p, g);
  const auto& j = g.params;
  if (j.contains("direction")) p.direction = parse_direction(j["direction"].get<std::string>());
  if (j.contains("tolerance")) p.tolerance = fraction(g, "tolerance", j["tolerance"]);
  if (j.contains("minSamples")) p.min_samples = integer(g, "minSamples", j["minSamples"]);
  p.alpha = alpha_from(g);
  p.looks = std::max<std::int64_t>(1, looks);
  return p;
}

namespace {
const json& reported_aiot(const hub::Device& d, const char* key) {
  static const json k_empty = json::object();
  if (!d.reported.contains("aiot")) return k_empty;
  const auto& a = d.reported["aiot"];
  if (!a.is_object() || !a.contains(key) || !a[key].is_object()) return k_empty;
  return a[key];
}
}  // namespace

DeviceOutcome device_outcome(const hub::Device& d, const std::string& target_version, TimePoint dispatched_at,
                             TimePoint now, std::chrono::milliseconds install_timeout) {
  const auto& ota = reported_aiot(d, "ota");
  return outcome_of(ota.value("version", std::string()), ota.value("state", std::string()), target_version,
                    dispatched_at, now, install_timeout);
}

DeviceOutcome outcome_of(const std::string& version, const std::string& state, const std::string& target_version,
                         TimePoint dispatched_at, TimePoint now, std::chrono::milliseconds install_timeout) {
  if (version == target_version && state == "succeeded") return DeviceOutcome::succeeded;
  if (version == target_version && state == "failed") return DeviceOutcome::failed;
  // Hubs that time installs out themselves (AWS IoT's in-progress timeout) say so in the state.
  if (version == target_version && state == "timed_out") return DeviceOutcome::timed_out;
  if (now - dispatched_at > install_timeout) return DeviceOutcome::timed_out;
  return DeviceOutcome::in_progress;
}

OutcomeCounts count_outcomes(const std::vector<hub::Device>& canary, const std::string& target_version,
                             TimePoint dispatched_at, TimePoint now, std::chrono::milliseconds install_timeout) {
  OutcomeCounts c;
  for (const auto& d : canary) {
    ++c.assigned;
    switch (device_outcome(d, target_version, dispatched_at, now, install_timeout)) {
      case DeviceOutcome::succeeded: ++c.succeeded; break;
      case DeviceOutcome::failed: ++c.failed; break;
      case DeviceOutcome::timed_out: ++c.timed_out; break;
      case DeviceOutcome::in_progress: ++c.in_progress; break;
    }
  }
  return c;
}

namespace {
const json* metric_node(const hub::Device& d, const std::string& path) {
  // string_view slices: this runs per device per gate in a look.
  std::string_view p = path;
  if (p.starts_with("properties.")) p.remove_prefix(11);
  if (p.starts_with("reported.")) return output::find_path(d.reported, p.substr(9));
  if (p.starts_with("desired.")) return output::find_path(d.desired, p.substr(8));
  if (p.starts_with("tags.")) return output::find_path(d.tags, p.substr(5));
  throw Error::usage(fmt::format("metric '{}' must start with reported., desired. or tags.", path));
}
}  // namespace

std::string twin_path(const std::string& metric) {
  std::string_view p = metric;
  if (p.starts_with("reported.") || p.starts_with("desired.")) return "properties." + metric;
  return metric;
}

std::vector<double> metric_samples(const hub::Device& d, const std::string& path) {
  return samples_of(metric_node(d, path));
}

std::vector<double> samples_of(const json* v) {
  std::vector<double> out;
  if (!v) return out;
  if (v->is_number()) {
    out.push_back(v->get<double>());
  } else if (v->is_array()) {
    for (const auto& x : *v)
      if (x.is_number() && std::isfinite(x.get<double>())) out.push_back(x.get<double>());
  }
  return out;
}

std::optional<double> per_device_value(const hub::Device& d, const std::string& path, const std::string& per_device,
                                       std::int64_t min_per_device) {
  return per_device_value(metric_node(d, path), per_device, min_per_device);
}

std::optional<double> per_device_value(const json* value, const std::string& per_device, std::int64_t min_per_device) {
  auto samples = samples_of(value);
  if (samples.empty() || static_cast<std::int64_t>(samples.size()) < std::max<std::int64_t>(1, min_per_device))
    return std::nullopt;
  if (per_device == "last" || samples.size() == 1) return samples.back();
  return aggregate_values(samples, parse_aggregate(per_device.empty() ? "median" : per_device));
}

GateReading::GateReading(const GateSpec& g) : type_(g.type) {
  switch (g.type) {
    case GateType::outcome: break;
    case GateType::threshold: path_ = g.params.value("metric", std::string()); break;
    case GateType::proportion_vs_baseline: {
      // "<path> <op> <number>"
      auto text = std::string(str::trim(g.params.value("event", std::string())));
      auto space = text.find(' ');
      if (space == std::string::npos) throw Error::usage(fmt::format("event '{}' must read '<metric> <op> <number>'", text));
      path_ = text.substr(0, space);
      event_ = parse_condition(str::trim(text.substr(space + 1)));
      break;
    }
    case GateType::distribution_vs_baseline:
      path_ = g.params.value("metric", std::string());
      per_device_ = g.params.value("perDevice", std::string("median"));
      min_per_device_ = g.params.value("minPerDevice", std::int64_t{1});
      break;
  }
}

std::optional<double> GateReading::operator()(const hub::Device& d) const {
  if (type_ == GateType::outcome) return std::nullopt;
  return of(metric_node(d, path_));
}

std::optional<double> GateReading::of(const json* value) const {
  switch (type_) {
    case GateType::outcome: return std::nullopt;
    case GateType::threshold:
      if (!value || !value->is_number()) return std::nullopt;
      return value->get<double>();
    case GateType::proportion_vs_baseline:
      if (!value || !value->is_number()) return std::nullopt;
      return event_->holds(value->get<double>()) ? 1.0 : 0.0;
    case GateType::distribution_vs_baseline: return per_device_value(value, per_device_, min_per_device_);
  }
  return std::nullopt;
}

bool reports_health_for(const hub::Device& d, const std::string& version) {
  const auto& ota = reported_aiot(d, "ota");
  const auto& health = reported_aiot(d, "health");
  if (ota.value("version", std::string()) != version || ota.value("state", std::string()) != "succeeded") return false;
  if (health.empty()) return false;
  // A device that says which version its health was measured on is taken at its word (and a hub
  // can then select its reports by query); otherwise the report must be newer than the install.
  if (auto it = health.find("version"); it != health.end()) return it->is_string() && *it == version;
  auto hts = parse_rfc3339(health.value("ts", std::string()));
  auto ots = parse_rfc3339(ota.value("ts", std::string()));
  return hts && ots && *hts >= *ots;
}

}  // namespace aiot::rollout
