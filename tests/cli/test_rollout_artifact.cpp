// Rollouts naming a registry artifact (`artifact: {model: N, version: V}`): plan resolves it,
// refuses an unsigned one when signatures are required and an I/O-breaking one without
// --allow-breaking; apply writes uri, sha256 and signature into the desired properties.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aiot/hub/local/local_hub.hpp"
#include "support/harness.hpp"
#include "unit/test_artifact_fixtures.hpp"

using aiot::test::Harness;
using aiot::test::TinyModel;
using nlohmann::json;

namespace {

// 20 devices reporting vision 6.0.0.
void make_fleet(Harness& h) {
  std::string csv = "id,auth\n";
  for (int i = 0; i < 20; ++i) csv += "cam-" + std::to_string(i) + ",sas\n";
  aiot::test::write_text(h.cwd / "fleet.csv", csv);
  REQUIRE(h.run({"device", "import", "-f", "fleet.csv"}).code == 0);
  aiot::hub::local::LocalHub hub(h.hub_path(), [&h] { return h.now; });
  std::vector<std::pair<std::string, json>> reports;
  for (int i = 0; i < 20; ++i) {
    reports.emplace_back("cam-" + std::to_string(i),
                         json{{"aiot", {{"ota", {{"state", "succeeded"}, {"version", "6.0.0"}}}}}});
  }
  hub.patch_reported_many(reports);
}

void add(Harness& h, const std::string& version, const TinyModel& m = {}) {
  aiot::test::write_text(h.cwd / ("vision-" + version + ".onnx"), aiot::test::tiny_onnx(m));
  auto r = h.run({"model", "add", "vision-" + version + ".onnx", "--name", "vision", "--version", version, "--uri",
                  "https://cdn.example/vision-" + version + ".onnx"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
}

std::string spec(const std::string& artifact) {
  return "apiVersion: aiot.dev/v1\nkind: Rollout\nmetadata: {name: vision-rollout}\nspec:\n"
         "  artifact: " + artifact + "\n"
         "  baseline: {control: none}\n"
         "  waves:\n"
         "    - {name: all, size: 100%, bake: {min: 1h}}\n";
}

}  // namespace

TEST_CASE("rollout plan with a registry artifact: signature policy, breaking I/O, and the success path") {
  Harness h;
  make_fleet(h);
  add(h, "6.0.0");
  add(h, "7.0.0");                                  // same I/O as the baseline
  add(h, "8.0.0", TinyModel().dims({1, 3, 320, 320}));  // a changed input shape
  REQUIRE(h.run({"model", "keygen", "--out", "signer.pem"}).code == 0);

  SUBCASE("not in the registry: exit 1 naming what is there") {
    aiot::test::write_text(h.cwd / "r.yaml", spec("{model: vision, version: 9.0.0}"));
    auto r = h.run({"rollout", "plan", "-f", "r.yaml"});
    CHECK(r.code == 1);
    CHECK(r.err.find("model vision 9.0.0 is not in the artifact registry") != std::string::npos);
    CHECK(r.err.find("6.0.0, 7.0.0, 8.0.0") != std::string::npos);
  }
  SUBCASE("unsigned with requireSignature: exit 2; signed: the plan goes through") {
    aiot::test::write_text(h.cwd / "r.yaml", spec("{model: vision, version: 7.0.0, requireSignature: true}"));
    auto refused = h.run({"rollout", "plan", "-f", "r.yaml"});
    CHECK(refused.code == 2);
    CHECK(refused.err.find("model vision 7.0.0 is not signed, and the spec (requireSignature) requires a signature") !=
          std::string::npos);
    CHECK(refused.err.find("aiot model sign vision 7.0.0") != std::string::npos);
    REQUIRE(h.run({"model", "sign", "vision", "7.0.0", "--key", "signer.pem"}).code == 0);
    auto ok = h.run({"rollout", "plan", "-f", "r.yaml", "-o", "json"});
    CHECK_MESSAGE(ok.code == 0, ok.err);
    CHECK(json::parse(ok.out)["artifactVersion"] == "7.0.0");
    CHECK(ok.err.find("from the registry: sha256 ") != std::string::npos);
  }
  SUBCASE("unsigned with --require-signature on the command line: exit 2; without any policy it plans") {
    aiot::test::write_text(h.cwd / "r.yaml", spec("{model: vision, version: 7.0.0}"));
    CHECK(h.run({"rollout", "plan", "-f", "r.yaml", "--require-signature"}).code == 2);
    CHECK(h.run({"rollout", "plan", "-f", "r.yaml"}).code == 0);
  }
  SUBCASE("signedBy another key: exit 3") {
    REQUIRE(h.run({"model", "sign", "vision", "7.0.0", "--key", "signer.pem"}).code == 0);
    aiot::test::write_text(h.cwd / "r.yaml",
                           spec("{model: vision, version: 7.0.0, signedBy: \"sha256:" + std::string(64, '0') + "\"}"));
    auto r = h.run({"rollout", "plan", "-f", "r.yaml"});
    CHECK(r.code == 3);
    CHECK(r.err.find("requires signedBy sha256:000") != std::string::npos);
  }
  SUBCASE("an input shape that breaks the baseline's: exit 2 unless --allow-breaking") {
    aiot::test::write_text(h.cwd / "r.yaml", spec("{model: vision, version: 8.0.0}"));
    auto refused = h.run({"rollout", "plan", "-f", "r.yaml"});
    CHECK(refused.code == 2);
    CHECK(refused.err.find("vision 8.0.0 breaks the I/O signature of the baseline 6.0.0: inputs.image.shape: "
                           "[1,3,224,224] -> [1,3,320,320]") != std::string::npos);
    CHECK(refused.err.find("--allow-breaking") != std::string::npos);
    auto allowed = h.run({"rollout", "plan", "-f", "r.yaml", "--allow-breaking"});
    CHECK(allowed.code == 0);
    CHECK(allowed.err.find("warning: vision 8.0.0 breaks the I/O signature of the baseline 6.0.0 (allowed by "
                           "--allow-breaking)") != std::string::npos);
    auto apply = h.run({"rollout", "apply", "-f", "r.yaml"});
    CHECK(apply.code == 2);  // apply checks the same
    CHECK(json::parse(h.run({"device", "list", "-w", "IS_DEFINED(properties.desired.aiot.model)", "-o", "json"}).out)
              .empty());
  }
  SUBCASE("apply writes uri, sha256 and signature (and what a device needs to check it) into the desired properties") {
    REQUIRE(h.run({"model", "sign", "vision", "7.0.0", "--key", "signer.pem"}).code == 0);
    auto shown = json::parse(h.run({"model", "show", "vision", "7.0.0", "-o", "json"}).out);
    aiot::test::write_text(h.cwd / "r.yaml", spec("{model: vision, version: 7.0.0, requireSignature: true}"));
    auto r = h.run({"rollout", "apply", "-f", "r.yaml"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    auto devices = json::parse(h.run({"device", "list", "-w", "STARTSWITH(deviceId, 'cam-')", "-o", "json"}).out);
    REQUIRE(devices.size() == 20);
    const auto& model = devices[0]["properties"]["desired"]["aiot"]["model"];
    CHECK(model["name"] == "vision");
    CHECK(model["version"] == "7.0.0");
    CHECK(model["uri"] == "https://cdn.example/vision-7.0.0.onnx");
    CHECK(model["sha256"] == shown["sha256"]);
    CHECK(model["signature"] == shown["signature"]["value"]);
    CHECK(model["signatureAlgorithm"] == "ed25519");
    CHECK(model["keyId"] == shown["signature"]["keyId"]);
    CHECK(model["size"] == shown["size"]);
    CHECK(model["metadataSha256"] == shown["metadataSha256"]);
    CHECK(model["kind"] == "model");
    // The statement a device rebuilds from these fields is the one that was signed.
    json rebuilt = {{"type", "aiot.dev/artifact-statement/v1"}, {"kind", model["kind"]},
                    {"name", model["name"]},                    {"version", model["version"]},
                    {"sha256", model["sha256"]},                {"size", model["size"]},
                    {"metadataSha256", model["metadataSha256"]}};
    CHECK(rebuilt.dump() == shown["statement"]);
    // A re-run resolves to the same digest: resumed, not refused.
    auto again = h.run({"rollout", "apply", "-f", "r.yaml"});
    CHECK_MESSAGE(again.code == 0, again.err);
    // The model card reports the rollout of this version.
    auto card = h.run({"model", "card", "vision", "7.0.0"});
    REQUIRE_MESSAGE(card.code == 0, card.err);
    bool found = false;
    auto card_json = json::parse(card.out);  // named: a temporary in the range would dangle
    for (const auto& row : card_json["quantitative_analysis"]["performance_metrics"]) {
      if (row["type"] == "rollout phase" && row["slice"] == "rollout vision-rollout") found = true;
    }
    CHECK_MESSAGE(found, card.out);
  }
}
