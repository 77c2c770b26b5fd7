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

bool is_terminal(const std::string& execution_status);

// How many executions may have been rolled out `elapsed_ms` after creation (cumulative), given
// the rollout config and the current succeeded count (for numberOfSucceededThings criteria).
// Minute granularity: each started minute releases that minute's rate.
std::int64_t rollout_allowance(const json& rollout, std::int64_t elapsed_ms, std::int64_t succeeded);

// Moves the job forward to `now_ms`: progress from reports, timeouts, abort, rollout, completion.
// Returns true when anything changed.
bool advance(Job& job, std::int64_t now_ms, const OtaLookup& ota);

// CancelJob: queued (and not yet rolled out) executions become CANCELED; with force, IN_PROGRESS too.
void cancel(Job& job, std::int64_t now_ms, const std::string& reason_code, const std::string& comment, bool force);

// jobProcessDetails: the counters of DescribeJob.
json process_details(const Job& job);

// The artifact version the job document names (version, or model/firmware/artifact.version), if any.
std::optional<std::string> document_version(const std::string& document);

}  // namespace aiot::emulator::aws
