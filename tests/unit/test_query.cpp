#include <doctest/doctest.h>

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/hub/query.hpp"

using aiot::hub::query::Query;
using nlohmann::json;

namespace {

std::string canonical(std::string_view text) { return Query::parse(text).to_string(); }

// The message of the usage error parse() throws, or "" when it parses.
std::string parse_error(std::string_view text) {
  try {
    Query::parse(text);
  } catch (const aiot::Error& e) {
    CHECK(e.code() == aiot::ExitCode::usage);
    return e.message();
  }
  return "";
}

// The columns of the local engine's devices table, and the twin IoT Hub shows for them.
struct Row {
  std::string id;
  std::string status = "enabled";
  std::string auth_type = "sas";
  json tags = json::object();
  json desired = json::object();
  json reported = json::object();
  std::int64_t desired_version = 1;
  std::int64_t reported_version = 1;

  json twin() const {
    json d = desired;
    d["$version"] = desired_version;
    json r = reported;
    r["$version"] = reported_version;
    return {{"deviceId", id},
            {"status", status},
            {"authenticationType", auth_type},
            {"tags", tags},
            {"properties", {{"desired", d}, {"reported", r}}},
            {"version", 3},
            {"etag", "AAAA"}};
  }
};

bool matches(std::string_view query, const json& twin) { return Query::parse(query).matches(twin); }

// Binding rules stated at Query::to_sql.
void bind_json(sqlite3_stmt* stmt, int index, const json& v) {
  int rc = SQLITE_OK;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    rc = sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  } else if (v.is_boolean()) {
    rc = sqlite3_bind_int64(stmt, index, v.get<bool>() ? 1 : 0);
  } else if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    rc = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
             ? sqlite3_bind_int64(stmt, index, static_cast<std::int64_t>(u))
             : sqlite3_bind_double(stmt, index, static_cast<double>(u));
  } else if (v.is_number_integer()) {
    rc = sqlite3_bind_int64(stmt, index, v.get<std::int64_t>());
  } else if (v.is_number_float()) {
    rc = sqlite3_bind_double(stmt, index, v.get<double>());
  } else if (v.is_null()) {
    rc = sqlite3_bind_null(stmt, index);
  } else {
    FAIL("objects and arrays are never parameters: " << v.dump());
  }
  REQUIRE(rc == SQLITE_OK);
}

class Db {
 public:
  Db() {
    REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK);
    exec(
        "CREATE TABLE devices(id TEXT PRIMARY KEY, status TEXT NOT NULL, auth_type TEXT NOT NULL, "
        "tags TEXT NOT NULL, desired TEXT NOT NULL, reported TEXT NOT NULL, desired_version INTEGER NOT NULL, "
        "reported_version INTEGER NOT NULL, etag TEXT)");
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    INFO((message != nullptr ? message : ""));
    sqlite3_free(message);
    REQUIRE(rc == SQLITE_OK);
  }

  void insert(const Row& row) {
    const std::vector<json> values = {row.id,     row.status,        row.auth_type,
                                      row.tags.dump(), row.desired.dump(), row.reported.dump(),
                                      row.desired_version, row.reported_version};
    sqlite3_stmt* stmt = prepare("INSERT INTO devices VALUES(?, ?, ?, ?, ?, ?, ?, ?, 'etag')");
    for (std::size_t i = 0; i < values.size(); ++i) {
      bind_json(stmt, static_cast<int>(i + 1), values[i]);
    }
    REQUIRE(sqlite3_step(stmt) == SQLITE_DONE);
    sqlite3_finalize(stmt);
  }

  // Sorted ids of the rows where the query's SQL is true.
  std::vector<std::string> select_ids(const Query& q) {
    std::vector<json> params;
    const std::string sql = "SELECT id FROM devices WHERE " + q.to_sql(params) + " ORDER BY id";
    INFO("sql: " << sql);
    sqlite3_stmt* stmt = prepare(sql.c_str());
    REQUIRE(sqlite3_bind_parameter_count(stmt) == static_cast<int>(params.size()));
    for (std::size_t i = 0; i < params.size(); ++i) {
      bind_json(stmt, static_cast<int>(i + 1), params[i]);
    }
    std::vector<std::string> ids;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    const std::string error = sqlite3_errmsg(db_);
    INFO("sqlite: " << error);
    CHECK(rc == SQLITE_DONE);
    sqlite3_finalize(stmt);
    return ids;
  }

 private:
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    INFO("sql: " << sql << " error: " << sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
    return stmt;
  }

  sqlite3* db_ = nullptr;
};

}  // namespace

TEST_CASE("query: empty input and SELECT without WHERE match everything") {
  for (const char* text : {"", "   ", "\n\t", "SELECT * FROM devices", "select * from DEVICES"}) {
    CAPTURE(text);
    const Query q = Query::parse(text);
    CHECK(q.empty());
    CHECK(q.matches(json::object()));
    CHECK(q.to_string().empty());
    std::vector<json> params;
    CHECK(q.to_sql(params) == "1");
    CHECK(params.empty());
  }
  CHECK(Query().empty());
  CHECK_FALSE(Query::parse("deviceId = 'a'").empty());
}

TEST_CASE("query: every construct parses and prints canonically") {
  CHECK(canonical("tags.site = 'berlin'") == "tags.site = 'berlin'");
  CHECK(canonical("SELECT * FROM devices WHERE tags.site='berlin' and not is_defined(tags.ring)") ==
        "tags.site = 'berlin' AND NOT IS_DEFINED(tags.ring)");
  CHECK(canonical("select * FROM Devices where deviceId<>'a'") == "deviceId != 'a'");
  CHECK(canonical("status != 'disabled' OR authenticationType = \"selfSigned\"") ==
        "status != 'disabled' OR authenticationType = 'selfSigned'");
  CHECK(canonical("tags.n<1 AND tags.n<=2 AND tags.n>3 AND tags.n>=4") ==
        "tags.n < 1 AND tags.n <= 2 AND tags.n > 3 AND tags.n >= 4");

  SUBCASE("paths") {
    CHECK(canonical("tags['odd key'] = 1") == "tags['odd key'] = 1");
    CHECK(canonical("tags['a'][\"b\"].c = 1") == "tags.a.b.c = 1");
    CHECK(canonical("tags.a-b.$c_1 = 1") == "tags.a-b.$c_1 = 1");
    CHECK(canonical("tags['it''s'] = 1") == "tags['it''s'] = 1");
    CHECK(canonical("tags.and.or.not = 1") == "tags.and.or.not = 1");
    CHECK(canonical("properties.desired.$version >= 2") == "properties.desired.$version >= 2");
    CHECK(canonical("properties['reported'].aiot.ota.state = 'ok'") == "properties.reported.aiot.ota.state = 'ok'");
    CHECK(canonical("IS_OBJECT(tags)") == "IS_OBJECT(tags)");
  }
  SUBCASE("literals") {
    CHECK(canonical("tags.a = 'it''s'") == "tags.a = 'it''s'");
    CHECK(canonical("tags.a = 'it\\'s'") == "tags.a = 'it''s'");
    CHECK(canonical("tags.a = \"say \"\"hi\\\"\"") == "tags.a = 'say \"hi\"'");
    CHECK(canonical("tags.a = 'C:\\dir\\\\x'") == "tags.a = 'C:\\\\dir\\\\x'");
    CHECK(canonical("tags.a = -5") == "tags.a = -5");
    CHECK(canonical("tags.a = 2.50") == "tags.a = 2.5");
    CHECK(canonical("tags.a = 3.0") == "tags.a = 3.0");
    CHECK(canonical("tags.a = -1e3") == "tags.a = -1000.0");
    CHECK(canonical("tags.a = 1.5E-7") == "tags.a = 1.5e-07");
    CHECK(canonical("tags.a = 99999999999999999999") == "tags.a = 1e+20");
    CHECK(canonical("tags.a = -9223372036854775808") == "tags.a = -9223372036854775808");
    CHECK(canonical("tags.a = TRUE OR tags.a = False OR tags.a = NULL") ==
          "tags.a = true OR tags.a = false OR tags.a = null");
  }
  SUBCASE("IN, NOT IN and functions") {
    CHECK(canonical("deviceId in ('a', \"b\")") == "deviceId IN ['a', 'b']");
    CHECK(canonical("tags.n NOT IN [1,2.5,'x',true,null]") == "tags.n NOT IN [1, 2.5, 'x', true, null]");
    CHECK(canonical("is_null(tags.a) OR Is_String(tags.a) OR IS_NUMBER(tags.a) OR is_bool(tags.a)") ==
          "IS_NULL(tags.a) OR IS_STRING(tags.a) OR IS_NUMBER(tags.a) OR IS_BOOL(tags.a)");
    CHECK(canonical("startswith(deviceId, 'dev-') AND EndsWith(tags.site,\"lin\")") ==
          "STARTSWITH(deviceId, 'dev-') AND ENDSWITH(tags.site, 'lin')");
  }
  SUBCASE("precedence: NOT > AND > OR, parentheses only where needed") {
    CHECK(canonical("tags.a = 1 OR tags.b = 2 AND tags.c = 3") == "tags.a = 1 OR tags.b = 2 AND tags.c = 3");
    CHECK(canonical("(tags.a = 1 OR tags.b = 2) AND tags.c = 3") == "(tags.a = 1 OR tags.b = 2) AND tags.c = 3");
    CHECK(canonical("((tags.a = 1) AND (tags.b = 2 AND tags.c = 3))") == "tags.a = 1 AND tags.b = 2 AND tags.c = 3");
    CHECK(canonical("tags.a = 1 OR (tags.b = 2 OR tags.c = 3)") == "tags.a = 1 OR tags.b = 2 OR tags.c = 3");
    CHECK(canonical("NOT tags.a = 1 AND tags.b = 2") == "NOT (tags.a = 1) AND tags.b = 2");
    CHECK(canonical("NOT (tags.a = 1 AND tags.b = 2)") == "NOT (tags.a = 1 AND tags.b = 2)");
    CHECK(canonical("not NOT is_defined(tags.a)") == "NOT NOT IS_DEFINED(tags.a)");
  }
}

TEST_CASE("query: errors name the line, column and what was expected") {
  CHECK(parse_error("tags.site = ") == "query:1:13: expected a value after '='");
  CHECK(parse_error("tags.site <> AND") == "query:1:14: expected a value after '<>'");
  CHECK(parse_error("foo = 1") ==
        "query:1:1: unknown property root 'foo' (use deviceId, status, authenticationType, tags.*, "
        "properties.desired.*, properties.reported.*)");
  CHECK(parse_error("tags.a = 1 AND DeviceId = 'x'") ==
        "query:1:16: unknown property root 'DeviceId' (use deviceId, status, authenticationType, tags.*, "
        "properties.desired.*, properties.reported.*)");
  CHECK(parse_error("properties.foo = 1") == "query:1:12: expected 'desired' or 'reported' after 'properties.'");
  CHECK(parse_error("properties = 1") == "query:1:12: expected 'desired' or 'reported' after 'properties.'");
  CHECK(parse_error("tags.a = 'abc") == "query:1:10: unterminated string (missing closing ')");
  CHECK(parse_error("tags.a = \"abc''") == "query:1:10: unterminated string (missing closing \")");
  CHECK(parse_error("(tags.a = 1") ==
        "query:1:12: expected ')' to close the '(' at column 1, found the end of the query");
  CHECK(parse_error("tags.a = 1)") == "query:1:11: unmatched ')'");
  CHECK(parse_error("tags.a = 1 tags.b = 2") ==
        "query:1:12: unexpected 'tags' after the end of a condition (join conditions with AND or OR)");
  CHECK(parse_error("tags.a IN []") == "query:1:12: empty IN list: give at least one value");
  CHECK(parse_error("tags.a IN ['x' 'y']") == "query:1:16: expected ',' or ']' in the IN list, found string 'y'");
  CHECK(parse_error("tags.a IN 'x'") == "query:1:11: expected '[' to start the IN list, found string 'x'");
  CHECK(parse_error("tags.a NOT 'x'") == "query:1:12: expected IN after NOT");
  CHECK(parse_error("tags.a ~ 1") == "query:1:8: unexpected character '~'");
  CHECK(parse_error("tags.a 1") ==
        "query:1:8: expected an operator (=, !=, <>, <, <=, >, >=, IN or NOT IN) after 'tags.a', found '1'");
  CHECK(parse_error("tags.a = 1 AND") == "query:1:15: expected a condition, found the end of the query");
  CHECK(parse_error("FOO(tags.a)") ==
        "query:1:1: unknown function 'FOO' (use IS_DEFINED, IS_NULL, IS_STRING, IS_NUMBER, IS_BOOL, IS_OBJECT, "
        "STARTSWITH or ENDSWITH)");
  CHECK(parse_error("STARTSWITH(tags.a, 5)") == "query:1:20: expected a string as the second argument of STARTSWITH, "
                                                 "found '5'");
  CHECK(parse_error("IS_DEFINED(tags.a, 'x')") == "query:1:18: expected ')' to close IS_DEFINED(, found ','");
  CHECK(parse_error("tags. = 1") == "query:1:7: expected a property name after '.', found '='");
  CHECK(parse_error("tags['a\"b'] = 1") ==
        "query:1:6: a property name must be non-empty and cannot contain '\"', '\\' or control characters");
  CHECK(parse_error("tags.a = 1.") == "query:1:12: expected a digit after the decimal point");
  CHECK(parse_error("tags.a = 1e999") == "query:1:10: number '1e999' is out of range");
  CHECK(parse_error("SELECT deviceId FROM devices") ==
        "query:1:8: expected '*' after SELECT (COUNT() and GROUP BY are for aggregations, not listings)");
  CHECK(parse_error("SELECT * FROM modules") == "query:1:15: expected 'devices' after FROM");
  CHECK(parse_error("SELECT * FROM devices WHERE") == "query:1:28: expected a condition after WHERE");
  CHECK(parse_error("SELECT * FROM devices tags.a = 1") ==
        "query:1:23: expected WHERE or the end of the query after 'FROM devices'");
  CHECK(parse_error("tags.a = 1\n  AND tags.b =") == "query:2:15: expected a value after '='");
  CHECK(parse_error(std::string(150, '(') + "tags.a = 1" + std::string(150, ')')) ==
        "query:1:101: query nested too deeply (more than 100 levels)");

  SUBCASE("the error carries a hint") {
    try {
      Query::parse("tags.a =");
      FAIL("no error");
    } catch (const aiot::Error& e) {
      CHECK(e.hint() == "example: tags.site = 'berlin' AND NOT IS_DEFINED(tags.ring)");
    }
  }
}

TEST_CASE("query: matches() uses IoT Hub's typed semantics") {
  Row row;
  row.id = "dev-1";
  row.status = "enabled";
  row.auth_type = "selfSigned";
  row.tags = {{"site", "berlin"},      {"n", 5},          {"x", 2.5},   {"flag", true},
              {"none", nullptr},       {"obj", {{"a", 1}}}, {"arr", {1, 2}}, {"odd key", "v"},
              {"big", 9007199254740993}};
  row.desired = {{"aiot", {{"model", {{"version", "1.2"}}}}}};
  row.reported = {{"aiot", {{"ota", {{"state", "succeeded"}}}}}};
  row.desired_version = 7;
  const json twin = row.twin();

  SUBCASE("fixed columns") {
    CHECK(matches("deviceId = 'dev-1'", twin));
    CHECK_FALSE(matches("deviceId = 'dev-2'", twin));
    CHECK(matches("status = 'enabled' AND authenticationType = 'selfSigned'", twin));
    CHECK_FALSE(matches("deviceId = 1", twin));
    CHECK_FALSE(matches("deviceId.x = 'dev-1'", twin));
    CHECK(matches("properties.desired.$version = 7 AND properties.reported.$version = 1", twin));
    CHECK(matches("properties.desired.$version > 6.5", twin));
    CHECK_FALSE(matches("properties.desired.$version = '7'", twin));
  }
  SUBCASE("strings compare bytewise") {
    CHECK(matches("tags.site = 'berlin'", twin));
    CHECK_FALSE(matches("tags.site = 'Berlin'", twin));
    CHECK(matches("tags.site != 'Berlin'", twin));
    CHECK(matches("tags.site > 'Berlin'", twin));  // 'b' (0x62) > 'B' (0x42)
    CHECK(matches("tags.site < 'berlin2' AND tags.site <= 'berlin' AND tags.site >= 'berlin'", twin));
    CHECK_FALSE(matches("tags.site < 'berlin'", twin));
    CHECK(matches("tags['odd key'] = 'v'", twin));
  }
  SUBCASE("numbers compare numerically across integers and doubles") {
    CHECK(matches("tags.n = 5 AND tags.n = 5.0 AND tags.n < 5.5 AND tags.n > 4.999", twin));
    CHECK(matches("tags.x = 2.5 AND tags.x > 2 AND tags.x < 3 AND tags.x != 2", twin));
    CHECK(matches("tags.n >= -1e3", twin));
    CHECK_FALSE(matches("tags.n = '5'", twin));
    // 2^53 + 1 is not a double: an exact comparison still tells it from 2^53.
    CHECK(matches("tags.big > 9007199254740992.0", twin));
    CHECK(matches("tags.big = 9007199254740993", twin));
  }
  SUBCASE("booleans support = and != only") {
    CHECK(matches("tags.flag = true", twin));
    CHECK(matches("tags.flag != false", twin));
    CHECK_FALSE(matches("tags.flag = false", twin));
    CHECK_FALSE(matches("tags.flag > false", twin));
    CHECK_FALSE(matches("tags.flag >= true", twin));
    CHECK_FALSE(matches("tags.flag = 1", twin));
    CHECK_FALSE(matches("tags.flag = 'true'", twin));
  }
  SUBCASE("null") {
    CHECK(matches("tags.none = null", twin));
    CHECK_FALSE(matches("tags.none != null", twin));
    CHECK_FALSE(matches("tags.none <= null", twin));
    CHECK_FALSE(matches("tags.missing = null", twin));
    CHECK_FALSE(matches("tags.site = null", twin));
    CHECK_FALSE(matches("tags.site != null", twin));  // different types never compare
    CHECK_FALSE(matches("tags.none = 'null'", twin));
  }
  SUBCASE("undefined properties and type mismatches are false; NOT negates") {
    CHECK_FALSE(matches("tags.missing = 1", twin));
    CHECK_FALSE(matches("tags.missing != 1", twin));
    CHECK(matches("NOT (tags.missing = 1)", twin));
    CHECK(matches("NOT tags.missing != 1", twin));
    CHECK_FALSE(matches("tags.site != 5", twin));
    CHECK_FALSE(matches("tags.site.x = 'berlin'", twin));
    CHECK_FALSE(matches("tags.site < 5", twin));
  }
  SUBCASE("objects and arrays never compare") {
    CHECK_FALSE(matches("tags.obj = 1", twin));
    CHECK_FALSE(matches("tags.obj != 1", twin));
    CHECK_FALSE(matches("tags.arr = 1", twin));
    CHECK_FALSE(matches("tags.obj IN [1]", twin));
    CHECK_FALSE(matches("tags.obj NOT IN [1]", twin));
    CHECK(matches("tags.obj.a = 1", twin));
  }
  SUBCASE("IN and NOT IN") {
    CHECK(matches("tags.site IN ['paris', 'berlin']", twin));
    CHECK_FALSE(matches("tags.site IN ['paris', 5]", twin));
    CHECK(matches("tags.n IN ['5', 5.0]", twin));
    CHECK(matches("tags.none IN [null]", twin));
    CHECK(matches("tags.flag IN [false, true]", twin));
    CHECK(matches("tags.site NOT IN ['paris', 5]", twin));
    CHECK_FALSE(matches("tags.site NOT IN ['berlin']", twin));
    CHECK_FALSE(matches("tags.missing NOT IN ['berlin']", twin));
    CHECK(matches("tags.none NOT IN ['x']", twin));
    CHECK(matches("deviceId IN ['dev-0', 'dev-1']", twin));
  }
  SUBCASE("functions") {
    CHECK(matches("IS_DEFINED(tags.none) AND IS_DEFINED(tags.obj) AND IS_DEFINED(deviceId)", twin));
    CHECK_FALSE(matches("IS_DEFINED(tags.missing)", twin));
    CHECK(matches("NOT IS_DEFINED(tags.missing)", twin));
    CHECK(matches("IS_NULL(tags.none)", twin));
    CHECK_FALSE(matches("IS_NULL(tags.missing)", twin));
    CHECK(matches("IS_STRING(tags.site) AND IS_STRING(status)", twin));
    CHECK(matches("IS_NUMBER(tags.n) AND IS_NUMBER(tags.x) AND IS_NUMBER(properties.desired.$version)", twin));
    CHECK_FALSE(matches("IS_NUMBER(tags.flag)", twin));
    CHECK(matches("IS_BOOL(tags.flag)", twin));
    CHECK(matches("IS_OBJECT(tags.obj) AND IS_OBJECT(tags) AND IS_OBJECT(properties.desired)", twin));
    CHECK_FALSE(matches("IS_OBJECT(tags.arr)", twin));
    CHECK(matches("STARTSWITH(tags.site, 'ber') AND STARTSWITH(tags.site, '') AND STARTSWITH(deviceId, 'dev-')",
                  twin));
    CHECK_FALSE(matches("STARTSWITH(tags.site, 'Ber')", twin));
    CHECK_FALSE(matches("STARTSWITH(tags.site, 'berlin2')", twin));
    CHECK_FALSE(matches("STARTSWITH(tags.n, '5')", twin));
    CHECK(matches("ENDSWITH(tags.site, 'lin') AND ENDSWITH(tags.site, 'berlin')", twin));
    CHECK_FALSE(matches("ENDSWITH(tags.site, 'xberlin')", twin));
  }
  SUBCASE("nested paths in desired and reported") {
    CHECK(matches("properties.desired.aiot.model.version = '1.2'", twin));
    CHECK(matches("properties.reported.aiot.ota.state = 'succeeded'", twin));
    CHECK_FALSE(matches("properties.reported.aiot.model.version = '1.2'", twin));
  }
  SUBCASE("a twin without some roots") {
    CHECK_FALSE(matches("tags.site = 'berlin'", json{{"deviceId", "d"}}));
    CHECK(matches("NOT IS_DEFINED(properties.desired.x)", json{{"deviceId", "d"}}));
    CHECK_FALSE(matches("deviceId = 'd'", json::array()));
  }
}

TEST_CASE("query: to_sql uses placeholders for literals and JSON paths") {
  std::vector<json> params;
  CHECK(Query::parse("tags.site = 'berlin'").to_sql(params) ==
        "COALESCE(json_type(tags, ?) IN ('text') AND json_extract(tags, ?) = ?, 0)");
  CHECK(params == std::vector<json>{"$.\"site\"", "$.\"site\"", "berlin"});

  params.clear();
  CHECK(Query::parse("deviceId = 'x'' OR 1=1 --' AND properties.reported.$version > 2").to_sql(params) ==
        "((id = ?) AND (reported_version > ?))");
  CHECK(params == std::vector<json>{"x' OR 1=1 --", 2});

  params.clear();
  CHECK(Query::parse("deviceId IN ['a', 5, 'b']").to_sql(params) == "(id IN (?, ?))");
  CHECK(params == std::vector<json>{"a", "b"});

  params.clear();
  CHECK(Query::parse("status < 3 OR tags.flag > true").to_sql(params) == "(0 OR 0)");
  CHECK(params.empty());
}

TEST_CASE("query: to_sql selects exactly the devices matches() accepts (property test)") {
  std::mt19937 rng(20240611);
  const auto pick = [&](const auto& pool) { return pool[rng() % pool.size()]; };
  const auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  const std::vector<std::string> strings = {"berlin", "Berlin", "ber",     "paris", "",     "a'b",
                                            "é-lyon", "1",      "true",    "null",  "berlin2", "x\\y"};
  const std::vector<json> numbers = {-3, 0, 1, 2, 5, 100, 9007199254740993LL, std::numeric_limits<std::int64_t>::min(),
                                     0.5, 2.0, -1.25, 1.1, 5.0, 100.0, 9007199254740992.0, 1e20, 0.1, -0.0};

  const std::function<json(int)> random_value = [&](int depth) -> json {
    const int kind = static_cast<int>(rng() % 10);
    if (kind <= 2) {
      return pick(strings);
    }
    if (kind <= 5) {
      return pick(numbers);
    }
    if (kind == 6) {
      return chance(50);
    }
    if (kind == 7) {
      return nullptr;
    }
    if (kind == 8 && depth < 2) {
      json object = json::object();
      for (const char* key : {"a", "b", "site"}) {
        if (chance(60)) {
          object[key] = random_value(depth + 1);
        }
      }
      return object;
    }
    return json::array({1, "x"});
  };

  const std::vector<std::string> tag_keys = {"site", "ring", "n", "x", "flag", "nested", "odd key", "a-b", "$v"};
  const std::vector<std::string> versions = {"1.0", "1.2", "2.0"};
  std::vector<Row> rows;
  for (int i = 0; i < 50; ++i) {
    Row row;
    row.id = (i < 10 ? "dev-0" : "dev-") + std::to_string(i);
    row.status = chance(70) ? "enabled" : "disabled";
    row.auth_type = pick(std::vector<std::string>{"sas", "selfSigned", "certificateAuthority", "none"});
    for (const auto& key : tag_keys) {
      if (chance(60)) {
        row.tags[key] = random_value(0);
      }
    }
    if (chance(70)) {
      row.desired["aiot"]["model"]["version"] = pick(versions);
    }
    if (chance(50)) {
      row.desired["n"] = random_value(1);
    }
    if (chance(70)) {
      row.reported["aiot"]["ota"]["state"] = pick(std::vector<std::string>{"downloading", "succeeded", "failed"});
    }
    if (chance(50)) {
      row.reported["n"] = random_value(1);
    }
    row.desired_version = static_cast<std::int64_t>(rng() % 5);
    row.reported_version = static_cast<std::int64_t>(rng() % 5);
    rows.push_back(std::move(row));
  }
  Db db;
  std::vector<json> twins;
  for (const auto& row : rows) {
    db.insert(row);
    twins.push_back(row.twin());
  }

  const std::vector<std::string> paths = {
      "deviceId",       "status",        "authenticationType", "tags",           "tags.site",
      "tags.ring",      "tags.n",        "tags.x",             "tags.flag",      "tags.nested",
      "tags.nested.a",  "tags.nested.b.site", "tags['odd key']", "tags.a-b",    "tags.$v",
      "tags.missing",   "tags.site.x",   "properties.desired", "properties.desired.$version",
      "properties.reported.$version",    "properties.desired.aiot.model.version", "properties.desired.n",
      "properties.reported.aiot.ota.state", "properties.reported.n", "deviceId.x",
      "properties.desired.$version.x"};
  const std::vector<std::string> literals = {
      "'berlin'", "\"Berlin\"", "'ber'", "'paris'", "''", "'a''b'", "'a\\'b'", "'é-lyon'", "'1'", "'null'",
      "'berlin2'", "'x\\\\y'", "'dev-07'", "'dev-33'", "'enabled'", "'disabled'", "'sas'", "'selfSigned'", "'1.2'",
      "'succeeded'", "-3", "0", "1", "2", "5", "100", "9007199254740993", "9007199254740992", "9007199254740992.0", "-9223372036854775808",
      "0.5", "2.0", "-1.25", "1.1", "5.0", "1e20", "0.1", "-0.0", "3", "true", "false", "TRUE", "null", "Null"};
  const std::vector<std::string> ops = {"=", "!=", "<>", "<", "<=", ">", ">="};
  const std::vector<std::string> functions = {"IS_DEFINED", "is_null", "IS_STRING", "Is_Number", "IS_BOOL",
                                              "IS_OBJECT"};
  const std::vector<std::string> affixes = {"''",    "'ber'", "'Ber'", "'berlin'", "'berlinX'", "'b'", "'é'",
                                            "'1.'",  "'dev-0'", "'en'", "'a'''",  "'lin'",     "'in'", "'xberlin'",
                                            "'2'",   "'on'",  "'ed'"};
  const auto keyword = [&](const std::string& upper) {
    if (!chance(30)) {
      return upper;
    }
    std::string lower;
    for (char c : upper) {
      lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return lower;
  };
  const auto list = [&] {
    std::string out = chance(80) ? "[" : "(";
    const bool bracket = out == "[";
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      out += (i == 0 ? "" : ", ") + pick(literals);
    }
    return out + (bracket ? "]" : ")");
  };
  const std::function<std::string(int)> condition = [&](int depth) -> std::string {
    const int r = static_cast<int>(rng() % 10);
    if (depth < 3 && r < 3) {
      const std::string glue = " " + keyword(r == 0 ? "OR" : "AND") + " ";
      std::string out = condition(depth + 1) + glue + condition(depth + 1);
      if (chance(30)) {
        out += glue + condition(depth + 1);
      }
      return chance(50) ? "(" + out + ")" : out;
    }
    if (depth < 3 && r == 3) {
      return keyword("NOT") + " " + (chance(50) ? "(" + condition(depth + 1) + ")" : condition(depth + 1));
    }
    const int leaf = static_cast<int>(rng() % 10);
    if (leaf <= 4) {
      return pick(paths) + " " + pick(ops) + " " + pick(literals);
    }
    if (leaf == 5) {
      return pick(paths) + " " + keyword("IN") + " " + list();
    }
    if (leaf == 6) {
      return pick(paths) + " " + keyword("NOT") + " " + keyword("IN") + " " + list();
    }
    if (leaf == 7) {
      return keyword(chance(50) ? "STARTSWITH" : "ENDSWITH") + "(" + pick(paths) + ", " + pick(affixes) + ")";
    }
    return pick(functions) + "(" + pick(paths) + ")";
  };

  int selective = 0;  // queries that match some but not all devices: the test must discriminate
  const int k_queries = 2000;
  for (int i = 0; i < k_queries; ++i) {
    const std::string text = chance(10) ? "SELECT * FROM devices WHERE " + condition(0) : condition(0);
    CAPTURE(text);
    const Query q = Query::parse(text);
    std::vector<std::string> expected;
    for (const auto& twin : twins) {
      if (q.matches(twin)) {
        expected.push_back(twin["deviceId"].get<std::string>());
      }
    }
    std::sort(expected.begin(), expected.end());
    CHECK(db.select_ids(q) == expected);
    if (!expected.empty() && expected.size() < twins.size()) {
      ++selective;
    }

    const std::string printed = q.to_string();
    CAPTURE(printed);
    const Query again = Query::parse(printed);
    CHECK(again.to_string() == printed);
    std::size_t same = 0;
    for (const auto& twin : twins) {
      same += again.matches(twin) == q.matches(twin) ? 1 : 0;
    }
    CHECK(same == twins.size());
  }
  MESSAGE("selective queries: " << selective << " of " << k_queries);
  CHECK(selective > k_queries / 4);
}

TEST_CASE("query: aggregations parse, print canonically and read back the same") {
  using aiot::hub::query::parse_aggregation;
  auto a = parse_aggregation(
      "select properties.reported.aiot.ota.state as state, COUNT() AS n from devices "
      "where tags.ring = 'canary' group by properties.reported.aiot.ota.state");
  REQUIRE(a.has_value());
  CHECK(a->where == "tags.ring = 'canary'");
  CHECK(a->group_by == std::vector<std::string>{"properties.reported.aiot.ota.state"});
  CHECK(a->aliases == std::vector<std::string>{"state"});
  CHECK(a->count_alias == "n");
  CHECK(a->to_string() ==
        "SELECT properties.reported.aiot.ota.state AS state, COUNT() AS n FROM devices WHERE tags.ring = 'canary' "
        "GROUP BY properties.reported.aiot.ota.state");
  auto again = parse_aggregation(a->to_string());
  REQUIRE(again.has_value());
  CHECK(again->to_string() == a->to_string());

  SUBCASE("aliases default to the last name and 'count'; they follow GROUP BY order") {
    auto b = parse_aggregation("SELECT tags['odd key'], COUNT(), tags.site FROM devices GROUP BY tags.site, tags['odd key']");
    REQUIRE(b.has_value());
    CHECK(b->where.empty());
    CHECK(b->group_by == std::vector<std::string>{"tags.site", "tags['odd key']"});
    CHECK(b->aliases == std::vector<std::string>{"site", "odd key"});
    CHECK(b->count_alias == "count");
  }
  SUBCASE("a total needs no GROUP BY; a grouped path need not be selected") {
    auto c = parse_aggregation("SELECT COUNT() AS total FROM devices WHERE status = 'enabled'");
    REQUIRE(c.has_value());
    CHECK(c->group_by.empty());
    CHECK(c->to_string() == "SELECT COUNT() AS total FROM devices WHERE status = 'enabled'");
    auto d = parse_aggregation("SELECT COUNT() AS n FROM devices GROUP BY deviceId");
    REQUIRE(d.has_value());
    CHECK(d->aliases == std::vector<std::string>{"k0"});
  }
  SUBCASE("listings are not aggregations") {
    CHECK_FALSE(parse_aggregation("SELECT * FROM devices WHERE tags.a = 1").has_value());
    CHECK_FALSE(parse_aggregation("tags.a = 1").has_value());
    CHECK_FALSE(parse_aggregation("").has_value());
  }
  SUBCASE("malformed aggregations name the column") {
    auto error_of = [](const std::string& text) {
      try {
        (void)parse_aggregation(text);
      } catch (const aiot::Error& e) {
        return e.message();
      }
      return std::string("no error");
    };
    CHECK(error_of("SELECT tags.site, COUNT() FROM devices") ==
          "query:1:8: tags.site is selected but not grouped by (add it to GROUP BY)");
    CHECK(error_of("SELECT COUNT(), COUNT() FROM devices") == "query:1:17: COUNT() appears twice");
    CHECK(error_of("SELECT tags.site FROM devices GROUP BY tags.site") ==
          "query:1:1: an aggregation selects COUNT() (only SELECT * lists devices)");
    CHECK(error_of("SELECT COUNT(tags.a) FROM devices") == "query:1:14: COUNT() takes no argument");
    CHECK(error_of("SELECT COUNT() FROM devices GROUP tags.a") == "query:1:35: expected BY after GROUP");
    CHECK(error_of("SELECT COUNT() FROM devices GROUP BY tags.a, tags.a") == "query:1:46: tags.a is grouped by twice");
    CHECK(error_of("SELECT COUNT() FROM devices WHERE GROUP BY tags.a").rfind("query:1:35: unknown property root 'GROUP'", 0) == 0);
    CHECK(error_of("SELECT COUNT() AS FROM devices") == "query:1:19: expected a name after AS, found 'FROM'");
    // A listing still refuses aggregations.
    CHECK_THROWS_AS(aiot::hub::query::Query::parse("SELECT COUNT() FROM devices"), aiot::Error);
  }
}

TEST_CASE("query: PropertyPath reads twins as conditions do") {
  using aiot::hub::query::PropertyPath;
  json twin = {{"deviceId", "d1"},
               {"tags", {{"site", "berlin"}, {"odd key", 3}}},
               {"properties", {{"reported", {{"aiot", {{"ota", {{"version", "2.1"}}}}}}}, {"desired", json::object()}}}};
  CHECK(*PropertyPath::parse("properties.reported.aiot.ota.version").find(twin) == "2.1");
  CHECK(*PropertyPath::parse("tags['odd key']").find(twin) == 3);
  CHECK(*PropertyPath::parse("deviceId").find(twin) == "d1");
  CHECK(PropertyPath::parse("tags.nope.x").find(twin) == nullptr);
  CHECK(PropertyPath::parse("properties.reported.aiot['ota'].version").to_string() == "properties.reported.aiot.ota.version");
  CHECK(PropertyPath::parse("properties.reported.aiot.ota.version").last_name() == "version");
  CHECK(PropertyPath::parse("tags['a.b']").last_name() == "a.b");  // a dot inside a quoted name
  CHECK(PropertyPath::parse("deviceId").last_name() == "deviceId");
  CHECK_THROWS_AS(PropertyPath::parse("tags.a = 1"), aiot::Error);
  CHECK_THROWS_AS(PropertyPath::parse("nope.a"), aiot::Error);
}
