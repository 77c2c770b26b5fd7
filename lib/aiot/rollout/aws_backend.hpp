#pragma once
// Rollouts through AWS IoT Core (../shared/reference/rollouts.md §4.5, §4.7; aws-iot.md §1.4-1.7):
//
//   record      thing aiot-ctl-<rollout> (attribute aiotController=true), named shadow
//               "aiot-rollout": state.reported.record = the record as a JSON *text* (a shadow allows
//               depth 8 only), written with the shadow version (etag = the version as text)
//   jobs        named shadow "aiot-jobs" on the same thing: the rollout's jobs in creation order
//               ({id, kind, wave, groups, model}), written before each CreateJob, so one read finds them
//   membership  static thing groups aiot-<rollout>_w_<wave> (updated devices) and
//               aiot-<rollout>_c_<k> (wave k's control); '_' cannot occur in rollout or wave names,
//               so no two rollouts or roles share a group
//   dispatch    one job per wave on its group (SNAPSHOT), document {"operation": "aiot.install",
//               "aiot": {"model": ...}}, maximumPerMinute = rate.perMinute, in-progress timeout =
//               timeouts.install, abortConfig from the outcome gate as a backstop
//   rollback    CancelJob on the rollout's wave jobs still IN_PROGRESS (queued executions never
//               install), then a job with the baseline document on the rolled-back waves' groups
//   members     Fleet Indexing (thingGroupNames:<group>, pages) for attributes and the "aiot" and
//               "aiot-health" shadows, plus ListJobExecutionsForJob of the rollout's jobs that target
//               those things' groups, mapped onto the device contract (execution_effect)
//
// The mappings are pure functions below, unit-tested; AwsRolloutBackend puts them on the wire.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/core/time.hpp"
#include "aiot/hub/aws/aws_client.hpp"
#include "aiot/rollout/backend.hpp"

namespace aiot::rollout::aws {

inline constexpr std::string_view k_record_shadow = "aiot-rollout";
inline constexpr std::string_view k_jobs_shadow = "aiot-jobs";
inline constexpr std::string_view k_controller_attribute = "aiotController";
inline constexpr std::string_view k_install_operation = "aiot.install";

// Thing group names ([a-zA-Z0-9:_-], at most 128: 5 + 48 + 3 + 63 at most here).
std::string wave_group(const std::string& rollout, const std::string& wave);
std::string control_group(const std::string& rollout, std::size_t wave_index);
// The group a selector reads; empty for everyone (all groups of the record's waves).
std::string selector_group(const std::string& rollout, const MemberSelector& selector);

// A job id ([a-zA-Z0-9_-], at most 64): aiot-<rollout, first 32>-<tag>-<10 hex of sha256(rollout,
// tag, version, salt)>. The same wave, version and record (salt: its createdAt) give the same id,
// so a CreateJob repeated after a crash is ResourceAlreadyExists (done); a later rollout of the
// same name gets other ids.
std::string job_id(const std::string& rollout, const std::string& tag, const std::string& version,
                   const std::string& salt);

// {"operation": "aiot.install", "aiot": {"model": model}}
json job_document(const json& model);

// abortConfig from the outcome gate: FAILED executions above failure_above (percent, 2 decimals)
// once min_samples things finished, CANCEL.
json abort_config(const AbortBackstop& backstop);

// The CreateJob of a wave (or the rollback job when `groups` are several waves' groups).
hub::aws::JobSpec wave_job(const std::string& id, const std::vector<std::string>& group_arns, const json& model,
                           double per_minute, std::chrono::milliseconds install_timeout,
                           const std::optional<AbortBackstop>& abort, const std::string& description);

// maximumPerMinute for rate.perMinute: 1..1000, AWS's default 1000 when there is no rate.
std::int64_t max_per_minute(double per_minute);
// How long after CreateJob the last of `devices` executions is rolled out at that rate (AWS
// releases a minute's worth at the start of each minute).
std::chrono::milliseconds notify_span(std::size_t devices, double per_minute);

// The record in the shadow: {"reported": {"record": "<canonical JSON text>"}} and back (nullopt
// when the shadow document holds no record).
json record_shadow_state(const json& record);
std::optional<json> record_from_shadow(const json& shadow_document);

// The rollout's jobs as kept in the "aiot-jobs" shadow.
struct JobEntry {
  std::string id;
  std::string kind;                 // "wave" or "rollback"
  std::int64_t wave = -1;           // the wave index of a wave job
  std::vector<std::string> groups;  // the thing groups it targets
  json model;                       // the model its document installs
  json to_json() const;
  static JobEntry from_json(const json& j);
};
std::vector<JobEntry> jobs_from_shadow(const json& shadow_document);
json jobs_shadow_state(const std::vector<JobEntry>& jobs);

// What a job execution status means for the device contract.
enum class ExecutionEffect { none, installing, succeeded, failed, timed_out };
// QUEUED, IN_PROGRESS -> installing; SUCCEEDED -> succeeded; FAILED, REJECTED -> failed; TIMED_OUT ->
// timed_out (kept apart so the outcome gate's timeoutCountsAsFailure decides, as on the other hubs);
// CANCELED, REMOVED (never installed) and unknown -> none.
ExecutionEffect execution_effect(std::string_view status);

// Puts an execution onto a device as the controller reads it: desired.aiot.model = the job's model
// and reported.aiot.ota = {state, version, ts} (state installing / succeeded / failed / timed_out). When the
// device's own report already says the same of that version (richer: its ts, error), it is kept,
// so health reported after the install still counts as after it.
void apply_execution(hub::Device& device, ExecutionEffect effect, const json& model, std::optional<TimePoint> at);

// A device from an indexed thing's attributes and named shadow states ({desired, reported} or
// null): tags from the attributes (aws_mapping), desired/reported of "aiot", and
// reported.aiot.health from "aiot-health" when the latter holds one.
hub::Device device_from_index(const std::string& name, const std::map<std::string, std::string>& attributes,
                              const json& aiot_state, const json& health_state);

// The thing name of an execution summary's thingArn (".../thing/<name>").
std::string thing_of_arn(std::string_view arn);
// An AWS timestamp (epoch seconds, a number) as a time point.
std::optional<TimePoint> aws_time(const json& value);

}  // namespace aiot::rollout::aws

namespace aiot::rollout {
// The rollout backend over an AWS IoT client (the client must outlive it).
std::unique_ptr<Backend> make_aws_backend(hub::aws::AwsClient& client);
}  // namespace aiot::rollout
