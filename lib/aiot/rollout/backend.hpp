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
#include <nlohmann/json.hpp>

#include <memory>
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

// Query conditions for a wave's updated devices and for its matched control.
std::string wave_condition(const std::string& rollout, const std::string& wave);
std::string control_condition(const std::string& rollout, std::size_t wave_index);

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
  // Sets properties.desired.aiot.model on the devices; a device that already has it is untouched.
  // Returns how many devices actually changed.
  virtual std::size_t dispatch(const std::vector<std::string>& devices, const json& desired_model) = 0;
  // The rollout's devices (optionally narrowed by a query condition on top), with their reports.
  virtual std::vector<hub::Device> members(const std::string& rollout, const std::string& where = {}) = 0;
  // Removes the membership tags when a rollout is finished (devices keep what they run).
  virtual void release(const std::string& rollout) = 0;
  // The same for devices the caller has just read (members()): skips reading them again, so a
  // wave's dispatch costs one query for the wave and the writes.
  virtual std::size_t dispatch_read(const std::vector<hub::Device>& devices, const json& desired_model) = 0;
};

// The generic backend over hub::Registry: the record lives in the tags of a controller device
// `aiot-ctl-<rollout>` (IoT Hub's etag-checked twin; the local engine does the same), membership
// in device tags, dispatch through Registry::update_many. Works for the local engine and Azure.
std::unique_ptr<Backend> make_registry_backend(hub::Hub& hub);

// The condition that keeps controller devices out of cohorts and listings of the fleet.
inline constexpr const char* k_not_controller = "NOT IS_DEFINED(tags.aiotController)";
std::string controller_device_id(const std::string& rollout);

// Rollout names: a lower-case letter, then lower-case letters, digits and '-', at most 48 in all
// (they appear in device ids, tag paths, AWS job ids and file names).
bool valid_rollout_name(const std::string& name);

}  // namespace aiot::rollout
