// The model-version ledger: registry reports + rollout journal -> per-device intervals, and the
// attribution of records around an update (mid-rollout devices, rollbacks, failed installs, leaks).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aiot/core/time.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/lineage/ledger.hpp"

using namespace aiot::lineage;
using nlohmann::json;

namespace {

std::int64_t ms(const char* rfc3339) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(aiot::parse_rfc3339(rfc3339)->time_since_epoch()).count();
}

aiot::hub::Device device(const std::string& id, const std::string& hw, const json& rollouts, const std::string& version,
                         const json& ota) {
  aiot::hub::Device d;
  d.id = id;
  d.tags = {{"hw", hw}, {"site", "berlin"}};
  if (!rollouts.is_null()) d.tags["aiot"] = {{"rollouts", rollouts}};
  d.reported = {{"aiot", {{"model", {{"name", "vision"}, {"version", version}}}, {"ota", ota}}}};
  return d;
}

json ota(const std::string& state, const std::string& version, const std::string& ts) {
  return {{"state", state}, {"version", version}, {"ts", ts}};
}

// The journal of rollout "vision-2" (1.0 -> 2.0): canary dispatched 10:00, early 12:00, and with
// `rollback`, a rollback of both waves at 14:00.
std::vector<json> journal(bool rollback) {
  std::vector<json> j = {
      {{"op", "PLANNED"}, {"rollout", "vision-2"}, {"baseline", "1.0"}, {"target", "2.0"}, {"ts", "2026-11-23T09:00:00Z"}},
      {{"op", "STARTED"}, {"rollout", "vision-2"}, {"ts", "2026-11-23T09:00:00Z"}},
      {{"op", "WAVE_DISPATCHED"}, {"rollout", "vision-2"}, {"wave", "canary"}, {"ts", "2026-11-23T10:00:00Z"}},
      {{"op", "PROMOTED"}, {"rollout", "vision-2"}, {"from", "canary"}, {"to", "early"}, {"ts", "2026-11-23T12:00:00Z"}},
      {{"op", "WAVE_DISPATCHED"}, {"rollout", "vision-2"}, {"wave", "early"}, {"ts", "2026-11-23T12:00:00Z"}},
  };
  if (rollback)
    j.push_back({{"op", "ROLLBACK_STARTED"}, {"rollout", "vision-2"}, {"waves", {"canary", "early"}}, {"to", "1.0"},
                 {"ts", "2026-11-23T14:00:00Z"}});
  return j;
}

}  // namespace

TEST_CASE("a device mid-rollout: the old version before its wave, either in the install window, the new one after") {
  std::vector<aiot::hub::Device> devices = {
      device("cam-1", "pi5", {{"vision-2", {{"wave", "canary"}}}}, "2.0", ota("succeeded", "2.0", "2026-11-23T10:12:00Z")),
      device("cam-2", "pi4", {{"vision-2", {{"wave", "broad"}}}}, "1.0", ota("succeeded", "1.0", "2026-11-20T08:00:00Z")),
      device("cam-3", "pi4", {{"vision-2", {{"control", {{"w0", true}}}}}}, "1.0", ota("succeeded", "1.0", "2026-11-20T08:00:00Z")),
  };
  auto ledger = Ledger::build(devices, {journal(false)}, {});
  REQUIRE(ledger.size() == 3);
  const auto* cam1 = ledger.find("cam-1");
  REQUIRE(cam1);
  CHECK(cam1->device_class == "pi5");
  REQUIRE(cam1->intervals.size() == 4);
  CHECK(cam1->intervals[0].version == "1.0");
  CHECK(cam1->intervals[0].to_ms == ms("2026-11-23T10:00:00Z"));
  CHECK(cam1->intervals[1].other == "2.0");                        // dispatched, not installed yet
  CHECK(cam1->intervals[1].to_ms == ms("2026-11-23T10:12:00Z"));
  CHECK(cam1->intervals[2].version == "2.0");
  CHECK(cam1->intervals[2].to_ms == ms("2026-11-23T10:45:00Z"));  // install window: 45 min after dispatch
  CHECK(cam1->intervals[3].version == "2.0");

  // Records without a payload version: by the reported install time.
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T09:59:00Z"), "").version == "1.0");
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T10:05:00Z"), "").version == "1.0");
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T10:30:00Z"), "").version == "2.0");
  // Around the transition either version is accepted; after the window only the new one.
  auto in_window = ledger.attribute(*cam1, ms("2026-11-23T10:30:00Z"), "1.0");
  CHECK(in_window.status == Attribution::Status::ok);
  CHECK(in_window.version == "1.0");
  auto early = ledger.attribute(*cam1, ms("2026-11-23T10:05:00Z"), "2.0");
  CHECK(early.status == Attribution::Status::ok);
  CHECK(early.version == "2.0");
  auto after = ledger.attribute(*cam1, ms("2026-11-23T11:00:00Z"), "1.0");
  CHECK(after.status == Attribution::Status::mismatch);
  CHECK(after.expected == "2.0");
  CHECK_FALSE(after.leak);

  // cam-2's wave was never dispatched: a record claiming 2.0 is a canary leak.
  const auto* cam2 = ledger.find("cam-2");
  REQUIRE(cam2);
  auto leak = ledger.attribute(*cam2, ms("2026-11-23T11:00:00Z"), "2.0");
  CHECK(leak.status == Attribution::Status::mismatch);
  CHECK(leak.leak);
  CHECK(leak.version == "1.0");
  // A control device stays on the baseline.
  const auto* cam3 = ledger.find("cam-3");
  REQUIRE(cam3->intervals.size() == 1);
  CHECK(ledger.attribute(*cam3, ms("2026-11-23T13:00:00Z"), "1.0").status == Attribution::Status::ok);
}

TEST_CASE("a rollback and a failed install") {
  std::vector<aiot::hub::Device> devices = {
      // Updated at 10:10, rolled back at 14:00 and confirmed 1.0 at 14:03.
      device("cam-1", "pi5", {{"vision-2", {{"wave", "canary"}}}}, "1.0", ota("succeeded", "1.0", "2026-11-23T14:03:00Z")),
      // Its install of 2.0 failed at 12:20: it kept 1.0; the rollback then changes nothing for it.
      device("cam-4", "pi4", {{"vision-2", {{"wave", "early"}}}}, "1.0", ota("failed", "2.0", "2026-11-23T12:20:00Z")),
  };
  auto ledger = Ledger::build(devices, {journal(true)}, {.install_window_ms = 30 * 60'000});
  const auto* cam1 = ledger.find("cam-1");
  REQUIRE(cam1);
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T13:00:00Z"), "2.0").status == Attribution::Status::ok);
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T13:00:00Z"), "1.0").status == Attribution::Status::mismatch);
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T14:01:00Z"), "").version == "2.0");  // before the reported rollback install
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T14:10:00Z"), "").version == "1.0");
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T14:10:00Z"), "2.0").status == Attribution::Status::ok);  // window
  CHECK(ledger.attribute(*cam1, ms("2026-11-23T15:00:00Z"), "2.0").status == Attribution::Status::mismatch);

  const auto* cam4 = ledger.find("cam-4");
  REQUIRE(cam4);
  CHECK(ledger.attribute(*cam4, ms("2026-11-23T12:10:00Z"), "2.0").status == Attribution::Status::ok);
  auto late = ledger.attribute(*cam4, ms("2026-11-23T13:00:00Z"), "2.0");
  CHECK(late.status == Attribution::Status::mismatch);
  CHECK(late.interval->reason.find("failed install") == 0);
  CHECK(ledger.attribute(*cam4, ms("2026-11-23T13:00:00Z"), "").version == "1.0");
  CHECK(ledger.attribute(*cam4, ms("2026-11-23T14:10:00Z"), "1.0").status == Attribution::Status::ok);
}

TEST_CASE("registry states: disabled, decommissioned, controller devices, no version at all") {
  auto a = device("cam-1", "pi5", nullptr, "1.0", ota("succeeded", "1.0", "2026-11-20T08:00:00Z"));
  a.enabled = false;
  auto b = device("cam-2", "pi5", nullptr, "1.0", ota("succeeded", "1.0", "2026-11-20T08:00:00Z"));
  b.tags["lifecycle"] = "decommissioned";
  aiot::hub::Device ctl;
  ctl.id = "aiot-ctl-vision-2";
  ctl.tags = {{"aiotController", true}};
  aiot::hub::Device bare;
  bare.id = "cam-9";
  bare.tags = {{"class", "gateway"}, {"hw", "x86"}};
  auto ledger = Ledger::build({a, b, ctl, bare}, {}, {});
  CHECK(ledger.size() == 3);
  CHECK_FALSE(ledger.find("cam-1")->enabled);
  CHECK(ledger.find("cam-2")->decommissioned);
  CHECK(ledger.find("aiot-ctl-vision-2") == nullptr);
  CHECK(ledger.find("cam-9")->device_class == "gateway");  // "class" before "hw"
  CHECK(ledger.attribute(*ledger.find("cam-9"), 0, "1.0").status == Attribution::Status::no_interval);
  auto j = ledger.to_json();
  CHECK(j["cam-1"][0]["version"] == "1.0");
  CHECK(j["cam-1"][0]["from"].is_null());
}

TEST_CASE("reported install history settles every transition, not only the last one") {
  // Rollout vision-2 sends 2.0 to cam-1 (canary, 10:00) and the install fails at 10:20; a manual
  // update to 2.2 starts 16:00 and succeeds 16:05. The registry only shows the last report.
  auto cam = device("cam-1", "pi5", {{"vision-2", {{"wave", "canary"}}}}, "2.2", ota("succeeded", "2.2", "2026-11-23T16:05:00Z"));
  std::vector<json> j = journal(false);
  for (auto& e : j) {
    if (e["op"] == "PLANNED") {
      e["baseline"] = "1.0";
      e["target"] = "2.0";
    }
  }
  std::vector<ReportedInstall> installs = {
      {"cam-1", ms("2026-11-23T10:01:00Z"), ms("2026-11-23T10:20:00Z"), "1.0", "2.0", false},
      {"cam-1", ms("2026-11-23T16:00:00Z"), ms("2026-11-23T16:05:00Z"), "1.0", "2.2", true},
  };
  auto without = Ledger::build({cam}, {j}, {});
  auto with = Ledger::build({cam}, {j}, {}, installs);
  const auto t = ms("2026-11-23T13:00:00Z");
  // Without the history the failed canary install is invisible: the ledger believes 2.0.
  CHECK(without.attribute(*without.find("cam-1"), t, "1.0").status == Attribution::Status::mismatch);
  CHECK(with.attribute(*with.find("cam-1"), t, "1.0").status == Attribution::Status::ok);
  auto leak = with.attribute(*with.find("cam-1"), t, "2.0");
  CHECK(leak.status == Attribution::Status::mismatch);
  CHECK(leak.interval->reason.find("failed install") == 0);
  CHECK(with.attribute(*with.find("cam-1"), ms("2026-11-23T16:03:00Z"), "").version == "1.0");
  CHECK(with.attribute(*with.find("cam-1"), ms("2026-11-23T16:06:00Z"), "").version == "2.2");
  CHECK(with.attribute(*with.find("cam-1"), ms("2026-11-23T18:00:00Z"), "1.0").status == Attribution::Status::mismatch);
}
