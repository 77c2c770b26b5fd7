// The AWS provider (Registry over things + the "aiot" shadow) and the tag <-> attribute mapping,
// over a scripted transport.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "aiot/config/settings.hpp"
#include "aiot/core/env.hpp"
#include "aiot/hub/aws/aws_mapping.hpp"
#include "aiot/hub/aws/aws_provider.hpp"
#include "support/fake_transport.hpp"

using namespace aiot;
using namespace aiot::hub;
using namespace aiot::hub::aws;
using nlohmann::json;

namespace {

struct Rig {
  std::shared_ptr<test::FakeTransport> fake = std::make_shared<test::FakeTransport>();
  std::chrono::steady_clock::time_point now{};
  std::unique_ptr<AwsHub> hub;

  explicit Rig(std::string thing_type = {}) {
    Config c;
    c.credentials = {"AKID", "SECRET", ""};
    c.region = "us-east-1";
    c.control_endpoint = "http://127.0.0.1:9";
    c.data_endpoint = "http://127.0.0.1:9";
    c.client.clock = [this] { return now; };
    c.client.sleep = [this](std::chrono::milliseconds d) { now += d; };
    ProviderOptions o;
    o.thing_type = std::move(thing_type);
    o.describe = "aws:test";
    hub = std::make_unique<AwsHub>(std::make_unique<AwsClient>(fake, std::move(c)), o);
  }
};

const char* k_thing_json =
    R"({"thingName":"cam-1","thingArn":"arn:aws:iot:us-east-1:123456789012:thing/cam-1","thingId":"id-1",)"
    R"("attributes":{"site.city":"berlin","ring":"2"},"version":4})";

}  // namespace

TEST_CASE("AWS mapping: tags flatten to attributes and back") {
  json tags = {{"site", {{"city", "berlin"}, {"floor", 3}}}, {"ring", "canary"}, {"beta", true}};
  auto attrs = tags_to_attributes(tags);
  CHECK(attrs == std::map<std::string, std::string>{
                     {"site.city", "berlin"}, {"site.floor", "3"}, {"ring", "canary"}, {"beta", "true"}});
  CHECK(attributes_to_tags(attrs) ==
        json{{"site", {{"city", "berlin"}, {"floor", "3"}}}, {"ring", "canary"}, {"beta", "true"}});
  CHECK(canonical_tags(tags)["site"]["floor"] == "3");
  // A value and a prefix of the same name: the value wins, the other stays flat.
  CHECK(attributes_to_tags({{"a", "x"}, {"a.b", "y"}}) == json{{"a", "x"}, {"a.b", "y"}});
  CHECK(attributes_to_tags({{"aiot:disabled", "true"}, {"k", "v"}}) == json{{"k", "v"}});

  CHECK_THROWS_WITH_AS(tags_to_attributes(json{{"site", "plant 7"}}), doctest::Contains("a space"), Error);
  CHECK_THROWS_WITH_AS(tags_to_attributes(json{{"list", {1, 2}}}), doctest::Contains("an array"), Error);
  CHECK_THROWS_WITH_AS(tags_to_attributes(json{{"e", ""}}), doctest::Contains("empty"), Error);
  CHECK_THROWS_WITH_AS(tags_to_attributes(json{{"aiot:x", "1"}}), doctest::Contains("reserved"), Error);
  CHECK_THROWS_WITH_AS(tags_to_attributes(json{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}, 3),
                       doctest::Contains("allows 3"), Error);

  Device disabled;
  disabled.enabled = false;
  disabled.tags = {{"a", "1"}, {"b", "2"}};
  CHECK(device_attributes(disabled, 3).at("aiot:disabled") == "true");
  disabled.tags["c"] = "3";
  CHECK_THROWS_AS(device_attributes(disabled, 3), Error);  // the reserved attribute takes a slot

  CHECK(invalid_thing_name("edge:cam_01-a") == std::nullopt);
  CHECK(invalid_thing_name("bad name!").has_value());
  CHECK(invalid_thing_name("").has_value());
  CHECK(parse_twin_etag("4.7") == std::pair<std::int64_t, std::int64_t>{4, 7});
  CHECK_FALSE(parse_twin_etag("4"));
  CHECK_FALSE(parse_twin_etag("x.7"));
}

TEST_CASE("AWS provider: create = CreateThing (+ desired into the aiot shadow); an existing id is a conflict") {
  Rig rig;
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(404, R"({"message":"not found"})",
                                                      {{"x-amzn-ErrorType", "ResourceNotFoundException"}});
  rig.fake->expect("POST", R"(.*/things/cam-1)")
      .reply(200, R"({"thingName":"cam-1","thingArn":"arn:aws:iot:us-east-1:1:thing/cam-1","thingId":"id-1"})")
      .inspect([](const http::Request& r) {
        CHECK(json::parse(r.body)["attributePayload"]["attributes"] == json{{"site.city", "berlin"}});
      });
  rig.fake->expect("POST", R"(.*/things/cam-1/shadow\?name=aiot)")
      .reply(200, R"({"state":{"desired":{"fw":"1.5"}},"version":1})")
      .inspect([](const http::Request& r) {
        CHECK(json::parse(r.body) == json{{"state", {{"desired", {{"fw", "1.5"}}}}}});
      });
  Device spec;
  spec.id = "cam-1";
  spec.tags = {{"site", {{"city", "berlin"}}}};
  spec.desired = {{"fw", "1.5"}};
  auto d = rig.hub->create(spec);
  CHECK(d.id == "cam-1");
  CHECK(d.auth.type == AuthType::none);  // sas has no AWS equivalent
  CHECK(d.tags == spec.tags);
  CHECK(d.twin_etag == "1.1");
  CHECK(d.generation_id == "id-1");

  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  CHECK_THROWS_AS(rig.hub->create(spec), Error);
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: import creates concurrently, compares 409s and fails bad rows alone") {
  Rig rig;
  std::vector<Device> rows(4);
  rows[0].id = "new-1";
  rows[0].tags = {{"ring", "2"}};
  rows[1].id = "cam-1";  // exists with the same content (as AWS stores it)
  rows[1].tags = {{"site", {{"city", "berlin"}}}, {"ring", 2}};
  rows[2].id = "cam-2";  // exists with other content
  rows[2].tags = {{"ring", "9"}};
  rows[3].id = "bad name";
  rig.fake->expect("POST", R"(.*/things/new-1)").reply(200, R"({"thingName":"new-1","thingId":"n1"})");
  rig.fake->expect("POST", R"(.*/things/cam-1)").reply(409, R"({"message":"exists"})",
                                                       {{"x-amzn-ErrorType", "ResourceAlreadyExistsException"}});
  rig.fake->expect("POST", R"(.*/things/cam-2)").reply(409, R"({"message":"exists"})",
                                                       {{"x-amzn-ErrorType", "ResourceAlreadyExistsException"}});
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  rig.fake->expect("GET", R"(.*/things/cam-2)").reply(200, R"({"thingName":"cam-2","attributes":{"ring":"1"},"version":2})");

  SUBCASE("create mode") {
    auto results = rig.hub->import(rows, ImportMode::create);
    REQUIRE(results.size() == 4);
    CHECK(results[0].outcome == RowOutcome::created);
    CHECK(results[1].outcome == RowOutcome::unchanged);
    CHECK(results[2].outcome == RowOutcome::failed);
    CHECK(results[2].error->reason() == Reason::conflict);
    CHECK(results[3].outcome == RowOutcome::failed);
    CHECK(results[3].error->code() == ExitCode::usage);
  }
  SUBCASE("upsert mode replaces the attributes") {
    rig.fake->expect("PATCH", R"(.*/things/cam-2)").inspect([](const http::Request& r) {
      auto body = json::parse(r.body);
      CHECK(body["attributePayload"] == json{{"attributes", {{"ring", "9"}}}, {"merge", false}});
    });
    auto results = rig.hub->import(rows, ImportMode::upsert);
    CHECK(results[2].outcome == RowOutcome::updated);
    CHECK(results[2].device->etag == "3");
  }
  CHECK(rig.fake->send_all_calls() >= 2);
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: get reads the thing, the aiot shadow and the certificates") {
  Rig rig;
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  rig.fake->expect("GET", R"(.*/things/cam-1/shadow\?name=aiot)")
      .reply(200, R"({"state":{"desired":{"fw":"2"},"reported":{"aiot":{"ota":{"state":"succeeded"}}}},)"
                  R"("metadata":{"desired":{"fw":{"timestamp":1795660000}},"reported":{"aiot":{"ota":{"state":{"timestamp":1795660100}}}}},"version":6})");
  rig.fake->expect("GET", R"(.*/things/cam-1/principals.*)")
      .reply(200, R"({"principals":["arn:aws:iot:us-east-1:1:cert/abcdef0123"]})");
  auto d = rig.hub->get("cam-1");
  CHECK(d.tags == json{{"site", {{"city", "berlin"}}}, {"ring", "2"}});
  CHECK(d.desired == json{{"fw", "2"}});
  CHECK(d.reported["aiot"]["ota"]["state"] == "succeeded");
  CHECK(d.twin_etag == "4.6");
  CHECK(d.version == 10);
  CHECK(d.auth.type == AuthType::certificate_authority);
  CHECK(d.auth.primary.sha256 == "ABCDEF0123");
  CHECK(format_rfc3339(d.updated) == format_rfc3339(TimePoint(std::chrono::seconds(1795660100))));

  rig.fake->expect("GET", R"(.*/things/nope)").reply(404, "{}", {{"x-amzn-ErrorType", "ResourceNotFoundException"}});
  try {
    rig.hub->get("nope");
    FAIL("expected not found");
  } catch (const Error& e) {
    CHECK(e.reason() == Reason::not_found);
  }
  rig.fake->verify_done();
}

namespace {

// The answer of an account whose fleet indexing is off.
void index_off(Rig& rig) {
  rig.fake->expect("POST", R"(.*/indices/search)")
      .reply(404, R"({"message":"Index AWS_Things does not exist"})",
             {{"x-amzn-ErrorType", "ResourceNotFoundException"}});
}

// An indexed thing as SearchIndex answers it: the shadows travel as a JSON *string*.
json indexed(const std::string& name, const json& attributes, const json& aiot_shadow) {
  json t = {{"thingName", name}, {"thingId", "id-" + name}, {"attributes", attributes},
            {"thingGroupNames", json::array()}};
  if (!aiot_shadow.is_null()) {
    t["shadow"] = json{{"name", {{"aiot", aiot_shadow}}}}.dump();
  }
  return t;
}

}  // namespace

TEST_CASE("AWS provider: list pages ListThings and filters with the query client-side") {
  Rig rig;
  index_off(rig);
  rig.fake->expect("GET", R"(.*/things\?maxResults=250)")
      .reply(200, R"({"things":[{"thingName":"b","attributes":{"site":"berlin"},"version":1},)"
                  R"({"thingName":"a","attributes":{"site":"paris"},"version":1}],"nextToken":"p2"})");
  rig.fake->expect("GET", R"(.*/things\?maxResults=250&nextToken=p2)")
      .reply(200, R"({"things":[{"thingName":"c","attributes":{"site":"berlin","aiot:disabled":"true"},"version":2}]})");
  auto berlin = rig.hub->list({"tags.site = 'berlin'", 0});
  REQUIRE(berlin.size() == 2);
  CHECK(berlin[0].id == "b");
  CHECK(berlin[1].id == "c");
  CHECK_FALSE(berlin[1].enabled);

  SUBCASE("without an index, a condition on properties reads each thing's shadow; the index is not asked again") {
    rig.fake->expect("GET", R"(.*/things\?maxResults=250)").reply(200, R"({"things":[{"thingName":"a"},{"thingName":"b"}]})");
    rig.fake->expect("GET", R"(.*/things/a/shadow\?name=aiot)").reply(404, "{}");
    rig.fake->expect("GET", R"(.*/things/b/shadow\?name=aiot)").reply(200, R"({"state":{"reported":{"fw":"2"}},"version":3})");
    auto fw2 = rig.hub->list({"properties.reported.fw = '2'", 0});
    REQUIRE(fw2.size() == 1);
    CHECK(fw2[0].id == "b");
    std::size_t searches = 0;
    for (const auto& r : rig.fake->requests()) {
      searches += r.url.find("/indices/search") != std::string::npos ? 1 : 0;
    }
    CHECK(searches == 1);
  }
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: with Fleet Indexing, list takes every device's shadow from SearchIndex pages") {
  Rig rig;
  // The index: a (shadow v3, with metadata), b (no aiot shadow), d (disabled, shadow v1). c is
  // registered but not indexed yet: its shadow is read on its own.
  json a_shadow = {{"desired", {{"aiot", {{"model", {{"version", "3.0"}}}}}}},
                   {"reported", {{"aiot", {{"ota", {{"version", "2.0"}, {"state", "succeeded"}}}}}}},
                   {"metadata", {{"reported", {{"aiot", {{"ota", {{"version", {{"timestamp", 1795660100}}}}}}}}}}},
                   {"hasDelta", true},
                   {"version", 3}};
  json d_shadow = {{"reported", {{"aiot", {{"ota", {{"version", "2.1"}}}}}}}, {"hasDelta", false}, {"version", 1}};
  json page1 = {{"things", {indexed("a", {{"hw", "pi5"}}, a_shadow), indexed("b", {{"hw", "pi4"}}, nullptr)}},
                {"nextToken", "s2"}};
  json page2 = {{"things", {indexed("d", {{"hw", "pi5"}, {"aiot:disabled", "true"}}, d_shadow)}}};
  rig.fake->expect("POST", R"(.*/indices/search)").reply(200, page1.dump()).inspect([](const http::Request& r) {
    auto body = json::parse(r.body);
    CHECK(body["indexName"] == "AWS_Things");
    CHECK(body["queryString"] == "thingName:*");
    CHECK_FALSE(body.contains("nextToken"));
  });
  rig.fake->expect("POST", R"(.*/indices/search)").reply(200, page2.dump()).inspect([](const http::Request& r) {
    CHECK(json::parse(r.body)["nextToken"] == "s2");
  });
  const char* things =
      R"({"things":[{"thingName":"d","thingId":"id-d","attributes":{"hw":"pi5","aiot:disabled":"true"},"version":2},)"
      R"({"thingName":"b","thingId":"id-b","attributes":{"hw":"pi4"},"version":1},)"
      R"({"thingName":"c","thingId":"id-c","attributes":{"hw":"pi5"},"version":1},)"
      R"({"thingName":"a","thingId":"id-a","attributes":{"hw":"pi5"},"version":4}]})";
  rig.fake->expect("GET", R"(.*/things\?maxResults=250)").reply(200, things);
  const char* c_shadow = R"({"state":{"reported":{"aiot":{"ota":{"version":"2.0"}}}},"version":2})";
  rig.fake->expect("GET", R"(.*/things/c/shadow\?name=aiot)").reply(200, c_shadow);

  // A condition on tags only: the devices still carry their reports (what `baseline: auto` reads).
  auto pi5 = rig.hub->list({"tags.hw = 'pi5'", 0});
  REQUIRE(pi5.size() == 3);
  CHECK(pi5[0].id == "a");
  CHECK(pi5[1].id == "c");
  CHECK(pi5[2].id == "d");
  CHECK(pi5[0].reported["aiot"]["ota"]["version"] == "2.0");
  CHECK(pi5[0].desired["aiot"]["model"]["version"] == "3.0");
  CHECK(pi5[0].twin_etag == "4.3");
  CHECK(pi5[0].version == 7);
  CHECK(pi5[0].generation_id == "id-a");
  CHECK(format_rfc3339(pi5[0].updated) == format_rfc3339(TimePoint(std::chrono::seconds(1795660100))));
  CHECK(pi5[1].reported["aiot"]["ota"]["version"] == "2.0");
  CHECK(pi5[1].twin_etag == "1.2");
  CHECK_FALSE(pi5[2].enabled);
  CHECK(pi5[2].twin_etag == "2.1");
  rig.fake->verify_done();

  SUBCASE("the same devices as one GetThingShadow per thing, sorted, with the limit") {
    Rig per_thing;
    index_off(per_thing);
    per_thing.fake->expect("GET", R"(.*/things\?maxResults=250)").reply(200, things);
    auto document = [](json shadow) {
      json doc = {{"state", json::object()}, {"version", shadow["version"]}};
      for (const char* s : {"desired", "reported"}) {
        if (shadow.contains(s)) doc["state"][s] = shadow[s];
      }
      if (shadow.contains("metadata")) doc["metadata"] = shadow["metadata"];
      return doc.dump();
    };
    per_thing.fake->expect("GET", R"(.*/things/d/shadow\?name=aiot)").reply(200, document(d_shadow));
    per_thing.fake->expect("GET", R"(.*/things/b/shadow\?name=aiot)").reply(404, "{}");
    per_thing.fake->expect("GET", R"(.*/things/c/shadow\?name=aiot)").reply(200, c_shadow);
    per_thing.fake->expect("GET", R"(.*/things/a/shadow\?name=aiot)").reply(200, document(a_shadow));
    auto want = per_thing.hub->list({"NOT IS_DEFINED(properties.reported.nothing)", 0});
    per_thing.fake->verify_done();

    rig.fake->expect("POST", R"(.*/indices/search)").reply(200, page1.dump());
    rig.fake->expect("POST", R"(.*/indices/search)").reply(200, page2.dump());
    rig.fake->expect("GET", R"(.*/things\?maxResults=250)").reply(200, things);
    rig.fake->expect("GET", R"(.*/things/c/shadow\?name=aiot)").reply(200, c_shadow);
    auto got = rig.hub->list({});
    REQUIRE(got.size() == 4);
    REQUIRE(want.size() == 4);
    for (std::size_t i = 0; i < got.size(); ++i) {
      CAPTURE(got[i].id);
      CHECK(to_twin_json(got[i]) == to_twin_json(want[i]));
      CHECK(got[i].updated == want[i].updated);
      CHECK(got[i].generation_id == want[i].generation_id);
    }

    rig.fake->expect("POST", R"(.*/indices/search)").reply(200, page1.dump());
    rig.fake->expect("POST", R"(.*/indices/search)").reply(200, page2.dump());
    rig.fake->expect("GET", R"(.*/things\?maxResults=250)").reply(200, things);
    rig.fake->expect("GET", R"(.*/things/c/shadow\?name=aiot)").reply(200, c_shadow);
    auto two = rig.hub->list({"properties.reported.aiot.ota.version = '2.0'", 1});
    REQUIRE(two.size() == 1);
    CHECK(two[0].id == "a");
    rig.fake->verify_done();
  }
}

TEST_CASE("AWS provider: an index that cannot answer, or holds no aiot shadow, falls back to reading shadows") {
  Rig rig;
  const char* things = R"({"things":[{"thingName":"a","version":1}]})";
  const char* a_shadow = R"({"state":{"reported":{"fw":"2"}},"version":5})";

  SUBCASE("an index still building") {
    rig.fake->expect("POST", R"(.*/indices/search)")
        .reply(400, R"({"message":"index is building"})", {{"x-amzn-ErrorType", "IndexNotReadyException"}});
  }
  SUBCASE("SearchIndex not allowed") {
    rig.fake->expect("POST", R"(.*/indices/search)").reply(403, R"({"message":"not authorized"})",
                                                           {{"x-amzn-ErrorType", "AccessDeniedException"}});
  }
  SUBCASE("an index of the registry only") {
    rig.fake->expect("POST", R"(.*/indices/search)")
        .reply(200, json{{"things", {indexed("a", json::object(), nullptr)}}}.dump());
  }
  rig.fake->expect("GET", R"(.*/things\?maxResults=250)").reply(200, things);
  rig.fake->expect("GET", R"(.*/things/a/shadow\?name=aiot)").reply(200, a_shadow);
  auto fw2 = rig.hub->list({"properties.reported.fw = '2'", 0});
  REQUIRE(fw2.size() == 1);
  CHECK(fw2[0].twin_etag == "1.5");
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: a bad answer from the index is an error, not a fallback") {
  Rig rig;
  rig.fake->expect("POST", R"(.*/indices/search)")
      .reply(400, R"({"message":"bad query"})", {{"x-amzn-ErrorType", "InvalidQueryException"}});
  CHECK_THROWS_WITH_AS(rig.hub->list({}), doctest::Contains("InvalidQueryException"), Error);
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: update patches attributes and the desired shadow with version checks") {
  Rig rig;
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  rig.fake->expect("GET", R"(.*/things/cam-1/shadow\?name=aiot)").reply(200, R"({"state":{},"version":6})");
  DeviceUpdate stale;
  stale.id = "cam-1";
  stale.if_match = "3.6";
  stale.tags_patch = {{"ring", nullptr}};
  CHECK_THROWS_AS(rig.hub->update(stale), Error);

  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  rig.fake->expect("GET", R"(.*/things/cam-1/shadow\?name=aiot)").reply(200, R"({"state":{},"version":6})");
  rig.fake->expect("PATCH", R"(.*/things/cam-1)").inspect([](const http::Request& r) {
    auto body = json::parse(r.body);
    CHECK(body["attributePayload"]["attributes"] == json{{"site.city", "berlin"}, {"owner", "ops"}});
    CHECK(body["attributePayload"]["merge"] == false);
    CHECK(body["expectedVersion"] == 4);
  });
  rig.fake->expect("POST", R"(.*/things/cam-1/shadow\?name=aiot)").reply(200, R"({"version":7})").inspect([](const http::Request& r) {
    auto body = json::parse(r.body);
    CHECK(body["state"]["desired"] == json{{"fw", "3"}});
    CHECK(body["version"] == 6);
  });
  // The fresh read at the end.
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, R"({"thingName":"cam-1","attributes":{"site.city":"berlin","owner":"ops"},"version":5})");
  rig.fake->expect("GET", R"(.*/things/cam-1/shadow\?name=aiot)").reply(200, R"({"state":{"desired":{"fw":"3"}},"version":7})");
  rig.fake->expect("GET", R"(.*/things/cam-1/principals.*)").reply(200, R"({"principals":[]})");
  DeviceUpdate u;
  u.id = "cam-1";
  u.if_match = "4.6";
  u.tags_patch = {{"ring", nullptr}, {"owner", "ops"}};
  u.desired_patch = {{"fw", "3"}};
  auto d = rig.hub->update(u);
  CHECK(d.twin_etag == "5.7");
  CHECK(d.desired == json{{"fw", "3"}});
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: remove detaches principals, deletes aiot shadows, then the thing") {
  Rig rig;
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  rig.fake->expect("GET", R"(.*/things/cam-1/principals.*)").reply(200, R"({"principals":["arn:c/1"]})");
  rig.fake->expect("DELETE", R"(.*/things/cam-1/principals)").inspect([](const http::Request& r) {
    CHECK(http::find_header(r.headers, "x-amzn-principal") == "arn:c/1");
  });
  rig.fake->expect("DELETE", R"(.*/things/cam-1/shadow\?name=aiot)").reply(200, "{}");
  rig.fake->expect("DELETE", R"(.*/things/cam-1/shadow\?name=aiot-health)")
      .reply(404, "{}", {{"x-amzn-ErrorType", "ResourceNotFoundException"}});
  rig.fake->expect("DELETE", R"(.*/things/cam-1\?expectedVersion=4)");
  rig.hub->remove("cam-1", "4.0");
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: x509-ca certificate registration, attachment and the device policy") {
  Rig rig;
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  rig.fake->expect("POST", R"(.*/certificate/register-no-ca)")
      .reply(200, R"({"certificateArn":"arn:aws:iot:us-east-1:123456789012:cert/c1","certificateId":"c1"})")
      .inspect([](const http::Request& r) {
        auto body = json::parse(r.body);
        CHECK(body["certificatePem"] == "PEM");
        CHECK(body["status"] == "ACTIVE");
      });
  rig.fake->expect("PUT", R"(.*/things/cam-1/principals)").inspect([](const http::Request& r) {
    CHECK(http::find_header(r.headers, "x-amzn-principal") == "arn:aws:iot:us-east-1:123456789012:cert/c1");
  });
  rig.fake->expect("GET", R"(.*/policies/aiot-device)").reply(404, "{}", {{"x-amzn-ErrorType", "ResourceNotFoundException"}});
  rig.fake->expect("POST", R"(.*/policies/aiot-device)").reply(200, "{}").inspect([](const http::Request& r) {
    auto doc = json::parse(json::parse(r.body)["policyDocument"].get<std::string>());
    CHECK(doc["Statement"][0]["Action"] == "iot:Connect");
    CHECK(doc["Statement"][0]["Resource"] ==
          "arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}");
  });
  rig.fake->expect("PUT", R"(.*/target-policies/aiot-device)").inspect([](const http::Request& r) {
    CHECK(json::parse(r.body) == json{{"target", "arn:aws:iot:us-east-1:123456789012:cert/c1"}});
  });
  Device d;
  d.id = "cam-1";
  auto cert = rig.hub->register_and_attach(d, "PEM");
  CHECK(cert.id == "c1");
  rig.fake->verify_done();

  // A re-run: AWS names the certificate registered before in the 409; the policy is known by now.
  rig.fake->expect("GET", R"(.*/things/cam-1)").reply(200, k_thing_json);
  rig.fake->expect("POST", R"(.*/certificate/register-no-ca)")
      .reply(409, R"({"message":"The certificate is already provisioned or registered","resourceId":"c1",)"
                  R"("resourceArn":"arn:aws:iot:us-east-1:123456789012:cert/c1"})",
             {{"x-amzn-ErrorType", "ResourceAlreadyExistsException"}});
  rig.fake->expect("PUT", R"(.*/things/cam-1/principals)");
  rig.fake->expect("PUT", R"(.*/target-policies/aiot-device)");
  CHECK(rig.hub->register_and_attach(d, "PEM").arn == "arn:aws:iot:us-east-1:123456789012:cert/c1");
  rig.fake->verify_done();
}

TEST_CASE("AWS provider: configuration from settings and the environment") {
  Env env({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"HOME", "/nonexistent"}});
  config::Settings settings;
  CHECK_THROWS_WITH_AS(provider_config(env, settings), doctest::Contains("no AWS region"), Error);

  settings.set("aws.endpoint", "http://127.0.0.1:4567/", "test");
  auto pc = provider_config(env, settings);
  CHECK(pc.client.region == "us-east-1");
  CHECK(pc.client.control_endpoint == "http://127.0.0.1:4567");
  CHECK(pc.client.data_endpoint == "http://127.0.0.1:4567");
  CHECK(pc.options.policy_name == "aiot-device");

  settings.set("aws.data_endpoint", "http://127.0.0.1:4568", "test");
  settings.set("aws.thing_type", "aiot-device", "test");
  env.set("AIOT_HTTP_MAX_ATTEMPTS", "2");
  env.set("AWS_REGION", "eu-west-1");
  pc = provider_config(env, settings);
  CHECK(pc.client.region == "eu-west-1");
  CHECK(pc.client.data_endpoint == "http://127.0.0.1:4568");
  CHECK(pc.options.thing_type == "aiot-device");
  CHECK(pc.client.client.retry.max_attempts == 2);

  settings.set("aws.endpoint", "http://iot.example.com", "test");
  CHECK_THROWS_WITH_AS(provider_config(env, settings), doctest::Contains("plain HTTP"), Error);

  Env none(std::map<std::string, std::string>{{"HOME", "/nonexistent"}});
  try {
    provider_config(none, settings);
    FAIL("expected an auth error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::auth);
  }
}
