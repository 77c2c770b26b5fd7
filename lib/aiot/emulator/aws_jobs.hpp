#pragma once
// IoT Jobs as `aiot hub serve --api aws` runs them (what moto does not do): executions are rolled
// out at the job's rate (maximumPerMinute, exponentialRate), progress from the devices' reported
// aiot.ota state (QUEUED -> IN_PROGRESS -> SUCCEEDED / FAILED / REJECTED), time out after
// inProgressTimeoutInMinutes, and the abort criteria cancel what is still queued. Pure functions
// over a job and a lookup of device reports, so they are unit-tested without a server or a clock.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace aiot::emulator::aws {

using json = nlohmann::json;

struct JobExecution {
  std::string thing;
  std::string status;  // "" = not rolled out yet (not notified), else QUEUED, IN_PROGRESS, SUCCEEDED, ...
  std::int64_t queued_ms = 0;
  std::int64_t started_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t execution_number = 1;
  json status_details = json::object();
};

struct Job {
  std::string id;
  std::string arn;
  std::string status = "IN_PROGRESS";  // IN_PROGRESS, CANCELED, COMPLETED
  std::string target_selection = "SNAPSHOT";
  std::string description;
  json targets = json::array();
  std::string document;  // the JSON string as sent
  json rollout = nullptr;  // jobExecutionsRolloutConfig
  json abort = nullptr;    // abortConfig
  json timeout = nullptr;  // timeoutConfig
  json retry = nullptr;    // jobExecutionsRetryConfig (stored and echoed; retries are not simulated)
  std::string reason_code;
  std::string comment;
  bool force_canceled = false;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t completed_ms = 0;
  std::vector<JobExecution> executions;  // sorted by thing
};

// The device's reported aiot.ota object ({state, version, error, ts}), or nullopt.
using OtaLookup = std::function<std::optional<json>(const std::string& thing)>;

// The device side of a job, as the emulator plays it over the local hub (docs/aws.md):
struct DeviceSide {
  DeviceSide() = default;
  DeviceSide(OtaLookup lookup) : ota(std::move(lookup)) {}  // NOLINT: reports only, as before
  OtaLookup ota;
  // Called once when an execution is rolled out (becomes QUEUED): hand the document to the device.
  // Returns true when the device got something new now (its desired model changed), false when it
  // had this document already; then its current report counts at once, whatever its age.
  std::function<bool(const std::string& thing)> deliver;
  // Called when an execution that was QUEUED (delivered, not started) is canceled: take the
  // document back, as a real device drops a job canceled before it started.
  std::function<void(const std::string& thing)> withdraw;
};

bool is_terminal(const std::string& execution_status);

// How many executions may have been rolled out `elapsed_ms` after creation (cumulative), given
// the rollout config and the current succeeded count (for numberOfSucceededThings criteria).
// Minute granularity: each started minute releases that minute's rate.
std::int64_t rollout_allowance(const json& rollout, std::int64_t elapsed_ms, std::int64_t succeeded);

// Moves the job forward to `now_ms`: progress from reports, timeouts, abort, rollout, completion.
// Returns true when anything changed. Execution times follow the reports' `ts` (clamped to the
// execution's queue time and `now_ms`), so they are the hub's (simulated) times even when the job
// is looked at long after; an execution whose terminal report came after its in-progress timeout
// is TIMED_OUT, as AWS would have decided in between.
bool advance(Job& job, std::int64_t now_ms, const DeviceSide& device);

// CancelJob: queued (and not yet rolled out) executions become CANCELED; with force, IN_PROGRESS too.
// `withdraw` (when set) is called for each execution that was QUEUED.
void cancel(Job& job, std::int64_t now_ms, const std::string& reason_code, const std::string& comment, bool force,
            const std::function<void(const std::string& thing)>& withdraw = {});

// jobProcessDetails: the counters of DescribeJob.
json process_details(const Job& job);

// The artifact version the job document names (version, or model/firmware/artifact.version, or
// aiot.model.version), if any.
std::optional<std::string> document_version(const std::string& document);

// The artifact of an aiot job document ({"operation":"aiot.install","aiot":{"model":{...}}}): the
// object the device gets as properties.desired.aiot.model; nullopt for other documents.
std::optional<json> document_model(const std::string& document);
// True when the device's properties.desired already names this artifact (same name and version).
bool desired_has_model(const json& desired, const json& model);
// The desired (merge) patch that makes properties.desired.aiot.model exactly `model` where it was
// `previous` (fields of `previous` that `model` lacks are removed; a null `model` removes it all).
json desired_model_patch(const json& model, const json& previous = nullptr);

}  // namespace aiot::emulator::aws
