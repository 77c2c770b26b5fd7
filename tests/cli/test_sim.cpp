#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aiot/sim/profile.hpp"
#include "support/harness.hpp"

using aiot::test::Harness;
using nlohmann::json;

namespace {

// `device list -o json` without generationId, which IoT Hub makes random on purpose.
json twins(Harness& h) {
  auto r = h.run({"device", "list", "-o", "json"});
  REQUIRE(r.code == 0);
  auto all = json::parse(r.out);
  for (auto& t : all) t.erase("generationId");
  return all;
}

}  // namespace

TEST_CASE("sim fleet / advance / status: a simulated fleet on the local hub, from the command line") {
  Harness h;
  auto r = h.run({"sim", "fleet", "--devices", "20", "-o", "json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto j = json::parse(r.out);
  CHECK(j["created"] == 20);
  CHECK(j["unchanged"] == 0);
  CHECK(j["firstId"] == "dev-00001");
  CHECK(j["lastId"] == "dev-00020");
  CHECK(j["simTime"] == "2026-11-23T09:00:00Z");  // the harness clock
  CHECK(j["profile"] == "<built-in profile>");
  CHECK(r.err.find("20 created") != std::string::npos);

  auto again = h.run({"sim", "fleet", "--devices", "20", "-o", "json"});
  REQUIRE(again.code == 0);
  CHECK(json::parse(again.out)["unchanged"] == 20);

  auto list = h.run({"device", "list", "--where", "tags.sim = true AND tags.hw = 'pi5'", "-o", "json"});
  REQUIRE(list.code == 0);
  for (const auto& t : json::parse(list.out)) {
    CHECK(t["properties"]["reported"]["aiot"]["model"]["version"] == "2.0");
  }

  // The rollout controller's part, by hand: desire 2.2 on one device.
  REQUIRE(h.run({"device", "update", "dev-00003", "--desired", "aiot.model.version=\"2.2\""}).code == 0);
  auto adv = h.run({"sim", "advance", "2h", "-o", "json"});
  REQUIRE_MESSAGE(adv.code == 0, adv.err);
  auto a = json::parse(adv.out);
  CHECK(a["from"] == "2026-11-23T09:00:00Z");
  CHECK(a["to"] == "2026-11-23T11:00:00Z");
  CHECK(a["installsStarted"] == 1);
  CHECK(a["succeeded"] == 1);
  CHECK(a["devicesReported"] == 20);

  auto show = h.run({"device", "show", "dev-00003", "-o", "json"});
  auto reported = json::parse(show.out)["properties"]["reported"]["aiot"];
  CHECK(reported["ota"]["state"] == "succeeded");
  CHECK(reported["ota"]["version"] == "2.2");
  CHECK(reported["health"]["ts"] == "2026-11-23T11:00:00Z");

  auto st = h.run({"sim", "status", "-o", "json"});
  REQUIRE(st.code == 0);
  auto s = json::parse(st.out);
  CHECK(s["simTime"] == "2026-11-23T11:00:00Z");
  CHECK(s["devices"] == 20);
  CHECK(s["seed"] == 1);
  CHECK(s["byVersion"] == json{{"2.0", 19}, {"2.2", 1}});
  CHECK(s["byOtaState"] == json{{"succeeded", 20}});

  // The table form: one FIELD/VALUE row per field.
  auto table = h.run({"sim", "status"});
  CHECK(table.out.find("byVersion.2.2\t1") != std::string::npos);

  auto to = h.run({"sim", "advance", "--to", "2026-11-23T12:30:00Z", "-o", "json"});
  REQUIRE(to.code == 0);
  CHECK(json::parse(to.out)["to"] == "2026-11-23T12:30:00Z");
}

TEST_CASE("sim: bad input exits 2 with the field, file and line; no fleet exits 1 with a hint") {
  Harness h;
  CHECK(h.run({"sim", "fleet"}).code == 2);  // --devices is required
  CHECK(h.run({"sim", "fleet", "--devices", "0"}).code == 2);

  aiot::test::write_text(h.cwd / "sim.yaml", "fleet:\n  sites: {a: 1}\n  regions: {a: r}\n  hw: {x: -1}\n"
                                             "  model: {name: m, version: '1'}\n");
  auto bad = h.run({"sim", "fleet", "--devices", "5", "--profile", "sim.yaml"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("sim.yaml:4:") != std::string::npos);
  CHECK(bad.err.find("fleet.hw.x") != std::string::npos);
  CHECK(h.run({"sim", "fleet", "--devices", "5", "--profile", "missing.yaml"}).code == 2);
  CHECK(h.run({"sim", "fleet", "--devices", "5", "--start", "yesterday"}).code == 2);

  auto none = h.run({"sim", "advance", "1h"});
  CHECK(none.code == 1);
  CHECK(none.err.find("aiot sim fleet --devices") != std::string::npos);
  CHECK(h.run({"sim", "status"}).code == 1);

  REQUIRE(h.run({"sim", "fleet", "--devices", "3"}).code == 0);
  CHECK(h.run({"sim", "advance", "soon"}).code == 2);
  CHECK(h.run({"sim", "advance"}).code == 2);
  CHECK(h.run({"sim", "advance", "1h", "--to", "2027-01-01T00:00:00Z"}).code == 2);
  CHECK(h.run({"sim", "advance", "--to", "2020-01-01T00:00:00Z"}).code == 2);  // the clock moves forward only
  auto seed = h.run({"sim", "fleet", "--devices", "3", "--seed", "9"});
  CHECK(seed.code == 1);
  CHECK(seed.err.find("--seed 1") != std::string::npos);
}

TEST_CASE("sim fleet --print-default-profile prints the built-in profile, which parses back") {
  Harness h;
  auto r = h.run({"sim", "fleet", "--print-default-profile"});
  REQUIRE(r.code == 0);
  CHECK(r.out == aiot::sim::Profile::builtin_yaml());
  aiot::test::write_text(h.cwd / "copy.yaml", r.out);
  auto with_copy = h.run({"sim", "fleet", "--devices", "4", "--profile", "copy.yaml", "-o", "json"});
  CHECK(with_copy.code == 0);
}

TEST_CASE("sim: the same commands on two hubs give byte-identical twins") {
  auto script = [](Harness& h) {
    REQUIRE(h.run({"sim", "fleet", "--devices", "12", "--seed", "5"}).code == 0);
    REQUIRE(h.run({"sim", "advance", "30m"}).code == 0);
    for (const char* id : {"dev-00002", "dev-00005", "dev-00011"}) {
      REQUIRE(h.run({"device", "update", id, "--desired", "aiot.model.version=\"2.1\""}).code == 0);
    }
    REQUIRE(h.run({"sim", "advance", "3h"}).code == 0);
    return twins(h);
  };
  Harness a, b;
  auto first = script(a);
  auto second = script(b);
  CHECK(first.size() == 12);
  CHECK(first.dump() == second.dump());
}
