// aiot lineage audit in-process: attribution around an update of a simulated device and a canary
// leak found from the data, exit codes 0/2/3, atomic outputs, -o json.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/harness.hpp"

using aiot::test::Harness;
using nlohmann::json;

namespace {

// One NDJSON line as the clouds' routing would write it.
std::string line(const std::string& device, const std::string& ts, const std::string& version, double temp, int seq) {
  return fmt::format(
             R"({{"deviceId":"{}","messageId":"{}-{}","ts":"{}","enqueuedTime":"{}","modelVersion":"{}","seq":{},"temperature":{}}})",
             device, device, seq, ts, ts, version, seq, temp) +
         "\n";
}

std::string at(int minute) { return fmt::format("2026-11-23T{:02d}:{:02d}:00Z", 9 + minute / 60, minute % 60); }

json check_of(const json& audit, const std::string& code) {
  for (const auto& c : audit["checks"])
    if (c["code"] == code) return c;
  return nullptr;
}

}  // namespace

TEST_CASE("lineage audit: a device updated mid-window is attributed on both sides; a leak is ATT002") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "3"}).code == 0);
  // dev-00002 gets 2.2 by hand at 09:00; the simulator installs it within minutes.
  REQUIRE(h.run({"device", "update", "dev-00002", "--desired", "aiot.model.version=\"2.2\""}).code == 0);
  REQUIRE(h.run({"sim", "advance", "3h"}).code == 0);
  auto show = json::parse(h.run({"device", "show", "dev-00002", "-o", "json"}).out);
  REQUIRE(show["properties"]["reported"]["aiot"]["model"]["version"] == "2.2");
  const auto installed = show["properties"]["reported"]["aiot"]["ota"]["ts"].get<std::string>();

  std::string text;
  for (int m = 0; m < 150; m += 1) {
    const bool after = at(m) > installed;
    text += line("dev-00001", at(m), "2.0", 20 + (m % 7) * 0.1, m);
    text += line("dev-00002", at(m), after ? "2.2" : "2.0", 21 + (m % 5) * 0.1, m);
    // dev-00003 never got 2.2: three records claiming it are a leak.
    text += line("dev-00003", at(m), m >= 100 && m < 103 ? "2.2" : "2.0", 22 + (m % 3) * 0.1, m);
  }
  aiot::test::write_text(h.cwd / "t.ndjson", text);

  auto r = h.run({"lineage", "audit", "--input", "t.ndjson", "--out", "audit.json", "-o", "json"});
  CHECK(r.code == 3);  // ATT002 is an error
  auto audit = json::parse(r.out);
  CHECK(audit == json::parse(aiot::test::read_text(h.cwd / "audit.json")));
  CHECK(audit["schema"] == "aiot.audit/v1");
  CHECK(check_of(audit, "ATT002")["count"] == 3);
  CHECK(check_of(audit, "ATT002")["examples"][0]["device"] == "dev-00003");
  CHECK(check_of(audit, "ATT002")["examples"][0]["detail"].get<std::string>().find("canary leak") != std::string::npos);
  CHECK(check_of(audit, "ATT002")["runs"][0]["n"] == 3);
  CHECK(check_of(audit, "ATT001")["count"] == 0);
  CHECK(check_of(audit, "REG001")["count"] == 0);
  std::map<std::string, std::uint64_t> by_version;
  for (const auto& m : audit["models"]) by_version[m["version"].get<std::string>()] = m["records"];
  // dev-00002's records split at its reported install; the leaked records count for 2.0 (the ledger's).
  std::uint64_t dev2_after = 0;
  for (int m = 0; m < 150; ++m) dev2_after += at(m) > installed ? 1 : 0;
  CHECK(by_version["2.2"] == dev2_after);
  CHECK(by_version["2.0"] == 450 - dev2_after);

  SUBCASE("--fail-on never: exit 0, same findings") {
    auto n = h.run({"lineage", "audit", "--input", "t.ndjson", "--fail-on", "never"});
    CHECK(n.code == 0);
    CHECK(n.out.find("ATT002\tfail\t3") != std::string::npos);
  }
  SUBCASE("--threads: one parser thread or several, the same audit") {
    auto timeless = [](json a) {
      a["statistics"].erase("seconds");
      a["statistics"].erase("mb_per_s");
      return a;
    };
    auto one = h.run({"lineage", "audit", "--input", "t.ndjson", "--threads", "1", "-o", "json"});
    auto three = h.run({"lineage", "audit", "--input", "t.ndjson", "--threads", "3", "-o", "json"});
    CHECK(one.code == 3);
    CHECK(three.code == 3);
    CHECK(timeless(json::parse(one.out)) == timeless(audit));
    CHECK(timeless(json::parse(three.out)) == timeless(audit));
    CHECK(h.run({"lineage", "audit", "--input", "t.ndjson", "--threads", "65"}).code == 2);
  }
  SUBCASE("--registry none: no attribution checks") {
    auto n = h.run({"lineage", "audit", "--input", "t.ndjson", "--registry", "none", "-o", "json"});
    CHECK(n.code == 0);
    CHECK(check_of(json::parse(n.out), "ATT002")["outcome"] == "skipped");
  }
}

TEST_CASE("lineage audit: bad input exits 2 and writes nothing") {
  Harness h;
  aiot::test::write_text(h.cwd / "t.ndjson", line("x", at(0), "1", 1, 0));
  aiot::test::write_text(h.cwd / "policy.yaml", "checks:\n  OUT001: {method: sometimes}\n");
  auto r = h.run({"lineage", "audit", "--input", "t.ndjson", "--registry", "none", "--policy", "policy.yaml", "--out", "a.json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("policy.yaml:2:") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(h.cwd / "a.json"));
  CHECK(h.run({"lineage", "audit", "--input", "missing.ndjson"}).code == 2);
  CHECK(h.run({"lineage", "audit", "--input", "t.ndjson", "--format", "xml"}).code == 2);
  CHECK(h.run({"lineage", "audit", "--input", "t.ndjson", "--window", "2026-11-23T00:00:00Z"}).code == 2);
  CHECK(h.run({"lineage", "audit", "--input", "t.ndjson", "--baseline", "nope.json"}).code == 2);
  CHECK(h.run({"lineage", "audit", "--input", "t.ndjson", "--journal", "nowhere"}).code == 2);
  CHECK(h.run({"lineage", "audit"}).code == 2);
  auto ok = h.run({"lineage", "audit", "--input", "t.ndjson", "--registry", "none", "--out", "a.json"});
  CHECK(ok.code == 0);
  CHECK(std::filesystem::exists(h.cwd / "a.json"));
}
