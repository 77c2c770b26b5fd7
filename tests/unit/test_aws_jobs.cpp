// The emulator's IoT Jobs engine: rollout rates, progress from device reports, timeouts, abort.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <map>

#include "aiot/emulator/aws_jobs.hpp"

using namespace aiot::emulator::aws;
using nlohmann::json;

namespace {

constexpr std::int64_t k_min = 60'000;

Job make_job(int things, json rollout = nullptr) {
  Job job;
  job.id = "j";
  job.document = R"({"operation":"install","version":"2.0"})";
  job.rollout = std::move(rollout);
  job.created_ms = 1'000'000;
  for (int i = 0; i < things; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "dev-%03d", i);
    JobExecution e;
    e.thing = name;
    job.executions.push_back(e);
  }
  return job;
}

std::size_t count(const Job& job, const std::string& status) {
  return static_cast<std::size_t>(std::count_if(job.executions.begin(), job.executions.end(),
                                                [&](const JobExecution& e) { return e.status == status; }));
}

}  // namespace

TEST_CASE("AWS jobs: rollout allowance for constant and exponential rates") {
  CHECK(rollout_allowance(nullptr, 0, 0) == 1000);
  CHECK(rollout_allowance({{"maximumPerMinute", 10}}, 0, 0) == 10);
  CHECK(rollout_allowance({{"maximumPerMinute", 10}}, 59'999, 0) == 10);
  CHECK(rollout_allowance({{"maximumPerMinute", 10}}, 60'000, 0) == 20);
  // The reference's worked example: base 50, factor 2, step 1000 notified -> 50, 100, 200, 400/min.
  json exp = {{"exponentialRate",
               {{"baseRatePerMinute", 50}, {"incrementFactor", 2.0}, {"rateIncreaseCriteria", {{"numberOfNotifiedThings", 1000}}}}}};
  CHECK(rollout_allowance(exp, 0, 0) == 50);
  CHECK(rollout_allowance(exp, 19 * k_min, 0) == 1000);      // 20 minutes at 50
  CHECK(rollout_allowance(exp, 20 * k_min, 0) == 1100);      // then 100/min
  CHECK(rollout_allowance(exp, 29 * k_min, 0) == 2000);
  CHECK(rollout_allowance(exp, 30 * k_min, 0) == 2200);      // then 200/min
  exp["maximumPerMinute"] = 150;
  CHECK(rollout_allowance(exp, 30 * k_min, 0) == 2150);      // capped at 150/min
  json by_success = {{"exponentialRate",
                      {{"baseRatePerMinute", 10}, {"incrementFactor", 2.0}, {"rateIncreaseCriteria", {{"numberOfSucceededThings", 5}}}}}};
  CHECK(rollout_allowance(by_success, k_min, 0) == 20);
  CHECK(rollout_allowance(by_success, k_min, 5) == 30);  // 10, then 20 once 5 succeeded
}

TEST_CASE("AWS jobs: executions roll out at the rate and progress from aiot.ota reports") {
  Job job = make_job(25, {{"maximumPerMinute", 10}});
  std::map<std::string, json> reports;
  OtaLookup ota = [&](const std::string& thing) -> std::optional<json> {
    auto it = reports.find(thing);
    return it == reports.end() ? std::nullopt : std::optional<json>(it->second);
  };
  std::int64_t t = job.created_ms;
  CHECK(advance(job, t, ota));
  CHECK(count(job, "QUEUED") == 10);
  CHECK(count(job, "") == 15);
  CHECK_FALSE(advance(job, t + 1000, ota));  // nothing new within the minute

  reports["dev-000"] = {{"state", "downloading"}, {"version", "2.0"}};
  reports["dev-001"] = {{"state", "succeeded"}, {"version", "2.0"}};
  reports["dev-002"] = {{"state", "failed"}, {"version", "2.0"}, {"error", "checksum"}};
  reports["dev-003"] = {{"state", "succeeded"}, {"version", "1.9"}};  // another version: ignored
  reports["dev-020"] = {{"state", "succeeded"}, {"version", "2.0"}};  // not notified yet: ignored
  CHECK(advance(job, t + 2000, ota));
  CHECK(job.executions[0].status == "IN_PROGRESS");
  CHECK(job.executions[1].status == "SUCCEEDED");
  CHECK(job.executions[2].status == "FAILED");
  CHECK(job.executions[2].status_details["error"] == "checksum");
  CHECK(job.executions[3].status == "QUEUED");
  CHECK(job.executions[20].status.empty());

  advance(job, t + k_min, ota);
  CHECK(count(job, "") == 5);
  advance(job, t + 2 * k_min, ota);
  CHECK(count(job, "") == 0);
  CHECK(job.executions[20].status == "QUEUED");  // notified now: its report counts from the next step
  advance(job, t + 2 * k_min + 1000, ota);
  CHECK(job.executions[20].status == "SUCCEEDED");
  auto details = process_details(job);
  CHECK(details["numberOfSucceededThings"] == 2);
  CHECK(details["numberOfFailedThings"] == 1);
  CHECK(details["numberOfInProgressThings"] == 1);
  CHECK(details["numberOfQueuedThings"] == 21);
  CHECK(job.status == "IN_PROGRESS");

  for (auto& e : job.executions) {
    reports[e.thing] = {{"state", "succeeded"}, {"version", "2.0"}};
  }
  reports["dev-002"] = {{"state", "failed"}, {"version", "2.0"}};
  advance(job, t + 3 * k_min, ota);
  CHECK(job.status == "COMPLETED");
  CHECK(job.completed_ms == t + 3 * k_min);
}

TEST_CASE("AWS jobs: in-progress timeout and abort that cancels only queued executions") {
  Job job = make_job(30, {{"maximumPerMinute", 20}});
  job.timeout = {{"inProgressTimeoutInMinutes", 5}};
  job.abort = {{"criteriaList", json::array({{{"failureType", "FAILED"}, {"action", "CANCEL"},
                                              {"thresholdPercentage", 20.0}, {"minNumberOfExecutedThings", 10}}})}};
  std::map<std::string, json> reports;
  OtaLookup ota = [&](const std::string& thing) -> std::optional<json> {
    auto it = reports.find(thing);
    return it == reports.end() ? std::nullopt : std::optional<json>(it->second);
  };
  std::int64_t t = job.created_ms;
  advance(job, t, ota);
  reports["dev-000"] = {{"state", "installing"}, {"version", "2.0"}};
  advance(job, t + 1000, ota);
  CHECK(job.executions[0].status == "IN_PROGRESS");
  advance(job, t + 1000 + 5 * k_min, ota);
  CHECK(job.executions[0].status == "TIMED_OUT");

  Job j2 = make_job(30, {{"maximumPerMinute", 20}});
  j2.abort = job.abort;
  advance(j2, t, ota);
  reports["dev-001"] = {{"state", "installing"}, {"version", "2.0"}};
  for (const char* d : {"dev-002", "dev-003", "dev-004"}) {
    reports[d] = {{"state", "failed"}, {"version", "2.0"}};
  }
  advance(j2, t + 1000, ota);  // 3 failed of 20 notified = 15 %: not yet
  CHECK(j2.status == "IN_PROGRESS");
  reports["dev-005"] = {{"state", "failed"}, {"version", "2.0"}};
  advance(j2, t + 2000, ota);  // 4 of 20 = 20 %: abort
  CHECK(j2.status == "CANCELED");
  CHECK(j2.reason_code == "AUTO_ABORT");
  CHECK(j2.executions[1].status == "IN_PROGRESS");  // IN_PROGRESS carries on
  CHECK(j2.executions[10].status == "CANCELED");
  CHECK(j2.executions[25].status == "CANCELED");    // never rolled out
  CHECK_FALSE(advance(j2, t + 10 * k_min, ota));      // a canceled job stays put
}

TEST_CASE("AWS jobs: CancelJob with and without force; document versions") {
  Job job = make_job(3);
  advance(job, job.created_ms, {});
  job.executions[0].status = "IN_PROGRESS";
  Job forced = job;
  cancel(job, job.created_ms + 1, "CANARY_FAILED", "abort", false);
  CHECK(job.status == "CANCELED");
  CHECK(job.executions[0].status == "IN_PROGRESS");
  CHECK(job.executions[1].status == "CANCELED");
  cancel(forced, forced.created_ms + 1, "X", "", true);
  CHECK(forced.executions[0].status == "CANCELED");
  CHECK(forced.force_canceled);

  CHECK(document_version(R"({"version":"1.5.0"})") == "1.5.0");
  CHECK(document_version(R"({"model":{"name":"m","version":"3"}})") == "3");
  CHECK(document_version(R"({"aiot":{"model":{"version":"4"}}})") == "4");
  CHECK_FALSE(document_version(R"({"operation":"reboot"})"));
  CHECK_FALSE(document_version("not json"));
}

TEST_CASE("AWS jobs: the device side: delivered once when queued, already-had documents, withdrawn on cancel") {
  Job job = make_job(4, {{"maximumPerMinute", 3}});
  job.document = R"({"operation":"aiot.install","aiot":{"model":{"name":"m","version":"2.0","uri":"u","sha256":"s"}}})";
  std::map<std::string, json> reports;
  std::vector<std::string> delivered, withdrawn;
  DeviceSide device;
  device.ota = [&](const std::string& thing) -> std::optional<json> {
    auto it = reports.find(thing);
    return it == reports.end() ? std::nullopt : std::optional<json>(it->second);
  };
  // dev-001 runs 2.0 already (its desired named it before this job): it has nothing new to do.
  reports["dev-001"] = {{"state", "succeeded"}, {"version", "2.0"}, {"ts", "2026-01-01T00:00:00Z"}};
  device.deliver = [&](const std::string& thing) {
    delivered.push_back(thing);
    return thing != "dev-001";
  };
  device.withdraw = [&](const std::string& thing) { withdrawn.push_back(thing); };
  const std::int64_t t = job.created_ms;
  advance(job, t, device);
  CHECK(delivered == std::vector<std::string>{"dev-000", "dev-001", "dev-002"});
  CHECK(job.executions[1].status == "SUCCEEDED");  // its old report counts at once
  CHECK(job.executions[1].updated_ms == t);        // clamped to the queue time
  CHECK(job.executions[0].status == "QUEUED");
  advance(job, t + 1000, device);
  CHECK(delivered.size() == 3);  // once per execution

  // Report times place the events: started at the report's ts, not when the job is looked at.
  reports["dev-000"] = {{"state", "installing"}, {"version", "2.0"}, {"ts", (t + 20'000) / 1000}  /* epoch seconds */};
  advance(job, t + 50 * k_min, device);
  CHECK(job.executions[0].status == "IN_PROGRESS");
  CHECK(job.executions[0].started_ms == t + 20'000);
  CHECK(delivered.size() == 4);  // dev-003 in the next minute

  cancel(job, t + 51 * k_min, "STOP", "", false, device.withdraw);
  CHECK(withdrawn == std::vector<std::string>{"dev-002", "dev-003"});  // QUEUED ones only
  CHECK(job.executions[0].status == "IN_PROGRESS");
}

TEST_CASE("AWS jobs: a success reported after the in-progress timeout is TIMED_OUT") {
  Job job = make_job(1);
  job.timeout = {{"inProgressTimeoutInMinutes", 10}};
  std::map<std::string, json> reports;
  OtaLookup ota = [&](const std::string& thing) -> std::optional<json> {
    auto it = reports.find(thing);
    return it == reports.end() ? std::nullopt : std::optional<json>(it->second);
  };
  const std::int64_t t = job.created_ms;
  advance(job, t, ota);
  reports["dev-000"] = {{"state", "downloading"}, {"version", "2.0"}, {"ts", (t + k_min) / 1000}};
  advance(job, t + 2 * k_min, ota);
  REQUIRE(job.executions[0].status == "IN_PROGRESS");
  reports["dev-000"] = {{"state", "succeeded"}, {"version", "2.0"}, {"ts", (t + 30 * k_min) / 1000}};
  advance(job, t + 60 * k_min, ota);
  CHECK(job.executions[0].status == "TIMED_OUT");
  CHECK(job.executions[0].updated_ms == t + 11 * k_min);
  CHECK(job.status == "COMPLETED");
}

TEST_CASE("AWS jobs: the aiot job document: its artifact and the desired twin") {
  const std::string doc = R"({"operation":"aiot.install","aiot":{"model":{"name":"det","version":"1.4","uri":"u","sha256":"s"}}})";
  auto model = document_model(doc);
  REQUIRE(model);
  CHECK((*model)["uri"] == "u");
  CHECK(document_version(doc) == "1.4");
  CHECK_FALSE(document_model(R"({"operation":"reboot"})"));
  CHECK_FALSE(document_model("{"));
  CHECK(desired_model_patch(*model) == json{{"aiot", {{"model", *model}}}});
  // Exactly the new artifact: a field only the previous one had goes.
  CHECK(desired_model_patch({{"name", "det"}, {"version", "1.3"}}, *model) ==
        json{{"aiot", {{"model", {{"name", "det"}, {"version", "1.3"}, {"uri", nullptr}, {"sha256", nullptr}}}}}});
  CHECK(desired_model_patch(nullptr, *model) == json{{"aiot", {{"model", nullptr}}}});
  CHECK(desired_has_model(desired_model_patch(*model), *model));
  CHECK(desired_has_model({{"aiot", {{"model", {{"name", "det"}, {"version", "1.4"}}}}}}, *model));
  CHECK_FALSE(desired_has_model({{"aiot", {{"model", {{"name", "det"}, {"version", "1.3"}}}}}}, *model));
  CHECK_FALSE(desired_has_model(json::object(), *model));
}
