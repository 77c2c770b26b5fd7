#pragma once
// The simulator's own tables, in the hub's SQLite file through a second connection (WAL mode is
// the file's; writes take BEGIN IMMEDIATE and wait on a busy timeout like the hub's do):
//   sim_config (key, value): format, seed, profile YAML and its source, start_ms, advanced_to_ms
//   sim_devices: one DeviceState per simulated device
//   sim_installs: every install attempt that reached its final report, with its times and
//     versions: the ground truth of which version each device ran when (`aiot sim telemetry`)
// Never hold a transaction here while calling LocalHub: the two connections would wait on each other.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "aiot/core/time.hpp"
#include "aiot/sim/device.hpp"

namespace aiot::sim {

struct SimConfig {
  std::uint64_t seed = 1;
  std::string profile_yaml;
  std::string profile_source;
  TimePoint start{};        // the sim time when the fleet was created
  TimePoint advanced_to{};  // every device event up to here has been processed
};

// One install attempt that ended (a row of sim_installs).
struct InstallEvent {
  std::string device_id;
  TimePoint started{};  // the device saw the desired change and began the attempt
  TimePoint done{};     // its final report: from here on `to_version` runs (when it succeeded)
  std::string model_name;  // the model's name after the attempt
  std::string from_version, to_version;
  bool succeeded = true;
  bool operator==(const InstallEvent&) const = default;
};

// What the simulator needs of a hub twin, read for the whole fleet in one query.
struct TwinView {
  std::string id;
  bool enabled = true;
  std::string desired_version, desired_name;  // desired aiot.model; empty when absent
  std::string reported_version, ota_state;    // reported aiot.model.version, aiot.ota.state
};

class Store {
 public:
  // Opens the existing hub file; creates the tables only when `create` is true.
  Store(const std::filesystem::path& db, bool create);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // False when the file has no simulator tables yet.
  bool has_tables();
  std::optional<SimConfig> config();
  // Records a new fleet's config; does nothing when one exists already.
  void init_config(const SimConfig& c);
  std::vector<DeviceState> devices();
  void upsert_devices(std::span<const DeviceState> devices);
  // One transaction: the changed device states, the removed ids, the installs that ended and the
  // new position. Throws Error::unavailable when another advance moved the position away from
  // `from` meanwhile.
  void commit_advance(TimePoint from, TimePoint to, std::span<const DeviceState> changed,
                      std::span<const std::string> removed, std::span<const InstallEvent> installs = {});

  // Every recorded install, ordered by device and time.
  std::vector<InstallEvent> installs();
  // Since when installs are recorded: fleets advanced by an aiot older than sim_installs have no
  // history before this time. Empty when the fleet has never been advanced without it.
  std::optional<TimePoint> history_since();

  // Every device of the hub (simulated or not), ordered by id. The simulator is part of the local
  // engine (design.md §2), so it reads the engine's devices table directly: one json_extract query
  // is ~20x cheaper than parsing 10,000 twins through Registry::list. Writes still go through
  // LocalHub, which owns versions and etags.
  std::vector<TwinView> twins();

  struct Db;

 private:
  std::unique_ptr<Db> db_;
};

}  // namespace aiot::sim
