#pragma once
// The fleet simulator (design.md §4): simulated devices on the local hub that follow the device
// contract (design.md §5, simulated as described in sim/device.hpp), driven by the hub's clock.
//
// For the rollout controller and other callers, the whole API is:
//
//   if (sim::is_simulated(hub)) {                         // does this hub have a simulated fleet?
//     auto summary = sim::advance(hub, std::chrono::hours(2));   // move the clock, play the devices
//   }
//
// or, to keep the profile and seed loaded across several steps:
//
//   auto simulator = sim::Simulator::open(hub);
//   simulator.advance(15min); simulator.advance_to(t); simulator.status();
//
// Time: the hub's clock (LocalHub::sim_time). `advance` moves it forward and processes every
// device event in (old, new], each device seeing its desired twin as it is at `old`. All of a
// device's reports within one advance reach the hub as one twin update (the latest value of
// aiot.ota, aiot.model and aiot.health), as a device that batches its reports would.
//
// Crash safety: an advance moves the hub clock first, then writes the devices' reports (in
// chunks), then its own state. If it dies in between, the next advance starts again from the last
// completed position, re-applying the same reports (merge patches are idempotent), so nothing is
// lost or applied twice. Two advances at once: the later commit fails with exit 5.
//
// Reported on top of design.md §5: properties.reported.aiot.model = {name, version}, the model the
// device runs (a failed install keeps the old one), so "which version runs where" is one query.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "aiot/core/time.hpp"
#include "aiot/sim/profile.hpp"

namespace aiot::hub::local {
class LocalHub;
}

namespace aiot::sim {


struct FleetSpec {
  std::size_t devices = 0;
  std::string profile_yaml;    // empty: the built-in profile
  std::string profile_source;  // names the profile in messages ("sim.yaml")
  std::uint64_t seed = 1;
  std::string prefix = "dev-";         // ids prefix-00001 ... (wider when N > 99,999)
  std::optional<TimePoint> start;      // the sim clock if the hub has none; default the hub's now()
};

struct FleetResult {
  std::size_t created = 0;    // registered now
  std::size_t unchanged = 0;  // already simulated (a re-run)
  TimePoint sim_time{};
  bool clock_started = false;  // the hub had no sim clock; it starts at sim_time
  bool start_ignored = false;  // `start` was given but the hub's clock was already running elsewhere
  std::string first_id, last_id;
};

struct AdvanceSummary {
  TimePoint from{}, to{};
  std::size_t installs_started = 0;  // desired changes seen at `from`
  std::size_t downloading = 0, installing = 0, succeeded = 0, failed = 0;  // reports in (from, to]
  std::size_t health_reports = 0;    // devices whose twin got a new aiot.health
  std::size_t devices_reported = 0;  // twins updated
  std::size_t offline = 0;           // disabled devices: frozen
  std::size_t removed = 0;           // simulated devices deleted from the hub, forgotten now
};

struct FleetStatus {
  TimePoint sim_time{};
  std::uint64_t seed = 0;
  std::string profile_source;
  std::size_t devices = 0;
  std::size_t offline = 0;
  std::size_t installing = 0;  // an install attempt in progress
  std::map<std::string, std::size_t> by_version;    // reported aiot.model.version
  std::map<std::string, std::size_t> by_ota_state;  // reported aiot.ota.state
};

// Called during fleet creation: (devices done, total).
using ProgressFn = std::function<void(std::size_t, std::size_t)>;

// True when the hub holds a simulated fleet (`aiot sim fleet` ran on it).
bool is_simulated(hub::local::LocalHub& hub);

class Simulator {
 public:
  // Throws Error::not_found (exit 1) when the hub has no simulated fleet.
  static Simulator open(hub::local::LocalHub& hub);

  // Registers devices prefix-00001..N (SAS, tags site/region/hw/sim=true, desired aiot.model,
  // reported ota succeeded + model + health) and records profile and seed in the hub. Idempotent:
  // devices that exist already are left as they are, so a re-run changes nothing and a larger N
  // adds devices. Errors: Error::usage for a bad profile or spec (nothing written), Error::conflict
  // when the hub's fleet uses another seed or profile, or when devices with these ids exist and are
  // not simulated.
  static FleetResult create_fleet(hub::local::LocalHub& hub, const FleetSpec& spec, const ProgressFn& progress = {});

  Simulator(Simulator&&) noexcept;
  Simulator& operator=(Simulator&&) noexcept;
  ~Simulator();

  // Moves the hub clock by `by` (> 0) and plays every device event up to it.
  AdvanceSummary advance(std::chrono::milliseconds by);
  // The same up to `t`, which must be later than the sim time (Error::usage otherwise).
  AdvanceSummary advance_to(TimePoint t);
  // Finishes an interrupted advance up to the current hub clock (see sim::settle).
  AdvanceSummary settle();
  FleetStatus status();
  TimePoint now();
  const Profile& profile() const;
  std::uint64_t seed() const;

 private:
  struct Impl;
  explicit Simulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Simulator::open(hub).advance(by).
AdvanceSummary advance(hub::local::LocalHub& hub, std::chrono::milliseconds by);

// The desired aiot.model a simulated device gets for `version`: {name, version, uri, sha256} with
// uri "sim://models/NAME/VERSION" and sha256 the hex digest of "NAME@VERSION" (the simulator
// installs no bytes; the fields are there so twins look like a real fleet's).
std::string artifact_uri(const std::string& name, const std::string& version);
std::string artifact_sha256(const std::string& name, const std::string& version);

// Finishes an advance that a killed process left half done (the hub clock moved, some reports not
// written), without moving the clock. Call it before reading device reports as of "now", as the
// rollout controller does. A no-op on a consistent hub.
AdvanceSummary settle(hub::local::LocalHub& hub);

}  // namespace aiot::sim
