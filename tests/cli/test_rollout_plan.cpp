// `aiot rollout plan` in-process against the local hub: devices registered with `device import`,
// reported versions and health set as the device side would (LocalHub::patch_reported_many).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "aiot/hub/local/local_hub.hpp"
#include "aiot/rollout/planner.hpp"
#include "support/harness.hpp"

using aiot::test::Harness;
using nlohmann::json;

namespace {

// n devices with hw tags rev1/rev2 alternating, all reporting `version`; `odd` report another one.
void make_fleet(Harness& h, int n, const std::string& version = "6.0.0", int odd = 0) {
  std::string csv = "id,auth,tags.hw,tags.freeze\n";
  for (int i = 0; i < n; ++i) {
    csv += "cam-" + std::to_string(i) + ",sas," + (i % 2 ? "rev2" : "rev1") + "," + (i < 3 ? "yes" : "") + "\n";
  }
  aiot::test::write_text(h.cwd / "fleet.csv", csv);
  auto r = h.run({"device", "import", "-f", "fleet.csv", "-o", "json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  aiot::hub::local::LocalHub hub(h.hub_path(), [&h] { return h.now; });
  std::vector<std::pair<std::string, json>> reports;
  for (int i = 0; i < n; ++i) {
    reports.emplace_back("cam-" + std::to_string(i),
                         json{{"aiot",
                               {{"ota", {{"state", "succeeded"}, {"version", i < odd ? "5.9.0" : version}}},
                                {"health", {{"crashes_1h", i % 25 == 0 ? 1 : 0}, {"latency_p95_ms", 90 + i % 20}}}}}});
  }
  hub.patch_reported_many(reports);
}

const std::string k_spec =
    "apiVersion: aiot.dev/v1\n"
    "kind: Rollout\n"
    "metadata: {name: vision-7}\n"
    "spec:\n"
    "  artifact: {name: vision, version: 7.0.0, uri: \"https://cdn.example/v7\", "
    "sha256: \"f4b0a273b07025e13c88153c683dfc56a89d5cd3ffe88f8ff3bd6b450bacf322\"}\n"
    "  exclude: \"tags.freeze = 'yes'\"\n"
    "  baseline: {stratifyBy: [hw]}\n"
    "  waves:\n"
    "    - {name: canary, size: 10, bake: {min: 1h, max: 4h}}\n"
    "    - {name: half, size: 50%, bake: {min: 2h, max: 8h}}\n"
    "    - {name: all, size: 100%, bake: {min: 2h}}\n"
    "  rate: {perMinute: 60}\n";

const std::string k_underpowered_gate =
    "  gates: [{name: install, type: outcome, failureAbove: 2%, minSamples: 5}]\n";

}  // namespace

TEST_CASE("rollout plan -o json: the whole plan, deterministic, nothing dispatched") {
  Harness h;
  make_fleet(h, 103);
  aiot::test::write_text(h.cwd / "rollout.yaml", k_spec);
  auto r = h.run({"rollout", "plan", "-f", "rollout.yaml", "-o", "json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto plan = json::parse(r.out);
  CHECK(plan["kind"] == "RolloutPlan");
  CHECK(plan["rollout"] == "vision-7");
  CHECK(plan["baselineVersion"] == "6.0.0");
  CHECK(plan["artifactVersion"] == "7.0.0");
  CHECK(plan["cohort"]["size"] == 100);
  CHECK(plan["cohort"]["excluded"] == 3);
  CHECK(plan["cohort"]["strata"] == json{{"hw=rev1", 50}, {"hw=rev2", 50}});
  REQUIRE(plan["waves"].size() == 3);
  CHECK(plan["waves"][0]["size"] == 10);
  CHECK(plan["waves"][0]["strata"] == json{{"hw=rev1", 5}, {"hw=rev2", 5}});
  CHECK(plan["waves"][0]["controlSize"] == 10);
  CHECK(plan["waves"][1]["cumulative"] == 50);
  CHECK(plan["waves"][2]["cumulative"] == 100);
  for (const auto& w : plan["waves"]) {
    for (const auto& id : w["devices"]) {
      CHECK(id != "cam-0");  // excluded by tags.freeze
    }
  }
  CHECK(plan["eta"]["min"] == "5h1m40s");  // bakes 5h + dispatch of 100 devices at 60/min
  CHECK(plan["eta"]["max"].is_null());
  CHECK(plan["digest"].get<std::string>().size() == 64);

  auto again = h.run({"rollout", "plan", "-f", "rollout.yaml", "-o", "json"});
  CHECK(json::parse(again.out)["digest"] == plan["digest"]);

  // Nothing was dispatched: no device has a desired model.
  auto listed = json::parse(h.run({"device", "list", "-w", "IS_DEFINED(properties.desired.aiot.model)", "-o", "json"}).out);
  CHECK(listed.empty());
}

TEST_CASE("rollout plan: the table shows waves, strata, power and ETA; warnings go to stderr") {
  Harness h;
  make_fleet(h, 103);
  aiot::test::write_text(h.cwd / "rollout.yaml", k_spec + k_underpowered_gate);
  auto r = h.run({"rollout", "plan", "-f", "rollout.yaml", "--allow-underpowered"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("Rollout vision-7: 6.0.0 -> 7.0.0 on 100 devices (3 excluded)") != std::string::npos);
  CHECK(r.out.find("WAVE\tNEW\tTOTAL\tCONTROL\tSTRATA\tBAKE\tAPPROVAL\tLOOKS") != std::string::npos);
  CHECK(r.out.find("canary\t10\t10\t10\thw=rev1:5 hw=rev2:5\t1h..4h\t-\t16") != std::string::npos);
  CHECK(r.out.find("WAVE\tGATE\tTYPE\tN\tNEEDS\tDETECTS\tSTATUS") != std::string::npos);
  CHECK(r.out.find("canary\tinstall\toutcome\t10\t") != std::string::npos);
  CHECK(r.out.find("underpowered") != std::string::npos);
  CHECK(r.out.find("ETA: 5h1m40s .. no limit") != std::string::npos);
  CHECK(r.err.find("warning: gate install is underpowered in wave canary: it detects failure rates ≥") != std::string::npos);
  CHECK(r.out.find("warning:") == std::string::npos);
}

TEST_CASE("rollout plan: underpowered critical gates exit 2 unless --allow-underpowered; --out only then") {
  Harness h;
  make_fleet(h, 103);
  aiot::test::write_text(h.cwd / "rollout.yaml", k_spec + k_underpowered_gate);
  auto refused = h.run({"rollout", "plan", "-f", "rollout.yaml", "--out", "plan.json"});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("critical gate check") != std::string::npos);
  CHECK(refused.err.find("--allow-underpowered") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(h.cwd / "plan.json"));

  auto allowed = h.run({"rollout", "plan", "-f", "rollout.yaml", "--out", "plan.json", "--allow-underpowered", "-o", "json"});
  REQUIRE_MESSAGE(allowed.code == 0, allowed.err);
  auto written = json::parse(aiot::test::read_text(h.cwd / "plan.json"));
  CHECK(written == json::parse(allowed.out));
  auto back = aiot::rollout::plan_from_json(written);
  CHECK(back.digest == written["digest"]);
  CHECK(back.underpowered.size() >= 1);

  // A dry-run gate is only warned about.
  aiot::test::write_text(h.cwd / "dry.yaml",
                         k_spec + "  gates: [{name: install, type: outcome, failureAbove: 2%, dryRun: true}]\n");
  auto dry = h.run({"rollout", "plan", "-f", "dry.yaml"});
  CHECK(dry.code == 0);
  CHECK(dry.err.find("warning: gate install is underpowered") != std::string::npos);
}

TEST_CASE("rollout plan: bad specs and bad cohorts exit 2 with the place named") {
  Harness h;
  make_fleet(h, 40, "6.0.0", 4);
  aiot::test::write_text(h.cwd / "typo.yaml", k_spec + "  gates: [{name: install, type: outcome, sucessAtLeast: 95%}]\n");
  auto typo = h.run({"rollout", "plan", "-f", "typo.yaml"});
  CHECK(typo.code == 2);
  CHECK(typo.err.find("typo.yaml:13: spec.gates[0].sucessAtLeast: unknown field (did you mean successAtLeast?)") !=
        std::string::npos);
  CHECK(typo.out.empty());

  aiot::test::write_text(h.cwd / "rollout.yaml", k_spec);
  auto mixed = h.run({"rollout", "plan", "-f", "rollout.yaml"});
  CHECK(mixed.code == 2);
  CHECK(mixed.err.find("auto needs the cohort to run one version, it runs several (6.0.0: 36, 5.9.0: 1)") !=
        std::string::npos);  // 3 of the 4 on 5.9.0 are excluded by tags.freeze

  auto missing = h.run({"rollout", "plan", "-f", "nope.yaml"});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("nope.yaml") != std::string::npos);

  Harness small;
  make_fleet(small, 13);  // 10 after the exclusions: the canary of 10 leaves nothing for 'half'
  aiot::test::write_text(small.cwd / "rollout.yaml", k_spec);
  auto zero = small.run({"rollout", "plan", "-f", "rollout.yaml"});
  CHECK(zero.code == 2);
  CHECK(zero.err.find("rollout.yaml:10: spec.waves[1].size: wave 'half' adds no devices") != std::string::npos);
}
