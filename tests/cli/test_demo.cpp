// aiot demo in-process: a small fleet through every step of the mission, then each step's outcome
// read back from the files and the hub it left (not from the narration alone).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "support/harness.hpp"

using aiot::test::Harness;
using nlohmann::json;
namespace fsys = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("demo: the whole mission on a small fleet, each step doing what it should") {
  Harness h;  // clock: Monday 2026-11-23 09:00 UTC, so the demo's week is 2026-W47 (Nov 16 .. Nov 23)
  auto r = h.run({"demo", "--dir", "demo", "--devices", "120", "-o", "json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const fsys::path dir = h.cwd / "demo";

  // stdout is the summary of where everything is; stderr narrates replayable command lines.
  auto where = json::parse(r.out);
  CHECK(where["dir"] == dir.string());
  CHECK(where["hub"] == (dir / "hub.db").string());
  CHECK(where["period"] == "2026-W47");
  CHECK(where["devices"] == 120);
  CHECK(has(r.err, "$ export AIOT_HUB=local:" + (dir / "hub.db").string()));
  CHECK(has(r.err, "$ aiot sim fleet --devices 120 --seed 42 --start 2026-11-18T09:00:00Z"));
  CHECK(has(r.err, "$ aiot rollout apply -f demo/rollouts/detector-2-1.yaml --wait"));
  CHECK(has(r.err, "$ mkdir -p demo && cat > demo/cameras.csv <<'EOF'\nid,auth,tags.site"));
  CHECK(has(r.err, "exit 3 is the expected verdict"));

  // Fleet CA and X.509 cameras: keys private, certificates issued.
  CHECK(fsys::exists(dir / "ca/ca.cert.pem"));
  CHECK(aiot::test::file_mode(dir / "credentials/cam-01.key.pem") == 0600);
  CHECK(fsys::exists(dir / "credentials/cam-08.cert.pem"));

  // Replaying against the demo's hub: the good rollout succeeded, the bad one was caught in the canary.
  h.env.set("AIOT_HUB", "local:" + (dir / "hub.db").string());
  auto cams = h.run({"device", "list", "--where", "authenticationType = 'certificateAuthority'", "-o", "json"});
  CHECK(json::parse(cams.out).size() == 8);
  auto good = json::parse(h.run({"rollout", "status", "detector-2-0-1", "-o", "json"}).out);
  CHECK(good["phase"] == "SUCCEEDED");
  auto bad = json::parse(h.run({"rollout", "status", "detector-2-1", "-o", "json"}).out);
  CHECK(bad["phase"] == "ROLLED_BACK");
  CHECK(bad["waves"][0]["gates"]["install"]["verdict"] == "FAIL");
  CHECK(bad["waves"][1]["state"] == "PENDING");
  CHECK(h.run({"rollout", "audit", "verify", "detector-2-1"}).code == 0);
  auto sim = json::parse(h.run({"sim", "status", "-o", "json"}).out);
  CHECK(sim["simTime"] == "2026-11-23T00:00:00Z");
  // Everyone on 2.0.1 but Tokyo (excluded by the specs: it stays on 2.0); nobody kept 2.1.
  const auto& versions = sim["byVersion"];
  CHECK(versions["2.0.1"].get<int>() > 80);
  CHECK(versions["2.0.1"].get<int>() + versions.value("2.0", 0) == 120);
  CHECK_FALSE(versions.contains("2.1"));

  // Telemetry: the manifest stays, the bulky data goes (no --keep).
  if (where.contains("telemetry")) {
    auto manifest = json::parse(aiot::test::read_text(dir / "telemetry/manifest.json"));
    CHECK(manifest["parameters"]["windowStart"] == "2026-11-16T00:00:00.000Z");
    CHECK_FALSE(fsys::exists(dir / "telemetry/data"));
  }
  // The audit found the planted defects.
  if (where.contains("audit")) {
    auto audit = json::parse(aiot::test::read_text(dir / "audit/audit.json"));
    int failing = 0;
    for (const auto& c : audit["checks"]) failing += c["outcome"] == "fail" && c["count"].get<long>() > 0;
    CHECK(failing >= 3);
    CHECK(fsys::exists(dir / "audit/profile.json"));
  }
  // The governance report in its three formats.
  if (where.contains("report")) {
    for (const char* format : {"html", "md", "json"}) {
      REQUIRE_MESSAGE(where["report"].contains(format), format);
      CHECK(fsys::file_size(where["report"][format].get<std::string>()) > 0);
    }
    CHECK(has(aiot::test::read_text(where["report"]["html"].get<std::string>()), "2026-W47"));
  }
  // Every verb this build has ran: only verbs still missing from the build may be skipped.
  for (const auto& s : where.value("skipped", json::array())) {
    MESSAGE("skipped in this build: " << s.get<std::string>());
    CHECK((s == "aiot sim telemetry" || s == "aiot lineage audit" || s == "aiot report governance"));
  }
}

TEST_CASE("demo: a folder is never overwritten by accident") {
  Harness h;
  aiot::test::write_text(h.cwd / "mine/notes.txt", "mine\n");

  auto refused = h.run({"demo", "--dir", "mine"});
  CHECK(refused.code == 2);
  CHECK(has(refused.err, "--force"));

  // --force empties only a folder an earlier demo made (it holds the demo's marker).
  auto forced = h.run({"demo", "--dir", "mine", "--force"});
  CHECK(forced.code == 2);
  CHECK(has(forced.err, "not made by 'aiot demo'"));
  CHECK(aiot::test::read_text(h.cwd / "mine/notes.txt") == "mine\n");

  auto file = h.run({"demo", "--dir", "mine/notes.txt"});
  CHECK(file.code == 2);

  auto tiny = h.run({"demo", "--dir", "tiny", "--devices", "10"});
  CHECK(tiny.code == 2);
  CHECK_FALSE(fsys::exists(h.cwd / "tiny"));
}
