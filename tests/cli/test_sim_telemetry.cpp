#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "support/harness.hpp"

using aiot::test::Harness;
using nlohmann::json;

TEST_CASE("sim telemetry: exports of the simulated fleet from the command line") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "10"}).code == 0);
  REQUIRE(h.run({"device", "update", "dev-00004", "--desired", "aiot.model.version=\"2.2\""}).code == 0);
  REQUIRE(h.run({"sim", "advance", "3h"}).code == 0);

  auto r = h.run({"sim", "telemetry", "--out", "exports", "--hours", "3", "--interval", "1m", "--defects", "0.005",
                  "--labels", "labels.jsonl", "-o", "json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto s = json::parse(r.out);
  CHECK(s["windowStart"] == "2026-11-23T09:00:00.000Z");
  CHECK(s["windowEnd"] == "2026-11-23T12:00:00.000Z");
  CHECK(s["devices"] == 10);
  CHECK(s["files"] == 1);
  CHECK(s["records"].get<int>() > 1700);
  CHECK(s["defects"]["duplicate"].get<int>() >= 8);
  CHECK(s["defects"]["unregistered"] == 1);
  CHECK(r.err.find("Wrote") != std::string::npos);

  auto manifest = json::parse(aiot::test::read_text(h.cwd / "exports/manifest.json"));
  CHECK(manifest["files"][0]["records"] == s["records"]);
  CHECK(manifest["attribution"]["byTrueVersion"].contains("2.2"));  // dev-00004 updated mid-window
  CHECK(std::filesystem::exists(h.cwd / "labels.jsonl"));
  CHECK(manifest["labels"]["records"].get<int>() > 100);

  // An earlier export is not overwritten by accident.
  auto again = h.run({"sim", "telemetry", "--out", "exports", "--hours", "3"});
  CHECK(again.code == 1);
  CHECK(again.err.find("--force") != std::string::npos);
  auto forced = h.run({"sim", "telemetry", "--out", "exports", "--hours", "1", "--format", "iothub-json", "--force",
                       "--gzip", "-o", "json"});
  REQUIRE_MESSAGE(forced.code == 0, forced.err);
  CHECK(json::parse(forced.out)["files"].get<int>() >= 4);
  CHECK_FALSE(std::filesystem::exists(h.cwd / "exports/data/telemetry.ndjson"));

  // A defects file with exact counts.
  aiot::test::write_text(h.cwd / "defects.yaml", "duplicate: {count: 4}\nTS006: {count: 2}\n");
  auto counted = h.run({"sim", "telemetry", "--out", "counted", "--hours", "2", "--defects", "defects.yaml", "-o", "json"});
  REQUIRE_MESSAGE(counted.code == 0, counted.err);
  CHECK(json::parse(counted.out)["defects"] == json{{"duplicate", 4}, {"gap", 2}});

  SUBCASE("bad input is exit 2 and writes nothing") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"sim", "telemetry", "--out", "bad", "--format", "parquet"},
             {"sim", "telemetry", "--out", "bad", "--interval", "soon"},
             {"sim", "telemetry", "--out", "bad", "--defects", "nope.yaml"},
             {"sim", "telemetry", "--out", "bad", "--drift", "temperature"},
             {"sim", "telemetry", "--out", "bad", "--bias", "site=atlantis"},
             {"sim", "telemetry", "--out", "bad", "--hours", "0.1"},
         }) {
      auto bad = h.run(args);
      CHECK_MESSAGE(bad.code == 2, args[4]);
      CHECK_FALSE(std::filesystem::exists(h.cwd / "bad/manifest.json"));
    }
  }
}

TEST_CASE("sim telemetry: a hub without a simulated fleet") {
  Harness h;
  auto r = h.run({"sim", "telemetry", "--out", "x", "--hours", "1"});
  CHECK(r.code == 1);
  CHECK(r.err.find("sim fleet") != std::string::npos);
}
