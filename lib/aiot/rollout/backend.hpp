#pragma once
// What a rollout needs from a hub (../shared/reference/rollouts.md §4.5, §4.7), behind one
// interface so the controller never sees a provider:
// - the controller record: the rollout's state, written with compare-and-swap, so any machine can
//   resume it and two drivers cannot both win;
// - membership: each planned device carries tags.aiot.rollouts.<name> = {wave: W} when a wave
//   updates it and control: {w<k>: true} for each wave k whose matched control it is (a device can
//   be a control while an early wave bakes and be updated by a later wave), so status and gates are
//   recomputed from the hub with one query, not from local files;
// - dispatch: the artifact set as properties.desired.aiot.model (the device contract, design.md §5).
// That is the registry backend (local engine, IoT Hub). AWS IoT maps the same onto a named shadow,
// static thing groups and one job per wave (aws_backend.hpp).
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <optional>
#include <string>
#include <vector>

#include "aiot/hub/hub.hpp"

namespace aiot::rollout {

using json = nlohmann::json;

struct Record {
  json state;
  std::string etag;
};

struct Assignment {
  std::string device;
  std::string wave;                     // the wave that updates it; empty: never updated
  std::vector<std::size_t> control_for; // indexes of the waves it is a control device of
};

// Which of a rollout's devices to read: all of them, the devices a wave updates, or the matched
// control devices of wave k. A structure, not a query text, so each backend maps it onto what its
// hub can select by (a tag condition on IoT Hub and the local engine, a thing group on AWS).
struct MemberSelector {
  enum class Kind { all, wave, control };
  Kind kind = Kind::all;
  std::size_t wave_index = 0;  // wave and control
  std::string wave;            // wave: its name
  bool with_tags = true;       // what the caller reads of the members (hub::ListOptions)
  bool with_desired = true;
  bool with_reported = true;
  static MemberSelector everyone() { return {}; }
  static MemberSelector wave_of(std::size_t index, std::string name) { return {Kind::wave, index, std::move(name)}; }
  static MemberSelector control_of(std::size_t index) { return {Kind::control, index, {}}; }
  // Only the members' reports are read (gate looks).
  MemberSelector reports() && {
    with_tags = with_desired = false;
    return std::move(*this);
  }
  // The members' tags are not read (dispatches).
  MemberSelector without_tags() && {
    with_tags = false;
    return std::move(*this);
  }
  // Nor their reports (a dispatch with no in-flight limit).
  MemberSelector without_reports() && {
    with_reported = false;
    return std::move(*this);
  }
};

// Query conditions for a wave's updated devices and for its matched control (tags, see above).
std::string wave_condition(const std::string& rollout, const std::string& wave);
std::string control_condition(const std::string& rollout, std::size_t wave_index);
// The condition of a selector on top of the rollout's membership tag ("" for everyone).
std::string selector_condition(const std::string& rollout, const MemberSelector& selector);

// The backstop a hub with native job control can apply by itself, from the outcome gate: stop
// handing out the version once more than failure_above of at least min_samples finished installs failed.
struct AbortBackstop {
  double failure_above = 0;  // a fraction
  std::int64_t min_samples = 1;
};

// One dispatch of a wave (or of one batch of it): everything a backend may need to hand it over.
struct WaveDispatch {
  std::string rollout;
  std::size_t wave_index = 0;
  std::string wave;
  std::string op_id;   // the controller's write-ahead id (aiot-<rollout8>-w<k>-a<batch>)
  std::string salt;    // the record's createdAt: provider ids of a later rollout of the same name differ
  json model;          // properties.desired.aiot.model
  std::vector<hub::Device> devices;  // the batch, as just read by members() (backends that write per device)
  std::size_t wave_size = 0;         // devices in the wave
  double per_minute = 0;             // rate.perMinute (0: no limit)
  std::chrono::milliseconds install_timeout{0};
  std::optional<AbortBackstop> abort;
};

struct DispatchResult {
  std::size_t changed = 0;                 // devices (or for a job: targets) actually handed the version now
  std::vector<std::string> provider_ids;   // jobs created (AWS), for the journal
  // A hub that paces natively: how long after the dispatch its last device is due to be notified.
  std::chrono::milliseconds notify_span{0};
};

// A rollback: the waves whose devices go back to the baseline.
struct RevertRequest {
  std::string rollout;
  std::vector<std::pair<std::size_t, std::string>> waves;  // index, name
  json baseline_model;
  std::string baseline_version;
  std::string op_id;
  std::string salt;
  std::size_t wave_devices = 0;  // the waves' planned devices (the record's counts)
};

struct RevertResult {
  std::size_t devices = 0;   // devices set back
  std::size_t changed = 0;   // of them, those actually written now
  std::vector<std::string> provider_ids;  // the rollback job (AWS)
  std::vector<std::string> canceled;      // wave jobs canceled (AWS)
};

// One arm of a wave as a gate look counts it (Backend::count_arm).
struct ArmQuery {
  MemberSelector arm;                // the wave's updated devices or its control
  std::string version;               // the version the arm's health must be measured on
  bool installs = false;             // count the members' installs (the canary's outcome gate)
  std::vector<std::string> metrics;  // distinct query-language paths ("properties.reported.aiot.health.x")
};

// Members of an arm by their reported ota.version and ota.state ("" when not reported).
struct InstallCount {
  std::string version;
  std::string state;
  std::int64_t count = 0;
};

struct ArmCounts {
  std::int64_t members = 0;
  std::vector<InstallCount> installs;  // only when ArmQuery::installs
  // Members that run `version`, report ota.state succeeded and health measured on `version`.
  std::int64_t reporting = 0;
  // Per metric (ArmQuery::metrics order): those reporting members counted by the metric's value.
  std::vector<std::vector<hub::GroupCount>> values;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::optional<Record> read(const std::string& rollout) = 0;
  // if_etag empty: create (Reason::conflict when it exists). Otherwise compare-and-swap
  // (Reason::precondition_failed when someone wrote in between). Returns the new etag.
  virtual std::string write(const std::string& rollout, const json& state, const std::string& if_etag) = 0;
  virtual std::vector<std::string> rollouts() = 0;
  // Idempotent: writing the same assignment again changes nothing.
  virtual void assign(const std::string& rollout, const std::vector<Assignment>& assignments) = 0;
  // The rollout's devices that the selector picks, with their reports (desired/reported as the
  // device contract has them: properties.desired.aiot.model, reported.aiot.ota / .health).
  virtual std::vector<hub::Device> members(const std::string& rollout, const MemberSelector& selector) = 0;
  // Counts what a gate look judges in one arm (ArmQuery) without reading the members one by one:
  // a few requests whatever the arm's size. nullopt: this backend cannot here (no aggregation,
  // devices that do not name the version of their health, a metric it cannot count): the
  // controller then reads members().
  virtual std::optional<ArmCounts> count_arm(const std::string& rollout, const ArmQuery& query) {
    (void)rollout, (void)query;
    return std::nullopt;
  }
  // Removes the membership when a rollout is finished (devices keep what they run).
  virtual void release(const std::string& rollout) = 0;

  // True when the hub paces a wave itself (AWS IoT Jobs: maximumPerMinute): the controller then
  // hands the whole wave over in one dispatch instead of batching it under rate limits.
  virtual bool paces_natively() const { return false; }
  // True when the hub times installs out itself (AWS: the job's in-progress timeout) and reports
  // that as a failed install: the controller then applies no timeout of its own to the outcome.
  virtual bool times_out_natively() const { return false; }
  // Hands the model to the wave's devices. Idempotent: devices (or a job) that already have it are
  // untouched. Without native pacing `devices` is the batch and only those are written.
  virtual DispatchResult dispatch_wave(const WaveDispatch& dispatch) = 0;
  // Sets the waves' devices back to the baseline model (and stops what is still handing out the
  // new version). Idempotent.
  virtual RevertResult revert(const RevertRequest& request) = 0;
};

// The generic backend over hub::Registry: the record lives in the tags of a controller device
// `aiot-ctl-<rollout>` (IoT Hub's etag-checked twin; the local engine does the same), membership
// in device tags, dispatch through Registry::update_many. Works for the local engine and Azure.
std::unique_ptr<Backend> make_registry_backend(hub::Hub& hub);

// The backend for a hub: AWS IoT (aws_backend.hpp) for hub: aws, the registry backend otherwise.
std::unique_ptr<Backend> make_backend(hub::Hub& hub);

// The condition that keeps controller devices out of cohorts and listings of the fleet.
inline constexpr const char* k_not_controller = "NOT IS_DEFINED(tags.aiotController)";
std::string controller_device_id(const std::string& rollout);

// Rollout names: a lower-case letter, then lower-case letters, digits and '-', at most 48 in all
// (they appear in device ids, tag paths, AWS job ids and file names).
bool valid_rollout_name(const std::string& name);

}  // namespace aiot::rollout
