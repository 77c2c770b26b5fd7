#pragma once
// From a wave's devices (as the hub reports them) and a gate spec to the gate functions of
// gates.hpp: the controller's bridge between hub data and statistics.
#include <vector>

#include "aiot/hub/hub.hpp"
#include "aiot/rollout/gates.hpp"
#include "aiot/rollout/spec.hpp"

namespace aiot::rollout {

// Typed parameters of a gate spec. Percent strings ("95%", "0.5pp") and fractions are both accepted;
// a bad value is Error::usage naming the gate and field.
OutcomeParams outcome_params(const GateSpec& g, std::int64_t looks);
ThresholdParams threshold_params(const GateSpec& g);
ProportionParams proportion_params(const GateSpec& g, std::int64_t looks);
DistributionParams distribution_params(const GateSpec& g, std::int64_t looks);

// How a canary device stands against the target version (the normalized device states of §4.3).
enum class DeviceOutcome { succeeded, failed, timed_out, in_progress };
DeviceOutcome device_outcome(const hub::Device& d, const std::string& target_version, TimePoint dispatched_at,
                             TimePoint now, std::chrono::milliseconds install_timeout);

// The same from a device's reported ota.version and ota.state (what a grouped count returns).
DeviceOutcome outcome_of(const std::string& version, const std::string& state, const std::string& target_version,
                         TimePoint dispatched_at, TimePoint now, std::chrono::milliseconds install_timeout);

OutcomeCounts count_outcomes(const std::vector<hub::Device>& canary, const std::string& target_version,
                             TimePoint dispatched_at, TimePoint now, std::chrono::milliseconds install_timeout);

// A gate's metric as a path of the query language: "reported.x" is "properties.reported.x".
std::string twin_path(const std::string& metric);

// A device's samples of a metric: a number is one sample, an array of numbers (e.g. the last
// hour's values a device reports) is each of them; non-numbers are skipped.
std::vector<double> metric_samples(const hub::Device& d, const std::string& path);
// The same from the metric's value (nullptr: absent).
std::vector<double> samples_of(const json* value);

// One value per device from its samples, as the distribution gate's perDevice says ("last",
// "median", "mean", "p95", "max", "min"); nullopt with fewer than min_per_device samples.
std::optional<double> per_device_value(const hub::Device& d, const std::string& path, const std::string& per_device,
                                       std::int64_t min_per_device);
std::optional<double> per_device_value(const json* value, const std::string& per_device, std::int64_t min_per_device);

// What a threshold, proportion or distribution gate reads from one device, prepared once per gate
// (the metric path split, the event's condition parsed), so that a look can read each device once
// for all its gates while the device's twin is in cache. Reads the metric's number (threshold), the
// event "<metric> <op> <number>" as 1 or 0 (proportion; nullopt when the metric is absent, a
// malformed event is Error::usage) and per_device_value (distribution); outcome gates read nothing.
class GateReading {
 public:
  explicit GateReading(const GateSpec& g);
  std::optional<double> operator()(const hub::Device& d) const;
  // The same from the value at the gate's metric (nullptr: absent), e.g. a grouped count's key.
  std::optional<double> of(const json* value) const;
  // The metric's path in the query language ("" for outcome gates).
  std::string metric_path() const { return path_.empty() ? std::string() : twin_path(path_); }

 private:
  GateType type_;
  std::string path_;  // the metric as the spec has it ("properties.reported....")
  std::optional<Condition> event_;
  std::string per_device_;
  std::int64_t min_per_device_ = 1;
};

// Health counts only from devices that run the version in question and reported health after
// they started running it: health.version names it when the device reports one (design.md §5 plus
// this field, docs/rollouts.md), otherwise the health ts is not older than the ota ts.
bool reports_health_for(const hub::Device& d, const std::string& version);

}  // namespace aiot::rollout
