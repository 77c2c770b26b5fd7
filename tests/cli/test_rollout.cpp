// Rollouts end to end on the local hub with the fleet simulator: the versions of the simulator's
// built-in profile are "2.0" (the fleet starts on it), "2.1" (fails 15% of installs), "2.2"
// (raises the crash rate on hw pi5 only) and any other version (healthy).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aiot/hub/local/local_hub.hpp"
#include "support/harness.hpp"

using aiot::test::Harness;
using nlohmann::json;

namespace {

std::string spec(const std::string& name, const std::string& version, int canary_percent, const std::string& extra_gates = "",
                 const std::string& extra = "") {
  return "apiVersion: aiot.dev/v1\nkind: Rollout\nmetadata: {name: " + name + "}\nspec:\n"
         "  artifact: {name: detector, version: \"" + version + "\", uri: \"https://models.example/detector-" + version +
         ".onnx\", sha256: \"" + std::string(64, 'a') + "\"}\n"
         "  baseline: {version: auto, control: matched, stratifyBy: [hw]}\n"
         "  waves:\n"
         "    - {name: canary, size: {percent: " + std::to_string(canary_percent) + "}, bake: {min: 2h, max: 4h}}\n"
         "    - {name: all, size: {percent: 100}, bake: {min: 1h, max: 4h}}\n"
         "  gates:\n"
         "    - {name: install, type: outcome, successAtLeast: \"95%\", failureAbove: \"5%\", minSamples: 50}\n" +
         extra_gates + "  analysis: {interval: 1h, warmup: 30m}\n  onFailure: {action: rollback}\n" + extra;
}

// Devices by the model version they report running.
std::map<std::string, int> running(Harness& h) {
  std::map<std::string, int> out;
  for (const auto& d : json::parse(h.run({"device", "list", "-o", "json"}).out)) {
    if (d["deviceId"].get<std::string>().rfind("aiot-ctl-", 0) == 0) continue;
    ++out[d["properties"]["reported"]["aiot"]["ota"]["version"].get<std::string>()];
  }
  return out;
}

int desired_version_max(Harness& h) {
  int m = 0;
  for (const auto& d : json::parse(h.run({"device", "list", "-o", "json"}).out))
    m = std::max(m, d["properties"]["desired"]["$version"].get<int>());
  return m;
}

}  // namespace

TEST_CASE("rollout: a healthy version goes canary -> all and succeeds (exit 0)") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "500", "--seed", "3"}).code == 0);
  aiot::test::write_text(h.cwd / "good.yaml", spec("det-good", "3.0", 40));
  auto plan = h.run({"rollout", "plan", "-f", "good.yaml", "-o", "json"});
  REQUIRE(plan.code == 0);
  CHECK(json::parse(plan.out)["waves"][0]["devices"].size() == 200);
  auto r = h.run({"rollout", "apply", "-f", "good.yaml", "--wait", "-o", "json"});
  CHECK(r.code == 0);
  auto st = json::parse(r.out);
  CHECK(st["phase"] == "SUCCEEDED");
  CHECK(st["waves"][0]["gates"]["install"]["verdict"] == "PASS");
  CHECK(running(h) == std::map<std::string, int>{{"3.0", 500}});
  // Every device was dispatched exactly once: desired went from $version 1 (fleet) + 1 (membership tags
  // do not touch desired) to 2.
  CHECK(desired_version_max(h) == 2);
  auto verify = h.run({"rollout", "audit", "verify", "det-good"});
  CHECK(verify.code == 0);
  // apply again: same name and digest, nothing happens, still succeeded.
  auto again = h.run({"rollout", "apply", "-f", "good.yaml", "--wait"});
  CHECK(again.code == 0);
  CHECK(desired_version_max(h) == 2);
}

TEST_CASE("rollout: a version failing 15% of installs is caught in the canary and rolled back (exit 3)") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "500", "--seed", "3"}).code == 0);
  aiot::test::write_text(h.cwd / "bad.yaml", spec("det-bad", "2.1", 40));
  auto r = h.run({"rollout", "apply", "-f", "bad.yaml", "--wait", "-o", "json"});
  CHECK(r.code == 3);
  auto st = json::parse(r.out);
  CHECK(st["phase"] == "ROLLED_BACK");
  CHECK(st["waves"][0]["state"] == "FAILED");
  CHECK(st["waves"][0]["gates"]["install"]["verdict"] == "FAIL");
  CHECK(st["waves"][1]["state"] == "PENDING");  // the rest of the fleet was never touched
  CHECK(st["waves"][0]["devices"]["rolled_back"] == 200);
  CHECK(running(h) == std::map<std::string, int>{{"2.0", 500}});
  CHECK(h.run({"rollout", "audit", "verify", "det-bad"}).code == 0);
  auto history = h.run({"rollout", "history", "det-bad", "-o", "json"});
  auto events = json::parse(history.out);
  std::vector<std::string> ops;
  for (const auto& e : events) ops.push_back(e["op"]);
  CHECK(std::find(ops.begin(), ops.end(), "ROLLBACK_STARTED") != ops.end());
  CHECK(ops.back() == "ROLLBACK_DONE");
}

TEST_CASE("rollout: a version that crashes only on one hw class is caught against the baseline") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "1000", "--seed", "7"}).code == 0);
  std::string crash_gate =
      "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.aiot.health.crashes_1h > 0\", "
      "maxIncrease: \"5pp\", minSamples: {canary: 100, baseline: 100}}\n";
  aiot::test::write_text(h.cwd / "crashy.yaml", spec("det-crashy", "2.2", 40, crash_gate));
  auto r = h.run({"rollout", "apply", "-f", "crashy.yaml", "--wait", "-o", "json"});
  CHECK(r.code == 3);
  auto st = json::parse(r.out);
  CHECK(st["waves"][0]["gates"]["install"]["verdict"] == "PASS");  // installs are fine
  CHECK(st["waves"][0]["gates"]["crash-free"]["verdict"] == "FAIL");
  CHECK(running(h) == std::map<std::string, int>{{"2.0", 1000}});
}

TEST_CASE("rollout: approval, deny, pause and resume") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "500", "--seed", "3"}).code == 0);
  aiot::test::write_text(h.cwd / "gated.yaml", spec("det-gated", "3.0", 40, "", "  approvals: {required: [start, all]}\n"));
  auto waiting = h.run({"rollout", "apply", "-f", "gated.yaml", "--wait", "-o", "json"});
  CHECK(waiting.code == 6);
  CHECK(json::parse(waiting.out)["phase"] == "AWAITING_APPROVAL");
  CHECK(running(h) == std::map<std::string, int>{{"2.0", 500}});
  CHECK(h.run({"rollout", "approve", "det-gated", "--remark", "go"}).code == 0);
  auto second = h.run({"rollout", "apply", "-f", "gated.yaml", "--wait", "-o", "json"});
  CHECK(second.code == 6);  // the canary passed; wave "all" needs its own approval
  auto st = json::parse(second.out);
  CHECK(st["waves"][0]["state"] == "PASSED");
  CHECK(st["waitingFor"] == "all");
  CHECK(h.run({"rollout", "deny", "det-gated", "--remark", "not today"}).code == 0);
  // Denied after the canary got the version: the canary is rolled back.
  auto after = h.run({"rollout", "apply", "-f", "gated.yaml", "--wait", "-o", "json"});
  CHECK(after.code == 3);
  CHECK(json::parse(after.out)["phase"] == "ROLLED_BACK");
  CHECK(running(h) == std::map<std::string, int>{{"2.0", 500}});

  aiot::test::write_text(h.cwd / "pausable.yaml", spec("det-pausable", "3.0", 40));
  REQUIRE(h.run({"rollout", "apply", "-f", "pausable.yaml"}).code == 0);  // detached: canary dispatched
  CHECK(h.run({"rollout", "pause", "det-pausable", "--remark", "hold on"}).code == 0);
  auto paused = h.run({"rollout", "reconcile", "det-pausable", "-o", "json"});
  CHECK(paused.code == 0);
  CHECK(json::parse(paused.out)[0]["phase"] == "PAUSED");
  CHECK(h.run({"rollout", "resume", "det-pausable"}).code == 0);
  auto done = h.run({"rollout", "apply", "-f", "pausable.yaml", "--wait", "-o", "json"});
  CHECK(done.code == 0);
  CHECK(json::parse(done.out)["phase"] == "SUCCEEDED");
  CHECK(h.run({"rollout", "resume", "det-pausable"}).code == 2);  // not paused: refused
}

TEST_CASE("rollout: bad specs dispatch nothing and exit 2 naming the field and line") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "50", "--seed", "3"}).code == 0);
  aiot::test::write_text(h.cwd / "typo.yaml", spec("det-typo", "3.0", 40, "    - {name: x, type: outcome, sucessAtLeast: \"95%\"}\n"));
  auto r = h.run({"rollout", "apply", "-f", "typo.yaml", "--wait"});
  CHECK(r.code == 2);
  CHECK(r.err.find("typo.yaml:") != std::string::npos);
  CHECK(r.err.find("sucessAtLeast") != std::string::npos);
  CHECK(running(h) == std::map<std::string, int>{{"2.0", 50}});
  CHECK(h.run({"rollout", "status", "det-typo"}).code == 1);
}

TEST_CASE("rollout: a tampered journal fails audit verify with the line number") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "500", "--seed", "3"}).code == 0);
  aiot::test::write_text(h.cwd / "good.yaml", spec("det-audit", "3.0", 40));
  REQUIRE(h.run({"rollout", "apply", "-f", "good.yaml", "--wait"}).code == 0);
  auto journal = std::filesystem::path(h.hub_path().string() + ".journal") / "det-audit.jsonl";
  auto text = aiot::test::read_text(journal);
  auto pos = text.find("\"op\":\"PROMOTED\"");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 15, "\"op\":\"PROMOTEX\"");
  aiot::test::write_text(journal, text);
  auto line = std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n') + 1;
  auto r = h.run({"rollout", "audit", "verify", "det-audit"});
  CHECK(r.code == 3);
  CHECK(r.err.find("det-audit.jsonl:" + std::to_string(line) + ":") != std::string::npos);
}

TEST_CASE("rollout: rate.maxInFlight dispatches a wave in batches of devices not yet installed") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "300", "--seed", "3"}).code == 0);
  aiot::test::write_text(h.cwd / "paced.yaml", spec("det-paced", "3.0", 40, "", "  rate: {maxInFlight: 25}\n"));
  auto r = h.run({"rollout", "apply", "-f", "paced.yaml", "--wait", "-o", "json"});
  CHECK(r.code == 0);
  CHECK(json::parse(r.out)["phase"] == "SUCCEEDED");
  CHECK(running(h) == std::map<std::string, int>{{"3.0", 300}});
  CHECK(desired_version_max(h) == 2);  // batches never write a device twice
  auto events = json::parse(h.run({"rollout", "history", "det-paced", "-o", "json"}).out);
  std::map<std::string, int> given;  // per wave: devices over all batches
  int batches = 0;
  for (const auto& e : events) {
    auto op = e["op"].get<std::string>();
    if (op != "WAVE_DISPATCHED" && op != "WAVE_BATCH_DISPATCHED") continue;
    ++batches;
    CHECK(e["devices"].get<int>() <= 25);  // never more than maxInFlight at once
    given[e["wave"].get<std::string>()] += e["devices"].get<int>();
  }
  CHECK(given == std::map<std::string, int>{{"canary", 120}, {"all", 180}});
  CHECK(batches >= 12);  // 120 / 25 and 180 / 25, rounded up
  CHECK(h.run({"rollout", "audit", "verify", "det-paced"}).code == 0);

  // rate.perMinute: the first batch is one minute's worth.
  aiot::test::write_text(h.cwd / "slow.yaml", spec("det-slow", "3.1", 40, "", "  rate: {perMinute: 7}\n"));
  REQUIRE(h.run({"rollout", "apply", "-f", "slow.yaml"}).code == 0);
  auto st = json::parse(h.run({"rollout", "status", "det-slow", "-o", "json"}).out);
  CHECK(st["waves"][0]["state"] == "DISPATCHING");
  CHECK(st["waves"][0]["dispatched"] == 7);
}

TEST_CASE("rollout: the hub record stays under IoT Hub's 8 KB tags limit over a 7-day bake with hourly looks") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "120", "--seed", "5"}).code == 0);
  std::string yaml =
      "apiVersion: aiot.dev/v1\nkind: Rollout\nmetadata: {name: det-long-bake}\nspec:\n"
      "  artifact: {name: detector, version: \"3.0\", uri: \"https://models.example/detector-3.0.onnx\", sha256: \"" +
      std::string(64, 'a') +
      "\"}\n"
      "  baseline: {version: auto, control: matched, stratifyBy: [hw]}\n"
      "  waves:\n"
      "    - {name: canary, size: {percent: 50}, bake: {min: 7d, max: 8d}}\n"
      "  gates:\n"
      "    - {name: install, type: outcome, successAtLeast: \"90%\", failureAbove: \"20%\", minSamples: 20}\n"
      "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.aiot.health.crashes_1h > 0\", "
      "maxIncrease: 30pp, minSamples: 20, dryRun: true}\n"
      "    - {name: latency, type: distribution-vs-baseline, metric: reported.aiot.health.latency_p95_ms, tolerance: 50%, "
      "minSamples: 20, dryRun: true}\n"
      "    - {name: confidence, type: threshold, metric: reported.aiot.health.mean_confidence, successCondition: \">= 0.1\", "
      "failureLimit: 3}\n"
      "  analysis: {interval: 1h, warmup: 30m, looks: none}\n";
  aiot::test::write_text(h.cwd / "long.yaml", yaml);
  auto record_size = [&h] {
    auto ctl = json::parse(h.run({"device", "show", "aiot-ctl-det-long-bake", "-o", "json"}).out);
    return ctl["tags"].dump().size();
  };
  // Just before the end of the bake: 166 looks recorded, the last event a full gate evaluation.
  auto mid = h.run({"rollout", "apply", "-f", "long.yaml", "--wait", "--timeout", "6d23h", "--allow-underpowered", "-o", "json"});
  CHECK(mid.code == 6);
  CHECK(json::parse(mid.out)["waves"][0]["looks"].get<int>() >= 160);
  CHECK(record_size() < 8 * 1024);
  auto r = h.run({"rollout", "apply", "-f", "long.yaml", "--wait", "--allow-underpowered", "-o", "json"});
  CHECK(r.code == 0);
  auto st = json::parse(r.out);
  CHECK(st["phase"] == "SUCCEEDED");
  CHECK(st["waves"][0]["looks"].get<int>() >= 168);  // a look an hour for 7 days
  auto ctl = json::parse(h.run({"device", "show", "aiot-ctl-det-long-bake", "-o", "json"}).out);
  CHECK(ctl["tags"].dump().size() < 8 * 1024);
  // The threshold gate kept its latest looks and folded the rest into counts.
  auto gate = ctl["tags"]["aiotController"]["waves"][0]["gates"]["confidence"];
  CHECK(gate["looks"].size() <= 12);
  CHECK(gate["folded"]["looks"].get<int>() + static_cast<int>(gate["looks"].size()) >= 168);
  CHECK(h.run({"rollout", "audit", "verify", "det-long-bake"}).code == 0);
}

namespace {
// The oracle a look is checked against: the device contract read from each twin, with the older
// rule (health reported after the install), not the health.version hubs count by.
bool reports_health_since_install(const json& twin, const std::string& version) {
  const auto& reported = twin["properties"]["reported"];
  if (!reported.contains("aiot")) return false;
  const auto& a = reported["aiot"];
  if (!a.contains("ota") || !a.contains("health") || a["health"].empty()) return false;
  const auto& ota = a["ota"];
  if (ota.value("version", "") != version || ota.value("state", "") != "succeeded") return false;
  return a["health"].value("ts", "") >= ota.value("ts", "~");  // RFC 3339 UTC strings order as times
}
}  // namespace

// The local engine reads the arms' twins (hub::Registry::prefers_counts); the counted look over
// IoT Hub is checked the same way in tests/integration/test_rollout_azure.sh.
TEST_CASE("rollout: a look judges exactly the devices their twins say, with and without health.version") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "600", "--seed", "11"}).code == 0);
  const std::string gates =
      "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.aiot.health.crashes_1h > 0\", "
      "maxIncrease: 30pp, minSamples: 20}\n"
      "    - {name: latency, type: distribution-vs-baseline, metric: reported.aiot.health.latency_p95_ms, tolerance: 50%, "
      "minSamples: 20}\n"
      "    - {name: confidence, type: threshold, metric: reported.aiot.health.mean_confidence, aggregate: mean, "
      "successCondition: \">= 0.1\", failureLimit: 3}\n";
  // A canary that bakes 6 h: the looks below all judge it.
  std::string yaml = spec("det-counted", "3.0", 40, gates);
  const std::string bake = "bake: {min: 2h, max: 4h}";
  yaml.replace(yaml.find(bake), bake.size(), "bake: {min: 6h, max: 8h}");
  aiot::test::write_text(h.cwd / "counted.yaml", yaml);
  REQUIRE(h.run({"rollout", "apply", "-f", "counted.yaml", "--allow-underpowered"}).code == 0);

  // What the latest look recorded, and what the twins say at that moment.
  int looks_seen = 0;
  auto check_latest_look = [&h, &looks_seen](const std::string& why) {
    CAPTURE(why);
    json look;
    int looks = 0;
    for (const auto& e : json::parse(h.run({"rollout", "history", "det-counted", "-o", "json"}).out)) {
      if (e.contains("gates") && e["gates"].contains("latency")) {
        look = e["gates"];
        ++looks;
      }
    }
    REQUIRE(look.is_object());
    CHECK(looks > looks_seen);  // a look judged this state
    looks_seen = looks;
    std::int64_t assigned = 0, succeeded = 0, failed = 0;
    std::int64_t canary_devices = 0, canary_events = 0, control_devices = 0, control_events = 0;
    std::vector<double> canary_latency, control_latency;
    double confidence_sum = 0;
    for (const auto& d : json::parse(h.run({"device", "list", "-o", "json"}).out)) {
      if (!d["tags"].contains("aiot")) continue;
      const auto& m = d["tags"]["aiot"]["rollouts"]["det-counted"];
      const bool canary = m.value("wave", "") == "canary";
      const bool control = m.contains("control") && m["control"].value("w0", false);
      if (canary) {
        ++assigned;
        const auto& ota = d["properties"]["reported"]["aiot"]["ota"];
        succeeded += ota["version"] == "3.0" && ota["state"] == "succeeded";
        failed += ota["version"] == "3.0" && ota["state"] == "failed";
      }
      if ((canary && reports_health_since_install(d, "3.0")) || (control && reports_health_since_install(d, "2.0"))) {
        const auto& health = d["properties"]["reported"]["aiot"]["health"];
        const bool crashed = health["crashes_1h"].get<int>() > 0;
        (canary ? canary_devices : control_devices) += 1;
        (canary ? canary_events : control_events) += crashed;
        (canary ? canary_latency : control_latency).push_back(health["latency_p95_ms"].get<double>());
        if (canary) confidence_sum += health["mean_confidence"].get<double>();
      }
    }
    REQUIRE(canary_devices > 0);
    CHECK(look["install"]["inputs"]["assigned"] == assigned);
    CHECK(look["install"]["inputs"]["succeeded"] == succeeded);
    CHECK(look["install"]["inputs"]["failed"] == failed);
    CHECK(look["crash-free"]["inputs"]["canary_devices"] == canary_devices);
    CHECK(look["crash-free"]["inputs"]["canary_events"] == canary_events);
    CHECK(look["crash-free"]["inputs"]["baseline_devices"] == control_devices);
    CHECK(look["crash-free"]["inputs"]["baseline_events"] == control_events);
    std::sort(canary_latency.begin(), canary_latency.end());
    std::sort(control_latency.begin(), control_latency.end());
    CHECK(look["latency"]["inputs"]["canary_values"].get<std::vector<double>>() == canary_latency);
    CHECK(look["latency"]["inputs"]["baseline_values"].get<std::vector<double>>() == control_latency);
    const auto& last = look["confidence"]["looks"].back();
    CHECK(last["n"] == canary_devices);
    CHECK(last["value"].get<double>() == doctest::Approx(confidence_sum / static_cast<double>(canary_devices)));
  };

  REQUIRE(h.run({"sim", "advance", "3h"}).code == 0);
  REQUIRE(h.run({"rollout", "reconcile", "det-counted"}).code == 0);
  check_latest_look("every device names the version of its health");

  // An older device agent that reports health without naming the version: the timestamps decide.
  REQUIRE(h.run({"sim", "advance", "1h"}).code == 0);
  {
    aiot::hub::local::LocalHub hub(h.hub_path(), [] { return std::chrono::system_clock::now(); });
    int patched = 0;
    for (const auto& d : hub.list({.where = "tags.aiot.rollouts['det-counted'].wave = 'canary'"})) {
      if (patched == 5) break;
      if (d.reported["aiot"]["health"].value("version", "") != "3.0") continue;
      hub.patch_reported(d.id, {{"aiot", {{"health", {{"version", nullptr}}}}}});  // merge patch: removes the key
      ++patched;
    }
    REQUIRE(patched == 5);
  }
  REQUIRE(h.run({"rollout", "reconcile", "det-counted"}).code == 0);
  check_latest_look("five devices report health without a version");
}
