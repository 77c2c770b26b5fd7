#include <doctest/doctest.h>

#include <sqlite3.h>
#include <sys/wait.h>
#include <algorithm>
#include <random>
#include <set>
#include <unistd.h>

#include "aiot/core/crypto.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "support/harness.hpp"

using namespace aiot;
using namespace aiot::hub;

namespace {
Clock fixed_clock() {
  auto t = test::fixed_now();
  return [t] { return t; };
}
Device sas_device(const std::string& id, nlohmann::json tags = nlohmann::json::object()) {
  Device d;
  d.id = id;
  d.tags = std::move(tags);
  return d;
}
}  // namespace

TEST_CASE("local hub: create generates SAS keys, get returns what was stored") {
  test::TempDir dir;
  local::LocalHub hub(dir / "hub.db", fixed_clock());
  auto created = hub.create(sas_device("dev-1", {{"site", "berlin"}}));
  CHECK(crypto::base64_decode(created.auth.primary_key).size() == 32);
  CHECK(created.auth.primary_key != created.auth.secondary_key);
  auto got = hub.get("dev-1");
  CHECK(got.auth == created.auth);
  CHECK(got.tags == nlohmann::json{{"site", "berlin"}});
  CHECK(got.created == test::fixed_now());
  CHECK(got.version == 1);
  CHECK(hub.schema_version() == local::LocalHub::latest_schema_version());

  SUBCASE("a second create is a conflict") {
    try {
      hub.create(sas_device("dev-1"));
      FAIL("expected a conflict");
    } catch (const Error& e) {
      CHECK(e.reason() == Reason::conflict);
    }
  }
  SUBCASE("an unknown id is not found") {
    try {
      hub.get("nope");
      FAIL("expected not found");
    } catch (const Error& e) {
      CHECK(e.reason() == Reason::not_found);
    }
  }
  SUBCASE("invalid ids are refused with exit 2") {
    CHECK_THROWS_AS(hub.create(sas_device("bad id")), Error);
    try {
      hub.create(sas_device(std::string(129, 'a')));
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
    }
  }
}

TEST_CASE("local hub: update merges tags and desired, bumps versions, checks etags") {
  test::TempDir dir;
  local::LocalHub hub(dir / "hub.db", fixed_clock());
  hub.create(sas_device("d", {{"site", "berlin"}, {"ring", "canary"}}));
  auto before = hub.get("d");
  DeviceUpdate u;
  u.id = "d";
  u.if_match = before.twin_etag;
  u.tags_patch = {{"ring", nullptr}, {"hw", "pi4"}};
  u.desired_patch = {{"aiot", {{"model", {{"version", "2.0"}}}}}};
  auto after = hub.update(u);
  CHECK(after.tags == nlohmann::json{{"site", "berlin"}, {"hw", "pi4"}});
  CHECK(after.desired["aiot"]["model"]["version"] == "2.0");
  CHECK(after.desired_version == before.desired_version + 1);
  CHECK(after.version == before.version + 1);
  CHECK(after.twin_etag != before.twin_etag);
  CHECK(hub.get("d").twin_etag == after.twin_etag);

  // The old etag is stale now.
  try {
    hub.update(u);
    FAIL("expected a precondition failure");
  } catch (const Error& e) {
    CHECK(e.reason() == Reason::precondition_failed);
  }
  DeviceUpdate disable;
  disable.id = "d";
  disable.enabled = false;
  auto disabled = hub.update(disable);
  CHECK_FALSE(disabled.enabled);
  CHECK(disabled.etag != after.etag);
  CHECK(disabled.version == after.version);  // status is identity, not twin
}

TEST_CASE("local hub: queries run in SQL over tags and reported properties") {
  test::TempDir dir;
  local::LocalHub hub(dir / "hub.db", fixed_clock());
  hub.create(sas_device("a", {{"site", "berlin"}, {"floor", 3}}));
  hub.create(sas_device("b", {{"site", "paris"}, {"floor", 5}}));
  hub.create(sas_device("c", {{"site", "berlin"}}));
  hub.patch_reported("a", {{"aiot", {{"ota", {{"version", "2.0"}}}}}});
  hub.patch_reported("c", {{"aiot", {{"ota", {{"version", "1.0"}}}}}});
  auto ids = [&](const std::string& where, size_t limit = 0) {
    std::vector<std::string> out;
    for (auto& d : hub.list({.where = where, .limit = limit})) out.push_back(d.id);
    return out;
  };
  CHECK(ids("") == std::vector<std::string>{"a", "b", "c"});
  CHECK(ids("tags.site = 'berlin'") == std::vector<std::string>{"a", "c"});
  CHECK(ids("tags.site = 'berlin' AND properties.reported.aiot.ota.version != '2.0'") == std::vector<std::string>{"c"});
  CHECK(ids("tags.floor > 3") == std::vector<std::string>{"b"});
  CHECK(ids("deviceId IN ['a', 'b']") == std::vector<std::string>{"a", "b"});
  CHECK(ids("NOT IS_DEFINED(tags.floor)") == std::vector<std::string>{"c"});
  CHECK(ids("", 2) == std::vector<std::string>{"a", "b"});
  CHECK_THROWS_AS(ids("tags.site = "), Error);
}

TEST_CASE("local hub: import is idempotent and reports conflicts per row") {
  test::TempDir dir;
  local::LocalHub hub(dir / "hub.db", fixed_clock());
  std::vector<Device> batch{sas_device("a", {{"site", "x"}}), sas_device("b"), sas_device("bad id")};
  auto r1 = hub.import(batch, ImportMode::create);
  REQUIRE(r1.size() == 3);
  CHECK(r1[0].outcome == RowOutcome::created);
  CHECK(r1[1].outcome == RowOutcome::created);
  CHECK(r1[2].outcome == RowOutcome::failed);
  auto r2 = hub.import(batch, ImportMode::create);
  CHECK(r2[0].outcome == RowOutcome::unchanged);
  CHECK(r2[1].outcome == RowOutcome::unchanged);
  CHECK(r2[0].device->auth.primary_key == r1[0].device->auth.primary_key);
  batch[0].tags = {{"site", "y"}};
  auto r3 = hub.import(batch, ImportMode::create);
  CHECK(r3[0].outcome == RowOutcome::failed);
  CHECK(r3[0].error->reason() == Reason::conflict);
  CHECK(hub.get("a").tags["site"] == "x");
  auto r4 = hub.import(batch, ImportMode::upsert);
  CHECK(r4[0].outcome == RowOutcome::updated);
  CHECK(hub.get("a").tags["site"] == "y");
  CHECK(hub.get("a").auth.primary_key == r1[0].device->auth.primary_key);  // keys survive an update
}

TEST_CASE("local hub: two processes writing at once lose nothing") {
  test::TempDir dir;
  auto path = dir / "hub.db";
  { local::LocalHub init(path, fixed_clock()); }
  constexpr int k_per_process = 150;
  std::vector<pid_t> pids;
  for (int p = 0; p < 2; ++p) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int rc = 0;
      try {
        local::LocalHub hub(path, fixed_clock());
        for (int i = 0; i < k_per_process; ++i) {
          hub.create(sas_device("p" + std::to_string(p) + "-" + std::to_string(i)));
          // Both processes also update one shared device: each update must land.
          DeviceUpdate u;
          u.id = "p" + std::to_string(p) + "-0";
          u.tags_patch = {{"n", i}};
          hub.update(u);
        }
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    pids.push_back(pid);
  }
  for (auto pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  local::LocalHub hub(path, fixed_clock());
  CHECK(hub.list({}).size() == 2 * k_per_process);
  CHECK(hub.get("p0-0").tags["n"] == k_per_process - 1);
  CHECK(hub.get("p1-0").tags["n"] == k_per_process - 1);
  CHECK(hub.get("p0-0").version == 1 + k_per_process);  // created at 1, one bump per update, none lost
}

TEST_CASE("local hub: a newer schema is refused, not damaged") {
  test::TempDir dir;
  auto path = dir / "hub.db";
  { local::LocalHub hub(path, fixed_clock()); }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  CHECK_THROWS_AS(local::LocalHub(path, fixed_clock()), Error);
}

namespace {
// Same value and, all the way down, the same nlohmann types (unsigned vs signed vs float).
bool same_typed(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key()) || !same_typed(it.value(), b[it.key()])) return false;
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_typed(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}
}  // namespace

TEST_CASE("local hub: JSON columns read back with the values and number types json::parse gives") {
  test::TempDir dir;
  local::LocalHub hub(dir / "hub.db", fixed_clock());
  auto tags = nlohmann::json::parse(R"({
    "text": "Gr\u00fc\u00dfe \u2713 \ud83d\ude00 \"quoted\" back\\slash tab\t ctl\u0001",
    "unsigned": 5, "zero": 0, "negative": -5, "min": -9223372036854775808,
    "big": 18446744073709551615, "beyond": 18446744073709551616, "float": 2.0, "tiny": 1e-300, "pi": 3.141592653589793,
    "nested": {"list": [1, -1, 1.5, "s", true, false, null, {}, []], "empty": {}},
    "flag": true, "nothing": null
  })");
  REQUIRE(tags["unsigned"].is_number_unsigned());
  REQUIRE(tags["negative"].is_number_integer());
  REQUIRE(tags["beyond"].is_number_float());
  hub.create(sas_device("typed", tags));
  hub.patch_reported("typed", {{"r", {{"n", 7}, {"x", -0.25}}}});
  auto got = hub.get("typed");
  CHECK(same_typed(got.tags, tags));
  CHECK(got.tags.dump() == tags.dump());
  CHECK(same_typed(got.reported, nlohmann::json::parse(R"({"r": {"n": 7, "x": -0.25}})")));
  auto listed = hub.list({.where = "tags.unsigned = 5"});
  REQUIRE(listed.size() == 1);
  CHECK(same_typed(listed[0].tags, tags));
  CHECK(hub.list({.where = "tags.nested.list = 1"}).empty());  // arrays never compare
}

TEST_CASE("local hub: update_many writes only changes and reports per row like update") {
  test::TempDir dir;
  local::LocalHub hub(dir / "hub.db", fixed_clock());
  hub.create(sas_device("a", {{"site", "berlin"}}));
  hub.create(sas_device("b", {{"site", "paris"}}));
  hub.patch_reported("a", {{"aiot", {{"ota", {{"state", "succeeded"}}}}}});
  auto a0 = hub.get("a");
  auto b0 = hub.get("b");

  std::vector<DeviceUpdate> updates(5);
  updates[0].id = "a";  // a new desired model and a tag
  updates[0].if_match = a0.twin_etag;
  updates[0].tags_patch = {{"ring", "canary"}};
  updates[0].desired_patch = {{"aiot", {{"model", {{"version", "2.0"}}}}}};
  updates[1].id = "b";  // patches that change nothing
  updates[1].tags_patch = {{"site", "paris"}, {"gone", nullptr}};
  updates[2].id = "missing";
  updates[3].id = "b";
  updates[3].if_match = crypto::base64_encode("99");  // a stale etag
  updates[3].tags_patch = {{"x", 1}};
  updates[4].id = "b";  // disable: identity only
  updates[4].enabled = false;
  auto results = hub.update_many(updates);
  REQUIRE(results.size() == 5);

  // A bulk update reports outcomes only (hub.hpp); what it wrote is read back.
  CHECK_FALSE(results[0].error);
  CHECK(results[0].outcome == RowOutcome::updated);
  const Device a1 = hub.get("a");
  CHECK(a1.tags == nlohmann::json{{"site", "berlin"}, {"ring", "canary"}});
  CHECK(a1.desired["aiot"]["model"]["version"] == "2.0");
  CHECK(a1.desired_version == a0.desired_version + 1);
  CHECK(a1.version == a0.version + 1);
  CHECK(a1.reported == a0.reported);  // reported is kept as it was
  CHECK(a1.reported_version == a0.reported_version);
  CHECK(a1.etag == a0.etag);
  CHECK(a1.auth == a0.auth);
  CHECK(a1.twin_etag != a0.twin_etag);

  CHECK_FALSE(results[1].error);
  CHECK(results[1].outcome == RowOutcome::updated);

  REQUIRE(results[2].error);
  CHECK(results[2].error->reason() == Reason::not_found);
  CHECK_FALSE(results[2].device);
  REQUIRE(results[3].error);
  CHECK(results[3].error->reason() == Reason::precondition_failed);

  CHECK_FALSE(results[4].error);
  auto b_stored = hub.get("b");
  CHECK_FALSE(b_stored.enabled);
  CHECK(b_stored.etag != b0.etag);                // identity changed
  CHECK(b_stored.version == b0.version);          // row 1 changed nothing: no twin version bump
  CHECK(b_stored.twin_etag == b0.twin_etag);
  CHECK(b_stored.tags == b0.tags);  // the failed row wrote nothing
}

TEST_CASE("local hub: JSON another writer stored reads back as json::parse reads it") {
  test::TempDir dir;
  auto path = dir / "hub.db";
  { local::LocalHub hub(path, fixed_clock()); hub.create(sas_device("raw")); }
  // Text nlohmann's dump never writes: -0, integers beyond 64 bits, exponents, escapes, spaces.
  const std::string text =
      R"({ "neg0": -0, "huge": 123456789012345678901234567890, "exp": 1E3, "esc": "\u00e9\/", "list": [ -0, 0 ] })";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "UPDATE devices SET tags = ? WHERE id = 'raw'", -1, &stmt, nullptr) == SQLITE_OK);
  sqlite3_bind_text(stmt, 1, text.c_str(), -1, SQLITE_TRANSIENT);
  CHECK(sqlite3_step(stmt) == SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  local::LocalHub hub(path, fixed_clock());
  auto expected = nlohmann::json::parse(text);
  CHECK(same_typed(hub.get("raw").tags, expected));
  CHECK(same_typed(hub.list({}).at(0).tags, expected));
}

TEST_CASE("local hub: count_by in SQL groups as the generic count over twins does (property test)") {
  test::TempDir dir;
  local::LocalHub hub(dir / "hub.db", fixed_clock());
  std::mt19937 rng(5150);
  // Values that SQLite could confuse: 1, 1.0, '1' and true; null; nested objects and arrays.
  const std::vector<nlohmann::json> values = {1, 1.0, "1", true, false, nullptr, 2.5, -0.0, 0, "2.1", "2.0",
                                              9007199254740993LL, 1e20, nlohmann::json::array({1, "x"}),
                                              nlohmann::json{{"a", 1}}};
  auto pick = [&] { return values[rng() % values.size()]; };
  for (int i = 0; i < 200; ++i) {
    nlohmann::json tags = nlohmann::json::object();
    if (rng() % 4 != 0) tags["ring"] = rng() % 2 ? "canary" : "control";
    if (rng() % 3 != 0) tags["v"] = pick();
    hub.create(sas_device("dev-" + std::to_string(i), tags));
    nlohmann::json reported = nlohmann::json::object();
    if (rng() % 5 != 0) reported["aiot"]["ota"]["version"] = rng() % 2 ? "2.1" : "2.0";
    if (rng() % 5 != 0) reported["aiot"]["ota"]["state"] = rng() % 3 ? "succeeded" : "failed";
    if (rng() % 3 != 0) reported["aiot"]["health"]["x"] = pick();
    if (!reported.empty()) hub.patch_reported("dev-" + std::to_string(i), reported);
  }
  auto sorted = [](std::vector<GroupCount> groups) {
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.keys < b.keys; });
    return groups;
  };
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"", {}},
      {"tags.ring = 'canary'", {}},
      {"", {"tags.v"}},
      {"tags.ring = 'canary'", {"properties.reported.aiot.ota.version", "properties.reported.aiot.ota.state"}},
      {"IS_DEFINED(tags.ring)", {"properties.reported.aiot.health.x", "tags.ring"}},
      {"properties.reported.aiot.ota.state = 'succeeded'", {"tags.v", "properties.reported.aiot.health.x"}},
      {"", {"status", "deviceId"}},
      {"tags.ring = 'nobody'", {"tags.v"}},
  };
  for (const auto& [where, paths] : cases) {
    CAPTURE(where);
    auto in_sql = sorted(hub.count_by(where, paths));
    auto generic = sorted(hub.Registry::count_by(where, paths));
    REQUIRE(in_sql.size() == generic.size());
    std::int64_t total = 0;
    for (std::size_t i = 0; i < in_sql.size(); ++i) {
      CHECK(in_sql[i].keys == generic[i].keys);
      CHECK(in_sql[i].count == generic[i].count);
      total += in_sql[i].count;
    }
    CHECK(total == static_cast<std::int64_t>(hub.list({.where = where}).size()));
  }
  // 1, '1' and true are three groups; 1 and 1.0 are one number.
  auto by_v = hub.count_by("", {"tags.v"});
  std::set<std::string> kinds;
  for (const auto& g : by_v)
    if (g.keys[0]) kinds.insert(std::string(g.keys[0]->type_name()) + ":" + g.keys[0]->dump());
  CHECK(kinds.count("string:\"1\"") == 1);
  CHECK(kinds.count("boolean:true") == 1);
  CHECK((kinds.count("number:1") + kinds.count("number:1.0")) == 1);
}
