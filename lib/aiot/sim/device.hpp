#pragma once
// One simulated device following the device contract (design.md §5), as a pure function of its
// state, the profile, the seed and the desired twin: no SQL here, so the contract is unit-tested
// directly and the simulator can step 10,000 devices in memory.
//
// The contract, as simulated:
// - The device looks at its desired aiot.model.version at the start of each advance interval
//   (old, new]. When it differs from the version it last acted on, it starts attempt n+1 towards
//   it at `old`; a change during an install abandons that install and restarts towards the newest
//   desired. A failed version is not retried until the desired version changes again.
// - An attempt takes T ~ the version's install.delay from `old` to its final report; it reports
//   aiot.ota {state: "downloading"} after d1 (2-10% of T), {state: "installing"} after a further d2
//   (35-65% of T), then "succeeded" (aiot.model = the new version) or "failed" (error "install
//   failed: <reason>", the old version keeps running) with the version's failureRate. All times are
//   whole seconds.
// - Every desired change ends in a report for that version: when the device already runs it (a
//   rollback after a failed or unfinished install), it downloads nothing and reports
//   {state: "succeeded"} after d1. A rollback after a successful update is a full install.
// - It reports aiot.health after a success and every hour on the hour of sim time, drawn from the
//   running version's health profile (with overrides for its hw, site and region). Each report
//   describes a full hour of the running version (crashes_1h ~ Poisson(crashRate), inferences ~
//   Poisson(inferencesPerHour)), so a gate sees a version's behaviour from its first report.
// - A disabled device is offline: it sees nothing and reports nothing, and the clock of its
//   install in progress stands still until it is enabled again.
// Draws are keyed by (seed, device id, version, attempt) for installs and (seed, device id,
// version, report time) for health, so results do not depend on how time is split into advances.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aiot/core/time.hpp"
#include "aiot/sim/profile.hpp"

namespace aiot::sim {

// What the simulator remembers about a device between advances (the sim_devices table).
struct DeviceState {
  std::string id;
  std::int64_t index = 0;  // 1-based position in its fleet; keys the tag draws
  std::string site, region, hw;
  std::string model_name;    // the running model's name
  std::string running;       // the running model's version
  std::string seen_desired;  // the desired version the device last acted on
  std::string target;        // the version being installed; empty when idle
  std::string target_name;
  std::int64_t attempt = 0;          // install attempts so far
  std::optional<TimePoint> started;  // when the current attempt began (moved on while offline)
  bool operator==(const DeviceState&) const = default;
};

// The timeline of one install attempt.
struct InstallPlan {
  TimePoint downloading, installing, done;
  bool succeeds = true;
  std::string error;  // "install failed: <reason>" when it does not
};
InstallPlan plan_install(std::uint64_t seed, const DeviceState& d, const Behaviour& b);

// A full aiot.health object at `ts` for `version` (with its ts field).
nlohmann::json health_report(std::uint64_t seed, const std::string& id, const std::string& version, TimePoint ts,
                             const Behaviour& b);

// What a new device reports: ota succeeded on the start version, its model and a health report.
nlohmann::json initial_reported(std::uint64_t seed, const DeviceState& d, const Profile& p, TimePoint now);

// The desired side as the device sees it at the start of an interval.
struct DesiredView {
  std::string version;  // desired aiot.model.version; empty when none
  std::string name;     // desired aiot.model.name
  bool online = true;   // false when the device is disabled
};

struct Report {
  TimePoint ts;
  nlohmann::json patch;  // a merge patch of properties.reported: {"aiot": {...}}
};

struct StepResult {
  std::vector<Report> reports;                   // in time order
  nlohmann::json patch = nlohmann::json::object();  // all reports merged: what reaches the hub
  bool started = false;                          // an install attempt began at `from`
  int downloading = 0, installing = 0, succeeded = 0, failed = 0;
  bool health = false;  // a health report is in `patch`
};

// Moves one device through (from, to]. With every_report false, only the last hourly health
// report is built (the others would be overwritten in the twin anyway): the fast path of advance.
StepResult step(DeviceState& d, const Profile& p, std::uint64_t seed, TimePoint from, TimePoint to,
                const DesiredView& desired, bool every_report = false);

}  // namespace aiot::sim
