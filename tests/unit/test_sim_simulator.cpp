#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <set>

#include "aiot/core/error.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/simulator.hpp"
#include "support/harness.hpp"

using namespace aiot;
using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using Hub = aiot::hub::local::LocalHub;

namespace {

Clock fixed_clock() {
  auto t = test::fixed_now();
  return [t] { return t; };
}

// Every twin, without the one field IoT Hub makes random on purpose (generationId).
json twins(Hub& hub) {
  json all = json::array();
  for (const auto& d : hub.list({})) {
    auto t = hub::to_twin_json(d);
    t.erase("generationId");
    all.push_back(std::move(t));
  }
  return all;
}

void dispatch(Hub& hub, const std::vector<std::string>& ids, const std::string& version) {
  for (const auto& id : ids) {
    hub::DeviceUpdate u;
    u.id = id;
    u.desired_patch = {{"aiot",
                        {{"model",
                          {{"name", "detector"},
                           {"version", version},
                           {"uri", sim::artifact_uri("detector", version)},
                           {"sha256", sim::artifact_sha256("detector", version)}}}}}};
    hub.update(u);
  }
}

std::vector<std::string> ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(fmt::format("dev-{:05}", i));
  return out;
}

std::string ota_state(Hub& hub, const std::string& id) {
  return hub.get(id).reported["aiot"]["ota"]["state"].get<std::string>();
}
std::string running(Hub& hub, const std::string& id) {
  return hub.get(id).reported["aiot"]["model"]["version"].get<std::string>();
}

}  // namespace

TEST_CASE("sim fleet: registers simulated devices with tags, desired and reported model, and starts the clock") {
  test::TempDir dir;
  Hub hub(dir / "hub.db", fixed_clock());
  CHECK_FALSE(sim::is_simulated(hub));
  CHECK_FALSE(hub.sim_time());

  std::size_t last_progress = 0;
  auto r = sim::Simulator::create_fleet(hub, {.devices = 20, .seed = 4},
                                        [&](std::size_t done, std::size_t total) {
                                          CHECK(total == 20);
                                          last_progress = done;
                                        });
  CHECK(r.created == 20);
  CHECK(r.unchanged == 0);
  CHECK(r.clock_started);
  CHECK(r.first_id == "dev-00001");
  CHECK(r.last_id == "dev-00020");
  CHECK(last_progress == 20);
  CHECK(sim::is_simulated(hub));
  CHECK(hub.sim_time() == test::fixed_now());
  CHECK(hub.now() == test::fixed_now());

  auto devices = hub.list({});
  REQUIRE(devices.size() == 20);
  std::set<std::string> sites, hws;
  for (const auto& d : devices) {
    CHECK(d.auth.type == hub::AuthType::sas);
    CHECK(d.tags["sim"] == true);
    sites.insert(d.tags["site"].get<std::string>());
    hws.insert(d.tags["hw"].get<std::string>());
    CHECK(d.desired["aiot"]["model"] == json{{"name", "detector"},
                                             {"version", "2.0"},
                                             {"uri", "sim://models/detector/2.0"},
                                             {"sha256", sim::artifact_sha256("detector", "2.0")}});
    CHECK(d.reported["aiot"]["ota"] == json{{"state", "succeeded"}, {"version", "2.0"}, {"ts", "2026-11-23T09:00:00Z"}});
    CHECK(d.reported["aiot"]["model"] == json{{"name", "detector"}, {"version", "2.0"}});
    CHECK(d.reported["aiot"]["health"]["ts"] == "2026-11-23T09:00:00Z");
  }
  CHECK(sites.size() > 1);  // drawn from the weights, not all the same
  CHECK(hws.size() > 1);
  // Tags follow the profile's site -> region map.
  auto paris = hub.list({.where = "tags.site = 'paris'"});
  for (const auto& d : paris) CHECK(d.tags["region"] == "eu-west");
  CHECK(hub.list({.where = "tags.sim = true"}).size() == 20);

  SUBCASE("a re-run with the same arguments changes nothing") {
    auto before = hub::to_twin_json(hub.get("dev-00007"));
    auto again = sim::Simulator::create_fleet(hub, {.devices = 20, .seed = 4});
    CHECK(again.created == 0);
    CHECK(again.unchanged == 20);
    CHECK_FALSE(again.clock_started);
    CHECK(hub::to_twin_json(hub.get("dev-00007")) == before);
  }
  SUBCASE("a larger N adds devices; the first ones stay as they are") {
    auto before = hub::to_twin_json(hub.get("dev-00020"));
    auto more = sim::Simulator::create_fleet(hub, {.devices = 25, .seed = 4});
    CHECK(more.created == 5);
    CHECK(more.unchanged == 20);
    CHECK(hub.list({}).size() == 25);
    CHECK(hub::to_twin_json(hub.get("dev-00020")) == before);
  }
  SUBCASE("another seed or profile is a conflict, and nothing changes") {
    try {
      sim::Simulator::create_fleet(hub, {.devices = 20, .seed = 5});
      FAIL("no conflict");
    } catch (const Error& e) {
      CHECK(e.reason() == Reason::conflict);
      CHECK(e.message().find("uses seed 4, not 5") != std::string::npos);
      CHECK(e.hint().find("--seed 4") != std::string::npos);
    }
    std::string other(sim::Profile::builtin_yaml());
    other.replace(other.find("failureRate: 0.15"), 17, "failureRate: 0.25");
    CHECK_THROWS_AS(sim::Simulator::create_fleet(hub, {.devices = 20, .profile_yaml = other, .profile_source = "x.yaml", .seed = 4}),
                    Error);
    CHECK(hub.list({}).size() == 20);
  }
}

TEST_CASE("sim fleet: bad input writes nothing") {
  test::TempDir dir;
  Hub hub(dir / "hub.db", fixed_clock());
  CHECK_THROWS_AS(sim::Simulator::create_fleet(hub, {.devices = 0}), Error);
  CHECK_THROWS_AS(sim::Simulator::create_fleet(hub, {.devices = 3, .prefix = "bad id "}), Error);
  CHECK_THROWS_AS(sim::Simulator::create_fleet(hub, {.devices = 3, .profile_yaml = "fleet: 3", .profile_source = "s.yaml"}),
                  Error);

  // A device that is not simulated holds one of the ids.
  hub::Device foreign;
  foreign.id = "dev-00002";
  hub.create(foreign);
  try {
    sim::Simulator::create_fleet(hub, {.devices = 3});
    FAIL("no conflict");
  } catch (const Error& e) {
    CHECK(e.reason() == Reason::conflict);
    CHECK(e.message().find("dev-00002") != std::string::npos);
  }
  CHECK(hub.list({}).size() == 1);
  CHECK_FALSE(sim::is_simulated(hub));
  CHECK_FALSE(hub.sim_time());
  // With another prefix it works beside it.
  CHECK(sim::Simulator::create_fleet(hub, {.devices = 3, .prefix = "cam-"}).created == 3);
  CHECK(hub.get("cam-00003").tags["sim"] == true);
}

TEST_CASE("sim fleet: --start sets the clock only when the hub has none") {
  test::TempDir dir;
  Hub hub(dir / "hub.db", fixed_clock());
  auto start = *parse_rfc3339("2027-01-04T08:30:00Z");
  auto r = sim::Simulator::create_fleet(hub, {.devices = 2, .start = start});
  CHECK(r.sim_time == start);
  CHECK_FALSE(r.start_ignored);
  CHECK(hub.get("dev-00001").reported["aiot"]["ota"]["ts"] == "2027-01-04T08:30:00Z");
  sim::advance(hub, hours(1));
  // A re-run with the fleet's own --start keeps the advanced clock quietly; another start is ignored, loudly.
  CHECK_FALSE(sim::Simulator::create_fleet(hub, {.devices = 2, .start = start}).start_ignored);
  auto other = sim::Simulator::create_fleet(hub, {.devices = 2, .start = start + hours(5)});
  CHECK(other.start_ignored);
  CHECK(hub.sim_time() == start + hours(1));
}

TEST_CASE("sim advance: moves the hub clock and plays the devices; status counts what they report") {
  test::TempDir dir;
  Hub hub(dir / "hub.db", fixed_clock());
  CHECK_THROWS_AS(sim::Simulator::open(hub), Error);
  sim::Simulator::create_fleet(hub, {.devices = 40, .seed = 2});
  auto simulator = sim::Simulator::open(hub);
  CHECK(simulator.seed() == 2);
  CHECK_THROWS_AS(simulator.advance(minutes(0)), Error);
  CHECK_THROWS_AS(simulator.advance_to(test::fixed_now()), Error);

  auto idle = simulator.advance(hours(2));
  CHECK(idle.from == test::fixed_now());
  CHECK(idle.to == test::fixed_now() + hours(2));
  CHECK(hub.now() == test::fixed_now() + hours(2));
  CHECK(idle.installs_started == 0);
  CHECK(idle.health_reports == 40);
  CHECK(idle.devices_reported == 40);
  CHECK(hub.get("dev-00001").reported["aiot"]["health"]["ts"] == "2026-11-23T11:00:00Z");

  dispatch(hub, ids(1, 10), "2.2");
  auto partial = simulator.advance(std::chrono::seconds(20));
  CHECK(partial.installs_started == 10);
  auto st = simulator.status();
  CHECK(st.installing == 10);
  auto r = simulator.advance(hours(1));
  CHECK(r.installs_started == 0);
  CHECK(r.succeeded == 10);  // 2.2 never fails an install
  CHECK(r.failed == 0);
  for (const auto& id : ids(1, 10)) {
    CHECK(running(hub, id) == "2.2");
    CHECK(ota_state(hub, id) == "succeeded");
  }
  CHECK(running(hub, "dev-00011") == "2.0");

  st = simulator.status();
  CHECK(st.sim_time == test::fixed_now() + hours(3) + std::chrono::seconds(20));
  CHECK(st.devices == 40);
  CHECK(st.installing == 0);
  CHECK(st.by_version == std::map<std::string, std::size_t>{{"2.0", 30}, {"2.2", 10}});
  CHECK(st.by_ota_state == std::map<std::string, std::size_t>{{"succeeded", 40}});
  CHECK(st.profile_source == "<built-in profile>");

  SUBCASE("rollback: desired back to the baseline returns every device to it") {
    dispatch(hub, ids(1, 10), "2.0");
    auto back = simulator.advance(hours(1));
    CHECK(back.installs_started == 10);
    CHECK(back.succeeded == 10);
    for (const auto& id : ids(1, 10)) {
      CHECK(running(hub, id) == "2.0");
      CHECK(hub.get(id).reported["aiot"]["ota"]["version"] == "2.0");
    }
    CHECK(simulator.status().by_version == std::map<std::string, std::size_t>{{"2.0", 40}});
  }
  SUBCASE("a disabled device is frozen; a deleted one is forgotten") {
    hub.update({.id = "dev-00012", .enabled = false});
    auto frozen_before = hub.get("dev-00012").reported;
    hub.remove("dev-00013");
    auto s = simulator.advance(hours(2));
    CHECK(s.offline == 1);
    CHECK(s.removed == 1);
    CHECK(hub.get("dev-00012").reported == frozen_before);
    CHECK(simulator.status().devices == 39);
    CHECK(simulator.status().offline == 1);
  }
}

TEST_CASE("sim advance: 2.1 fails 15% of installs (2,000 devices, 99.9% binomial bound)") {
  // n = 2000, p = 0.15: mean 300, sd sqrt(2000 * 0.15 * 0.85) = 15.97; two-sided 99.9% is
  // z = 3.2905 sd = 52.5, so the count of failures must lie in [248, 352].
  test::TempDir dir;
  Hub hub(dir / "hub.db", fixed_clock());
  sim::Simulator::create_fleet(hub, {.devices = 2000, .seed = 21});
  dispatch(hub, ids(1, 2000), "2.1");
  auto r = sim::advance(hub, hours(4));  // lognormal median 3m, p95 10m: all done long before
  CHECK(r.installs_started == 2000);
  CHECK(r.succeeded + r.failed == 2000);
  CHECK(r.failed >= 248);
  CHECK(r.failed <= 352);
  auto st = sim::Simulator::open(hub).status();
  CHECK(st.by_ota_state["failed"] == r.failed);
  CHECK(st.by_version["2.0"] == r.failed);  // a failed install keeps the old version
  CHECK(st.by_version["2.1"] == r.succeeded);
  auto failed = hub.list({.where = "properties.reported.aiot.ota.state = 'failed'", .limit = 1});
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reported["aiot"]["ota"]["error"].get<std::string>().rfind("install failed: ", 0) == 0);

  // Rolling everything back leaves every device reporting ota succeeded on 2.0, failed ones included.
  dispatch(hub, ids(1, 2000), "2.0");
  auto back = sim::advance(hub, hours(1));
  CHECK(back.installs_started == 2000);
  CHECK(back.failed == 0);
  st = sim::Simulator::open(hub).status();
  CHECK(st.by_ota_state == std::map<std::string, std::size_t>{{"succeeded", 2000}});
  CHECK(st.by_version == std::map<std::string, std::size_t>{{"2.0", 2000}});
  CHECK(hub.list({.where = "IS_DEFINED(properties.reported.aiot.ota.error)"}).empty());
}

TEST_CASE("sim determinism: two hubs, the same seed and commands give identical twins") {
  auto script = [](Hub& hub, std::uint64_t seed) {
    sim::Simulator::create_fleet(hub, {.devices = 60, .seed = seed});
    sim::advance(hub, minutes(90));
    dispatch(hub, ids(1, 20), "2.1");
    sim::advance(hub, minutes(2));  // some installs mid-way
    dispatch(hub, ids(5, 9), "2.2");
    sim::advance(hub, hours(2));
    dispatch(hub, ids(1, 20), "2.0");  // rollback
    sim::advance(hub, hours(3));
    return twins(hub);
  };
  test::TempDir a, b, c;
  Hub hub_a(a / "hub.db", fixed_clock());
  Hub hub_b(b / "hub.db", fixed_clock());
  Hub hub_c(c / "hub.db", fixed_clock());
  auto first = script(hub_a, 8);
  auto second = script(hub_b, 8);
  CHECK(first.dump() == second.dump());
  CHECK(first.dump() != script(hub_c, 9).dump());
  // The script left every device on the baseline again.
  for (const auto& t : first) CHECK(t["properties"]["reported"]["aiot"]["model"]["version"] == "2.0");
}

TEST_CASE("sim advance: an advance interrupted after moving the clock is finished by the next one") {
  // Hub A advances 2h at once. Hub B "crashes" after moving its clock 1h (the first write of an
  // advance) and before anything else; its next advance of 1h must end where A is.
  test::TempDir a, b;
  Hub hub_a(a / "hub.db", fixed_clock());
  Hub hub_b(b / "hub.db", fixed_clock());
  for (Hub* h : {&hub_a, &hub_b}) {
    sim::Simulator::create_fleet(*h, {.devices = 15, .seed = 3});
    dispatch(*h, ids(1, 15), "2.1");
  }
  sim::advance(hub_a, hours(2));
  hub_b.set_sim_time(test::fixed_now() + hours(1));
  auto r = sim::advance(hub_b, hours(1));
  CHECK(r.from == test::fixed_now());
  CHECK(r.to == test::fixed_now() + hours(2));
  CHECK(twins(hub_a).dump() == twins(hub_b).dump());
  // A clock set back behind the simulator is refused.
  hub_b.set_sim_time(test::fixed_now());
  CHECK_THROWS_AS(sim::advance(hub_b, hours(1)), Error);
}

TEST_CASE("sim store: the simulator's tables live in the hub file beside the hub's") {
  test::TempDir dir;
  {
    Hub hub(dir / "hub.db", fixed_clock());
    sim::Simulator::create_fleet(hub, {.devices = 3});
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir / "hub.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM sim_devices", -1, &s, nullptr);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == 3);
  sqlite3_finalize(s);
  sqlite3_close(db);
  // Reopened by a new process, the fleet is still there with its seed.
  Hub hub(dir / "hub.db", fixed_clock());
  CHECK(sim::Simulator::open(hub).seed() == 1);
}
