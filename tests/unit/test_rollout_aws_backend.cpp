// The AWS IoT mapping of rollouts (lib/aiot/rollout/aws_backend.hpp): names, job ids, the job
// document and configs, the record in a shadow, and job execution statuses on the device contract.
#include <doctest/doctest.h>

#include <regex>

#include "aiot/core/error.hpp"
#include "aiot/rollout/aws_backend.hpp"
#include "aiot/rollout/gate_inputs.hpp"

using namespace aiot;
using namespace aiot::rollout;
using namespace aiot::rollout::aws;
using json = nlohmann::json;

namespace {
const json k_model = {{"name", "detector"}, {"version", "2.1"}, {"uri", "https://m.example/d-2.1.onnx"}, {"sha256", "ab"}};

TimePoint at(const char* text) { return *parse_rfc3339(text); }

bool valid_group(const std::string& g) { return std::regex_match(g, std::regex("[a-zA-Z0-9:_-]{1,128}")); }
bool valid_job_id(const std::string& id) { return std::regex_match(id, std::regex("[a-zA-Z0-9_-]{1,64}")); }
}  // namespace

TEST_CASE("aws rollout: group names are valid thing group names and never shared") {
  CHECK(wave_group("det-2-1", "canary") == "aiot-det-2-1_w_canary");
  CHECK(control_group("det-2-1", 0) == "aiot-det-2-1_c_0");
  // The longest names fit AWS's 128 characters.
  std::string rollout(48, 'r'), wave(63, 'w');
  CHECK(valid_group(wave_group(rollout, wave)));
  CHECK(valid_group(control_group(rollout, 12)));
  // '-' may occur in rollout and wave names, '_' in neither: rollout "a" wave "b-c" and rollout
  // "a-b" wave "c" get different groups, and no wave group is a control group.
  CHECK(wave_group("a", "b-c") != wave_group("a-b", "c"));
  CHECK(wave_group("r", "c-0") != control_group("r", 0));
  CHECK(selector_group("r", MemberSelector::wave_of(1, "early")) == wave_group("r", "early"));
  CHECK(selector_group("r", MemberSelector::control_of(1)) == control_group("r", 1));
  CHECK(selector_group("r", MemberSelector::everyone()).empty());
}

TEST_CASE("aws rollout: job ids are deterministic, valid and differ per wave, version and record") {
  auto id = job_id("detector-2-1", "w0", "2.1", "2026-11-26T08:00:00Z");
  CHECK(valid_job_id(id));
  CHECK(id.rfind("aiot-detector-2-1-w0-", 0) == 0);
  CHECK(id == job_id("detector-2-1", "w0", "2.1", "2026-11-26T08:00:00Z"));
  CHECK(id != job_id("detector-2-1", "w1", "2.1", "2026-11-26T08:00:00Z"));
  CHECK(id != job_id("detector-2-1", "w0", "2.2", "2026-11-26T08:00:00Z"));
  // A later rollout of the same name (another createdAt) must not find the old job "already done".
  CHECK(id != job_id("detector-2-1", "w0", "2.1", "2026-11-27T08:00:00Z"));
  // The longest rollout name still gives at most 64 characters.
  CHECK(valid_job_id(job_id(std::string(48, 'x'), "rb", "1.0", "")));
  CHECK(job_id(std::string(48, 'x'), "w12", "1.0", "").size() <= 64);
}

TEST_CASE("aws rollout: the wave job carries document, rate, timeout and the abort backstop") {
  auto spec = wave_job("aiot-r-w0-0123456789", {"arn:aws:iot:eu-west-1:123:thinggroup/aiot-r_w_canary"}, k_model, 100,
                       std::chrono::minutes(45), AbortBackstop{0.08, 50}, "aiot rollout r: wave canary -> 2.1");
  CHECK(spec.target_selection == "SNAPSHOT");
  CHECK(spec.targets.size() == 1);
  CHECK(spec.document == json({{"operation", "aiot.install"}, {"aiot", {{"model", k_model}}}}));
  CHECK(spec.rollout_config == json({{"maximumPerMinute", 100}}));
  CHECK(spec.timeout_config == json({{"inProgressTimeoutInMinutes", 45}}));
  REQUIRE(spec.abort_config.contains("criteriaList"));
  const auto& c = spec.abort_config["criteriaList"][0];
  CHECK(c["failureType"] == "FAILED");
  CHECK(c["action"] == "CANCEL");
  CHECK(c["thresholdPercentage"].get<double>() == doctest::Approx(8.0));
  CHECK(c["minNumberOfExecutedThings"] == 50);
  // The wire body: the document travels as a JSON string, the configs under their AWS names.
  auto body = hub::aws::AwsClient::create_job_body(spec);
  CHECK(body["document"].is_string());
  CHECK(json::parse(body["document"].get<std::string>())["aiot"]["model"]["version"] == "2.1");
  CHECK(body["abortConfig"] == spec.abort_config);
  CHECK(body["jobExecutionsRolloutConfig"]["maximumPerMinute"] == 100);
}

TEST_CASE("aws rollout: limits AWS cannot express are clamped, absent ones omitted") {
  // No rate, no timeout, no backstop: none of the configs is sent.
  auto bare = wave_job("j", {"arn"}, k_model, 0, std::chrono::milliseconds(0), std::nullopt, "");
  CHECK(bare.rollout_config.is_null());
  CHECK(bare.timeout_config.is_null());
  CHECK(bare.abort_config.is_null());
  // maximumPerMinute is 1..1000; a timeout rounds up to whole minutes, 1..10080.
  CHECK(wave_job("j", {"a"}, k_model, 5000, std::chrono::seconds(90), std::nullopt, "").rollout_config["maximumPerMinute"] == 1000);
  CHECK(wave_job("j", {"a"}, k_model, 0.5, std::chrono::seconds(90), std::nullopt, "").rollout_config["maximumPerMinute"] == 1);
  CHECK(wave_job("j", {"a"}, k_model, 0, std::chrono::seconds(90), std::nullopt, "").timeout_config["inProgressTimeoutInMinutes"] == 2);
  CHECK(wave_job("j", {"a"}, k_model, 0, std::chrono::hours(24 * 30), std::nullopt, "").timeout_config["inProgressTimeoutInMinutes"] == 10080);
  // Two decimals: 2.345% -> 2.35 (rounded), 0.1234 -> 12.34.
  CHECK(abort_config({0.02345, 30})["criteriaList"][0]["thresholdPercentage"].get<double>() == doctest::Approx(2.35));
  CHECK(abort_config({0.1234, 0})["criteriaList"][0]["thresholdPercentage"].get<double>() == doctest::Approx(12.34));
  CHECK(abort_config({0.1234, 0})["criteriaList"][0]["minNumberOfExecutedThings"] == 1);
}

TEST_CASE("aws rollout: when the last device of a wave is notified") {
  // A minute's worth at the start of each minute: 80 at 200/min all in minute 0; 1500 at AWS's
  // default 1000/min in minutes 0 and 1; 80 at 1/min in minutes 0..79.
  CHECK(notify_span(80, 200) == std::chrono::minutes(0));
  CHECK(notify_span(1500, 0) == std::chrono::minutes(1));
  CHECK(notify_span(1000, 0) == std::chrono::minutes(0));
  CHECK(notify_span(80, 1) == std::chrono::minutes(79));
  CHECK(notify_span(0, 1) == std::chrono::minutes(0));
  CHECK(max_per_minute(0) == 1000);
  CHECK(max_per_minute(2.7) == 2);
}

TEST_CASE("aws rollout: the record rides in the shadow as one JSON text") {
  // Depth 9 here: a shadow allows 8 levels, the text is one level.
  json record = {{"rollout", "r"}, {"waves", {{{"gates", {{"install", {{"looks", {{{"agg", 0.5}}}}}}}}}}}};
  auto state = record_shadow_state(record);
  REQUIRE(state["reported"]["record"].is_string());
  json document = {{"state", state}, {"version", 7}};
  auto back = record_from_shadow(document);
  REQUIRE(back);
  CHECK(*back == record);
  CHECK_FALSE(record_from_shadow({{"state", {{"reported", {{"other", 1}}}}}}));
  CHECK_FALSE(record_from_shadow(json::object()));
  CHECK_THROWS_AS(record_from_shadow({{"state", {{"reported", {{"record", "[1,2"}}}}}}), Error);
}

TEST_CASE("aws rollout: the jobs list round-trips through its shadow") {
  JobEntry wave{"aiot-r-w0-aa", "wave", 0, {"aiot-r_w_canary"}, k_model};
  JobEntry rb{"aiot-r-rb-bb", "rollback", -1, {"aiot-r_w_canary", "aiot-r_w_all"}, {{"version", "2.0"}}};
  auto jobs = jobs_from_shadow({{"state", jobs_shadow_state({wave, rb})}});
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].id == "aiot-r-w0-aa");
  CHECK(jobs[0].wave == 0);
  CHECK(jobs[0].model == k_model);
  CHECK(jobs[1].kind == "rollback");
  CHECK(jobs[1].wave == -1);
  CHECK(jobs[1].groups == std::vector<std::string>{"aiot-r_w_canary", "aiot-r_w_all"});
  CHECK(jobs_from_shadow(json::object()).empty());
}

TEST_CASE("aws rollout: job execution statuses on the device contract") {
  CHECK(execution_effect("QUEUED") == ExecutionEffect::installing);
  CHECK(execution_effect("IN_PROGRESS") == ExecutionEffect::installing);
  CHECK(execution_effect("SUCCEEDED") == ExecutionEffect::succeeded);
  CHECK(execution_effect("FAILED") == ExecutionEffect::failed);
  CHECK(execution_effect("TIMED_OUT") == ExecutionEffect::timed_out);
  CHECK(execution_effect("REJECTED") == ExecutionEffect::failed);
  CHECK(execution_effect("CANCELED") == ExecutionEffect::none);
  CHECK(execution_effect("REMOVED") == ExecutionEffect::none);
  CHECK(execution_effect("SOMETHING_NEW") == ExecutionEffect::none);

  hub::Device d;
  d.id = "dev-1";
  d.desired = {{"aiot", {{"model", {{"version", "2.0"}}}}}};
  d.reported = {{"aiot", {{"ota", {{"state", "succeeded"}, {"version", "2.0"}, {"ts", "2026-11-26T07:00:00Z"}}}}}};

  SUBCASE("a queued execution: desired is the job's model, the device is installing it") {
    apply_execution(d, ExecutionEffect::installing, k_model, at("2026-11-26T08:00:00Z"));
    CHECK(d.desired["aiot"]["model"] == k_model);
    CHECK(d.reported["aiot"]["ota"] == json({{"state", "installing"}, {"version", "2.1"}, {"ts", "2026-11-26T08:00:00Z"}}));
  }
  SUBCASE("a succeeded execution the device has not reported yet") {
    apply_execution(d, ExecutionEffect::succeeded, k_model, at("2026-11-26T08:10:00Z"));
    CHECK(d.reported["aiot"]["ota"]["state"] == "succeeded");
    CHECK(d.reported["aiot"]["ota"]["version"] == "2.1");
    CHECK(d.reported["aiot"]["ota"]["ts"] == "2026-11-26T08:10:00Z");
  }
  SUBCASE("the device's own report of the same outcome is kept (its ts orders health reports)") {
    d.reported["aiot"]["ota"] = {{"state", "succeeded"}, {"version", "2.1"}, {"ts", "2026-11-26T08:05:00Z"}};
    apply_execution(d, ExecutionEffect::succeeded, k_model, at("2026-11-26T08:30:00Z"));
    CHECK(d.reported["aiot"]["ota"]["ts"] == "2026-11-26T08:05:00Z");
  }
  SUBCASE("a device that finished before the job engine noticed is not set back to installing") {
    d.reported["aiot"]["ota"] = {{"state", "failed"}, {"version", "2.1"}, {"error", "E42"}};
    apply_execution(d, ExecutionEffect::installing, k_model, at("2026-11-26T08:30:00Z"));
    CHECK(d.reported["aiot"]["ota"]["state"] == "failed");
    CHECK(d.reported["aiot"]["ota"]["error"] == "E42");
  }
  SUBCASE("the job's verdict wins over a report that says otherwise") {
    d.reported["aiot"]["ota"] = {{"state", "installing"}, {"version", "2.1"}};
    apply_execution(d, ExecutionEffect::failed, k_model, at("2026-11-26T08:30:00Z"));
    CHECK(d.reported["aiot"]["ota"]["state"] == "failed");
  }
  SUBCASE("an execution AWS timed out is a timed-out install, not a failure") {
    // The outcome gate's timeoutCountsAsFailure decides what it weighs, as on the other hubs.
    d.reported["aiot"]["ota"] = {{"state", "installing"}, {"version", "2.1"}};
    apply_execution(d, ExecutionEffect::timed_out, k_model, at("2026-11-26T09:30:00Z"));
    CHECK(d.reported["aiot"]["ota"]["state"] == "timed_out");
    TimePoint dispatched = at("2026-11-26T08:00:00Z");
    // Before the CLI's own install timeout would say so: the hub's verdict is what counts.
    CHECK(device_outcome(d, "2.1", dispatched, dispatched + std::chrono::minutes(5), std::chrono::hours(100)) ==
          DeviceOutcome::timed_out);
  }
  SUBCASE("a canceled execution changes nothing") {
    auto before = d.reported;
    apply_execution(d, ExecutionEffect::none, k_model, at("2026-11-26T08:30:00Z"));
    CHECK(d.reported == before);
    CHECK(d.desired["aiot"]["model"]["version"] == "2.0");
  }
}

TEST_CASE("aws rollout: an indexed thing becomes a device with its health") {
  std::map<std::string, std::string> attributes = {{"hw", "pi5"}, {"site", "berlin"}};
  json aiot_state = {{"desired", {{"aiot", {{"model", {{"version", "2.0"}}}}}}},
                     {"reported", {{"aiot", {{"ota", {{"state", "succeeded"}, {"version", "2.0"}}}}}}}};
  json health = {{"reported", {{"crashes_1h", 0}, {"ts", "2026-11-26T08:00:00Z"}}}};
  auto d = device_from_index("dev-7", attributes, aiot_state, health);
  CHECK(d.id == "dev-7");
  CHECK(d.enabled);
  CHECK(d.tags["hw"] == "pi5");
  CHECK(d.desired["aiot"]["model"]["version"] == "2.0");
  CHECK(d.reported["aiot"]["ota"]["version"] == "2.0");
  CHECK(d.reported["aiot"]["health"]["crashes_1h"] == 0);

  auto bare = device_from_index("dev-8", {{"aiot:disabled", "true"}}, nullptr, nullptr);
  CHECK_FALSE(bare.enabled);
  CHECK(bare.reported.empty());
  CHECK(bare.tags.empty());
}

TEST_CASE("aws rollout: execution summaries name their thing by ARN and time in epoch seconds") {
  CHECK(thing_of_arn("arn:aws:iot:eu-west-1:123456789012:thing/dev-0042") == "dev-0042");
  CHECK(thing_of_arn("dev-0042") == "dev-0042");
  CHECK(aws_time(json(1795939200.5)) == TimePoint(std::chrono::milliseconds(1795939200500)));
  CHECK_FALSE(aws_time(json("2026-11-26")));
}
