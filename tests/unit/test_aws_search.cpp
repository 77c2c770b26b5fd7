// The emulator's Fleet Indexing: the query language over thing documents, and how a local device's
// twin becomes the index's shadow string and the "aiot-health" named shadow.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "aiot/emulator/aws_search.hpp"

using namespace aiot::emulator::aws;
using nlohmann::json;

namespace {

json thing(const std::string& name, std::vector<std::string> groups, json attributes, json shadow = nullptr) {
  json t = {{"thingName", name}, {"thingId", "id-" + name}, {"thingGroupNames", groups}, {"attributes", attributes}};
  if (!shadow.is_null()) {
    t["shadow"] = shadow;
  }
  return t;
}

bool match(const std::string& query, const json& t) { return ThingQuery::parse(query).matches(t); }

}  // namespace

TEST_CASE("AWS search: terms, groups, attributes with dots, wildcards, case-insensitive values") {
  json a = thing("dev-00001", {"wave-1", "fleet"}, {{"site", "Lyon"}, {"hw.rev", "b2"}, {"slots", "12"}});
  CHECK(match("thingGroupNames:wave-1", a));
  CHECK_FALSE(match("thingGroupNames:wave-2", a));
  CHECK(match("thingName:dev-00001", a));
  CHECK(match("thingName:DEV-00001", a));  // values compare case-insensitively
  CHECK(match("thingName:dev-*", a));
  CHECK(match("thingName:dev-0000?", a));
  CHECK_FALSE(match("thingName:dev-1*", a));
  CHECK(match("attributes.site:lyon", a));
  CHECK(match("attributes.hw.rev:b2", a));  // the attribute's whole name, dot included
  CHECK(match("attributes.site:*", a));
  CHECK_FALSE(match("attributes.region:*", a));
  CHECK(match("attributes.site:\"Lyon\"", a));
  CHECK(match("*", a));
  CHECK(match("lyon", a));  // no field: any field
  CHECK(match("attributes.slots>10", a));  // numbers compare as numbers
  CHECK_FALSE(match("attributes.slots<=9", a));
  CHECK(match("attributes.slots:[10 TO 12]", a));
  CHECK_FALSE(match("attributes.slots:[13 TO *]", a));
}

TEST_CASE("AWS search: AND is the default, OR, NOT, '-', grouping and field grouping") {
  json a = thing("dev-1", {"wave-1"}, {{"site", "lyon"}});
  json b = thing("dev-2", {"wave-2"}, {{"site", "oslo"}});
  CHECK(match("thingGroupNames:wave-1 attributes.site:lyon", a));
  CHECK_FALSE(match("thingGroupNames:wave-1 attributes.site:oslo", a));
  CHECK(match("thingGroupNames:wave-1 AND attributes.site:lyon", a));
  CHECK(match("thingGroupNames:wave-1 OR thingGroupNames:wave-2", b));
  CHECK(match("NOT thingGroupNames:wave-1", b));
  CHECK_FALSE(match("NOT thingGroupNames:wave-2", b));
  CHECK(match("thingName:dev-* -attributes.site:lyon", b));
  CHECK_FALSE(match("thingName:dev-* -attributes.site:lyon", a));
  CHECK(match("(attributes.site:lyon OR attributes.site:oslo) AND thingName:dev-2", b));
  CHECK(match("thingName:(dev-* AND -dev-1)", b));
  CHECK_FALSE(match("thingName:(dev-* AND -dev-1)", a));
}

TEST_CASE("AWS search: shadow paths, named shadows") {
  json shadow = index_shadow({{"aiot-health", index_shadow_entry(nullptr, {{"crashes_1h", 3}}, 4)},
                              {"aiot", index_shadow_entry({{"aiot", {{"model", {{"version", "2.0"}}}}}},
                                                          {{"aiot", {{"ota", {{"state", "installing"}}}}}}, 4)}});
  json a = thing("dev-1", {"wave-1"}, json::object(), shadow);
  CHECK(match("shadow.name.aiot-health.reported.crashes_1h>2", a));
  CHECK_FALSE(match("shadow.name.aiot-health.reported.crashes_1h:[0 TO 2]", a));
  CHECK(match("shadow.name.aiot.desired.aiot.model.version:2.0", a));
  CHECK(match("shadow.name.aiot.reported.aiot.ota.state:installing", a));
  CHECK(match("shadow.name.aiot.hasDelta:true", a));
}

TEST_CASE("AWS search: bad queries are InvalidQuery with a reason") {
  CHECK_THROWS_AS(ThingQuery::parse(""), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("thingName:(a OR b"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("thingName:a)"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("thingName:"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse(":x"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("thingName:a AND"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("OR thingName:a"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("thingName:\"open"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("attributes.x:a@b"), InvalidQuery);
  CHECK_THROWS_AS(ThingQuery::parse("thingName:*a thingGroupNames:*b"), InvalidQuery);  // one leading wildcard
  CHECK_THROWS_AS(ThingQuery::parse("a b c d e f g h i j k l m"), InvalidQuery);  // 13 terms
  try {
    ThingQuery::parse("thingName:(a OR b");
    FAIL("no error");
  } catch (const InvalidQuery& e) {
    CHECK(std::string(e.what()).find("not closed") != std::string::npos);
  }
  CHECK_NOTHROW(ThingQuery::parse("a b c d e f g h i j k l"));  // 12 terms
}

TEST_CASE("AWS search: a group term confines the candidates; OR of groups unions them") {
  CHECK(ThingQuery::parse("thingGroupNames:Wave-1").candidate_groups() == std::vector<std::string>{"wave-1"});
  CHECK(ThingQuery::parse("attributes.site:lyon AND thingGroupNames:w1").candidate_groups() ==
        std::vector<std::string>{"w1"});
  CHECK(ThingQuery::parse("thingGroupNames:w2 OR thingGroupNames:w1").candidate_groups() ==
        std::vector<std::string>{"w1", "w2"});
  CHECK(ThingQuery::parse("thingGroupNames:w* ").candidate_groups().empty());
  CHECK(ThingQuery::parse("thingGroupNames:w1 OR attributes.a:b").candidate_groups().empty());
  CHECK(ThingQuery::parse("NOT thingGroupNames:w1").candidate_groups().empty());
}

TEST_CASE("AWS search: globs") {
  CHECK(glob_match("a*c", "abbbc"));
  CHECK(glob_match("A?C", "abc"));
  CHECK(glob_match("*", ""));
  CHECK_FALSE(glob_match("a*d", "abc"));
  CHECK(glob_match("*b*", "abc"));
}

TEST_CASE("AWS search: the index's shadow document and the aiot-health shadow of a device") {
  CHECK(index_shadow({}).is_null());
  json entry = index_shadow_entry({{"a", 1}}, {{"a", 1}}, 7);
  CHECK(entry == json{{"desired", {{"a", 1}}}, {"reported", {{"a", 1}}}, {"hasDelta", false}, {"version", 7}});
  CHECK(index_shadow_entry({{"a", 2}}, {{"a", 1}}, 1)["hasDelta"] == true);
  json shadow = index_shadow({{"", index_shadow_entry(nullptr, {{"fw", "1"}}, 2)}, {"aiot-health", entry}});
  CHECK(shadow["reported"] == json{{"fw", "1"}});  // the classic shadow at the top
  CHECK(shadow["name"]["aiot-health"]["version"] == 7);

  json reported = {{"aiot", {{"ota", {{"state", "succeeded"}}}, {"health", {{"crashes_1h", 0}, {"ts", "t"}}}}}};
  CHECK(health_shadow_state(reported) == json{{"reported", {{"crashes_1h", 0}, {"ts", "t"}}}});
  CHECK(health_shadow_state({{"aiot", {{"ota", json::object()}}}}).is_null());
  CHECK(health_reported_patch({{"crashes_1h", 1}}) == json{{"aiot", {{"health", {{"crashes_1h", 1}}}}}});
  CHECK(health_reported_patch(nullptr) == json{{"aiot", {{"health", nullptr}}}});
}
