#pragma once
// The model-version ledger: for every registered device, time intervals [from, to) -> the model
// version it ran, joined from the registry (reported aiot.model.version and aiot.ota {state,
// version, ts} of the last install, design.md §5) and the rollout journal (PLANNED baseline ->
// target, WAVE_DISPATCHED and ROLLBACK_STARTED times; membership from the devices'
// tags.aiot.rollouts.<name>). This is what lets the audit attribute every record to the model
// version that produced it (lineage-governance.md §9.1 step 3).
//
// Rules (docs/lineage.md "Attribution"):
// - each dispatch of a wave the device belongs to (and each rollback of that wave) is a transition
//   from -> to at the journal time; for an install window after it (ATT002 install_window, or up to
//   the device's reported install time when that is the latest transition) either version is
//   accepted, and a record without a payload version is attributed to `to` from the reported
//   install time (or the dispatch time when not reported);
// - the registry has the last word on the present: when the device reports a failed install of
//   the last transition's target, or reports running a version the journal never sent, the ledger
//   follows the report;
// - before its first known transition a device is taken to have run that transition's `from`
//   version (registries keep no older history); a device with neither a reported version nor a
//   transition has no interval at all (ATT001).
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiot/hub/hub.hpp"

namespace aiot::lineage {

inline constexpr std::int64_t k_min_time = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t k_max_time = std::numeric_limits<std::int64_t>::max();

struct Interval {
  std::int64_t from_ms = k_min_time;
  std::int64_t to_ms = k_max_time;  // exclusive
  std::string version;              // what runs (in a window: what a record without a version is attributed to)
  std::string other;                // non-empty: an install window, this version is accepted too
  std::string reason;               // "rollout NAME wave W", "rollback of NAME", "reported install", ...
  std::string accepted;             // "1.0" or "1.0 or 2.0": what ATT002 expected (filled by the ledger)
};

struct LedgerDevice {
  std::string id;
  bool enabled = true;
  bool decommissioned = false;
  std::string device_class;
  std::vector<Interval> intervals;  // sorted, non-overlapping
};

// The verdict for one record.
struct Attribution {
  enum class Status { ok, no_interval, mismatch, unregistered };
  Status status = Status::unregistered;
  std::string_view version;   // attributed version (the ledger's; in a window the payload's when it is accepted)
  std::string_view expected;  // mismatch: the ledger's version(s), "a or b" in a window
  const Interval* interval = nullptr;
  bool leak = false;  // mismatch claiming a rollout's target version the device was not sent (yet)
};

// A device's own report of an install attempt that ended (reported aiot.ota history, where a hub
// keeps one: the local simulator records every final report). It settles the journal transition
// it answers exactly; one that answers none (a manual update) becomes a transition of its own.
struct ReportedInstall {
  std::string device;
  std::int64_t started_ms = 0;  // the device began the attempt
  std::int64_t done_ms = 0;     // its final report: from here on `to` runs, when it succeeded
  std::string from, to;
  bool succeeded = true;
};

struct LedgerOptions {
  std::int64_t install_window_ms = 45 * 60'000;
  std::vector<std::string> class_tags = {"class", "hw"};
};

class Ledger {
 public:
  // devices: the registry (controller devices aiot-ctl-* are skipped); journals: each rollout's
  // events in order (read_journal of every <rollout>.jsonl).
  static Ledger build(const std::vector<hub::Device>& devices, const std::vector<std::vector<nlohmann::json>>& journals,
                      const LedgerOptions& options, const std::vector<ReportedInstall>& installs = {});

  const LedgerDevice* find(std::string_view id) const;
  std::size_t size() const { return devices_.size(); }
  const std::vector<LedgerDevice>& devices() const { return devices_; }

  // The interval covering t for the device, and whether `payload_version` (empty: none claimed)
  // agrees with it.
  Attribution attribute(const LedgerDevice& device, std::int64_t t_ms, std::string_view payload_version) const;

  // Adds a device by hand (tests).
  void add(LedgerDevice device);

  nlohmann::json to_json() const;  // {device: [{from, to, version, other, reason}]}

  // Target versions of the rollouts in the journals (a payload claiming one early is a canary leak).
  void add_target(std::string version) { targets_.push_back(std::move(version)); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<LedgerDevice> devices_;
  std::vector<std::string> targets_;
  std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> index_;
};

}  // namespace aiot::lineage
