// The IoT Hub REST client and the Azure provider over a scripted transport: signing, retries
// with a fake clock, error mapping, paging, bulk import semantics, configurations, settings.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>

#include "aiot/config/settings.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"
#include "aiot/hub/azure/azure_client.hpp"
#include "aiot/hub/azure/azure_hub.hpp"
#include "aiot/hub/azure/azure_wire.hpp"
#include "aiot/hub/hub.hpp"
#include "support/fake_transport.hpp"
#include "support/harness.hpp"

using namespace aiot;
using namespace aiot::hub;
using namespace aiot::hub::azure;
using nlohmann::json;
using aiot::test::FakeTransport;

namespace {

const std::string k_key = "cGFzc3dvcmQ=";
const std::string k_base = "https://myhub.azure-devices.net";
const std::string k_q = R"(\?api-version=2021-04-12)";

// A fake steady clock that only moves when the code sleeps.
struct FakeTime {
  std::chrono::steady_clock::time_point now{};
  std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::milliseconds slept{0};
};

ClientSettings settings_for(FakeTime& time, std::optional<Rates> rates = std::nullopt) {
  ClientSettings s;
  s.credentials = {"myhub.azure-devices.net", "iothubowner", k_key};
  s.base_url = k_base;
  s.rates = rates;
  s.clock = [&time] { return time.now; };
  s.sleep = [&time](std::chrono::milliseconds d) {
    time.sleeps.push_back(d);
    time.slept += d;
    time.now += d;
  };
  s.now_seconds = [] { return std::int64_t{1'700'000'000}; };
  s.seed = 42;
  s.retry.max_attempts = 3;
  return s;
}

std::string url(const std::string& path) { return std::regex_replace(k_base, std::regex(R"(\.)"), R"(\.)") + path + k_q; }

json twin_json(const std::string& id, json tags = json::object(), const std::string& etag = "dHdpbg==") {
  return {{"deviceId", id},
          {"etag", etag},
          {"deviceEtag", "ZGV2"},
          {"version", 2},
          {"status", "enabled"},
          {"authenticationType", "sas"},
          {"tags", tags},
          {"properties", {{"desired", {{"$version", 1}}}, {"reported", {{"$version", 1}}}}}};
}

json identity_json(const std::string& id, const std::string& primary = "cA==", const std::string& status = "enabled") {
  return {{"deviceId", id},
          {"etag", "ZGV2"},
          {"status", status},
          {"generationId", "g"},
          {"authentication", {{"type", "sas"}, {"symmetricKey", {{"primaryKey", primary}, {"secondaryKey", "cw=="}}}}}};
}

std::string header(const http::Request& r, const char* name) { return http::find_header(r.headers, name).value_or(""); }

struct Fixture {
  std::shared_ptr<FakeTransport> fake = std::make_shared<FakeTransport>();
  FakeTime time;
  std::unique_ptr<Hub> hub;
  AzureClient* client = nullptr;
  explicit Fixture(std::optional<Rates> rates = std::nullopt) {
    hub = make_azure_hub(std::make_unique<AzureClient>(fake, settings_for(time, rates)));
    client = azure_client_of(*hub);
  }
};

}  // namespace

TEST_CASE("azure client: every request is signed for the hub, with api-version and a request id") {
  Fixture f;
  f.fake->expect("GET", url("/devices/d%231")).reply(200, identity_json("d#1").dump());
  auto identity = f.client->get_device("d#1");
  CHECK(identity["deviceId"] == "d#1");
  auto sent = f.fake->requests();
  REQUIRE(sent.size() == 1);
  auto auth = header(sent[0], "Authorization");
  CHECK(auth.rfind("SharedAccessSignature sr=myhub.azure-devices.net&sig=", 0) == 0);
  CHECK(auth.find("&se=1700003600&skn=iothubowner") != std::string::npos);
  CHECK(header(sent[0], "Request-Id").size() == 36);
  f.fake->verify_done();
}

TEST_CASE("azure client: 429 and 503 are retried with backoff, then the answer is used") {
  Fixture f;
  f.fake->expect("GET", url("/twins/d1"))
      .reply(429, legacy_error_body("ThrottlingException", "slow down", "t", "n"))
      .then(503)
      .then(200, twin_json("d1").dump());
  auto twin = f.client->get_twin("d1");
  CHECK(twin["deviceId"] == "d1");
  CHECK(f.time.sleeps.size() == 2);
  CHECK(f.client->stats().retries == 2);
  CHECK(f.client->stats().throttled == 1);
  CHECK(f.client->stats().requests == 3);
  f.fake->verify_done();
}

TEST_CASE("azure client: retries run out -> unavailable (exit 5) naming what failed") {
  Fixture f;
  f.fake->expect("GET", url("/devices/d1")).fail(http::TransportError::connect).then_fail(http::TransportError::connect)
      .then_fail(http::TransportError::connect);
  try {
    f.client->get_device("d1");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::unavailable);
    CHECK(e.message().find("get device 'd1': ") == 0);
    CHECK(e.message().find("3 attempts") != std::string::npos);
  }
  f.fake->verify_done();
}

TEST_CASE("azure client: 4xx answers are not retried and carry the IoT Hub code") {
  Fixture f;
  f.fake->expect("GET", url("/devices/nope"))
      .reply(404, error_body(404001, "Device nope not found", "t", "n"), {{"iothub-errorcode", "DeviceNotFound"}});
  try {
    f.hub->registry().get("nope");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.reason() == Reason::not_found);
    CHECK(e.message() == "get device 'nope': IoT Hub 404001 DeviceNotFound: Device nope not found");
  }
  CHECK(f.fake->requests().size() == 1);
  f.fake->expect("GET", url("/devices/d1")).reply(401, error_body(401003, "bad sig", "t", "n"));
  try {
    f.client->get_device("d1");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::auth);
  }
  CHECK(f.time.sleeps.empty());
}

TEST_CASE("azure hub: create is a PUT without If-Match, then the twin") {
  Fixture f;
  f.fake->expect("PUT", url("/devices/d1"))
      .reply(200, identity_json("d1").dump())
      .inspect([](const http::Request& r) {
        CHECK_FALSE(http::find_header(r.headers, "If-Match"));
        auto body = json::parse(r.body);
        CHECK(body["authentication"]["symmetricKey"]["primaryKey"] == "");
        CHECK(header(r, "Content-Type") == "application/json; charset=utf-8");
      });
  f.fake->expect("PATCH", url("/twins/d1"))
      .reply(200, twin_json("d1", {{"site", "x"}}).dump())
      .inspect([](const http::Request& r) {
        CHECK(header(r, "If-Match") == "*");
        CHECK(json::parse(r.body) == json{{"tags", {{"site", "x"}}}});
      });
  Device spec;
  spec.id = "d1";
  spec.tags = {{"site", "x"}};
  auto d = f.hub->registry().create(spec);
  CHECK(d.auth.primary_key == "cA==");
  CHECK(d.tags == json{{"site", "x"}});
  CHECK(d.twin_etag == "dHdpbg==");
  f.fake->verify_done();
}

TEST_CASE("azure hub: create of an existing id is a conflict with a hint") {
  Fixture f;
  f.fake->expect("PUT", url("/devices/d1"))
      .reply(409, legacy_error_body("DeviceAlreadyExists", "exists", "t", "n"));
  Device spec;
  spec.id = "d1";
  try {
    f.hub->registry().create(spec);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.reason() == Reason::conflict);
    CHECK(e.message().find("409001 DeviceAlreadyExists") != std::string::npos);
    CHECK(e.hint().find("--update") != std::string::npos);
  }
}

TEST_CASE("azure hub: update patches the twin with the quoted etag and PUTs the identity for status") {
  Fixture f;
  f.fake->expect("PATCH", url("/twins/d1"))
      .reply(200, twin_json("d1", {{"ring", "canary"}}, "bmV3").dump())
      .inspect([](const http::Request& r) {
        CHECK(header(r, "If-Match") == "\"b2xk\"");
        CHECK(json::parse(r.body) == json{{"tags", {{"ring", "canary"}}}, {"properties", {{"desired", {{"fan", "on"}}}}}});
      });
  f.fake->expect("GET", url("/devices/d1")).reply(200, identity_json("d1").dump());
  f.fake->expect("PUT", url("/devices/d1"))
      .reply(200, identity_json("d1", "cA==", "disabled").dump())
      .inspect([](const http::Request& r) {
        CHECK(header(r, "If-Match") == "\"ZGV2\"");
        CHECK(json::parse(r.body)["status"] == "disabled");
      });
  DeviceUpdate u;
  u.id = "d1";
  u.if_match = "b2xk";
  u.enabled = false;
  u.tags_patch = {{"ring", "canary"}};
  u.desired_patch = {{"fan", "on"}};
  auto d = f.hub->registry().update(u);
  CHECK_FALSE(d.enabled);
  CHECK(d.tags == json{{"ring", "canary"}});
  CHECK(d.twin_etag == "bmV3");
  f.fake->verify_done();
}

TEST_CASE("azure hub: update with a stale etag is a precondition failure") {
  Fixture f;
  f.fake->expect("PATCH", url("/twins/d1")).reply(412, error_body(412001, "etag mismatch", "t", "n"));
  DeviceUpdate u;
  u.id = "d1";
  u.if_match = "b2xk";
  u.tags_patch = {{"a", "b"}};
  try {
    f.hub->registry().update(u);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.reason() == Reason::precondition_failed);
  }
  // Status only: the twin's etag is compared before anything is written.
  f.fake->expect("GET", url("/twins/d2")).reply(200, twin_json("d2", {}, "bm93").dump());
  DeviceUpdate status_only;
  status_only.id = "d2";
  status_only.if_match = "b2xk";
  status_only.enabled = false;
  CHECK_THROWS_AS(f.hub->registry().update(status_only), Error);
  f.fake->verify_done();
}

TEST_CASE("azure hub: update_many patches twins concurrently, errors stay per row") {
  Fixture f;
  f.fake->expect("PATCH", url("/twins/a")).reply(200, twin_json("a", {{"wave", 1}}).dump()).inspect([](const http::Request& r) {
    CHECK(json::parse(r.body) == json{{"tags", {{"wave", 1}}}});
    CHECK(header(r, "If-Match") == "*");
  });
  f.fake->expect("PATCH", url("/twins/b")).reply(412, error_body(412001, "etag", "t", "n")).inspect([](const http::Request& r) {
    CHECK(header(r, "If-Match") == "\"old\"");
  });
  f.fake->expect("PATCH", url("/twins/c")).reply(404, error_body(404001, "gone", "t", "n"));
  std::vector<DeviceUpdate> updates(3);
  updates[0].id = "a";
  updates[0].tags_patch = {{"wave", 1}};
  updates[1].id = "b";
  updates[1].if_match = "old";
  updates[1].desired_patch = {{"x", 1}};
  updates[2].id = "c";
  updates[2].tags_patch = {{"wave", 1}};
  auto results = f.hub->registry().update_many(updates);
  CHECK(results[0].outcome == RowOutcome::updated);
  CHECK(results[0].device->tags == json{{"wave", 1}});
  CHECK(results[1].error->reason() == Reason::precondition_failed);
  CHECK(results[2].error->reason() == Reason::not_found);
  CHECK(f.fake->max_batch() == 3);
  f.fake->verify_done();
}

TEST_CASE("azure hub: delete takes the twin etag that device show prints") {
  Fixture f;
  f.fake->expect("GET", url("/twins/d1")).reply(200, twin_json("d1", {}, "dHdpbg==").dump());
  f.fake->expect("DELETE", url("/devices/d1")).reply(204).inspect([](const http::Request& r) {
    CHECK(header(r, "If-Match") == "\"ZGV2\"");
  });
  f.fake->expect("DELETE", url("/devices/d2")).reply(204).inspect([](const http::Request& r) {
    CHECK(header(r, "If-Match") == "*");
  });
  f.hub->registry().remove("d1", "dHdpbg==");
  f.hub->registry().remove("d2");
  f.fake->verify_done();
}

TEST_CASE("azure hub: list follows x-ms-continuation and stops at the limit") {
  Fixture f;
  json page1 = json::array({twin_json("a"), twin_json("b")});
  json page2 = json::array({twin_json("c")});
  f.fake->expect("POST", url("/devices/query"))
      .reply(200, page1.dump(), {{"x-ms-continuation", "tok1"}})
      .inspect([](const http::Request& r) {
        CHECK(json::parse(r.body)["query"] == "SELECT * FROM devices WHERE tags.site = 'x'");
        CHECK_FALSE(http::find_header(r.headers, "x-ms-continuation"));
      });
  f.fake->expect("POST", url("/devices/query")).reply(200, page2.dump()).inspect([](const http::Request& r) {
    CHECK(header(r, "x-ms-continuation") == "tok1");
  });
  auto all = f.hub->registry().list({.where = "tags.site='x'"});
  REQUIRE(all.size() == 3);
  CHECK(all[2].id == "c");
  f.fake->verify_done();

  Fixture g;
  g.fake->expect("POST", url("/devices/query"))
      .reply(200, page1.dump(), {{"x-ms-continuation", "tok1"}})
      .inspect([](const http::Request& r) { CHECK(header(r, "x-ms-max-item-count") == "2"); });
  auto two = g.hub->registry().list({.limit = 2});
  CHECK(two.size() == 2);
  g.fake->verify_done();
}

namespace {
std::vector<Device> sas_devices(int n, const std::string& prefix = "dev-") {
  std::vector<Device> out;
  for (int i = 0; i < n; ++i) {
    Device d;
    d.id = prefix + std::to_string(i);
    out.push_back(d);
  }
  return out;
}
}  // namespace

TEST_CASE("azure import: 250 devices go as three bulk calls of near-equal size, in flight together") {
  Fixture f;
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 3; ++i) {
    f.fake->expect("POST", url("/devices")).reply(200, R"({"isSuccessful":true,"errors":[],"warnings":[]})")
        .inspect([&sizes](const http::Request& r) {
          auto body = json::parse(r.body);
          REQUIRE(body.is_array());
          sizes.push_back(body.size());
          for (const auto& item : body) {
            CHECK(item["importMode"] == "create");
            CHECK(item["authentication"]["symmetricKey"]["primaryKey"].get<std::string>().size() == 44);
          }
        });
  }
  auto devices = sas_devices(250);
  auto results = f.hub->registry().import(devices, ImportMode::create);
  REQUIRE(results.size() == 250);
  for (const auto& r : results) CHECK(r.outcome == RowOutcome::created);
  CHECK(results[7].device->auth.primary_key.size() == 44);  // the keys are known without a read
  CHECK(sizes == std::vector<std::size_t>{84, 83, 83});
  CHECK(f.fake->max_batch() == 3);
  f.fake->verify_done();
}

TEST_CASE("azure import: existing ids are compared: same content unchanged, other content a conflict") {
  Fixture f;
  std::vector<Device> devices = sas_devices(4);
  devices[1].tags = {{"site", "a"}};
  devices[2].tags = {{"site", "b"}};
  devices[3].id = "bad id";  // rejected locally, never sent
  f.fake->expect("POST", url("/devices"))
      .reply(400, R"({"isSuccessful":false,"errors":[)"
                  R"({"deviceId":"dev-1","errorCode":"DeviceAlreadyExists","errorStatus":"exists"},)"
                  R"({"deviceId":"dev-2","errorCode":"DeviceAlreadyExists","errorStatus":"exists"}],"warnings":[]})")
      .inspect([](const http::Request& r) { CHECK(json::parse(r.body).size() == 3); });
  f.fake->expect("POST", url("/devices/query"))
      .reply(200, json::array({twin_json("dev-1", {{"site", "a"}}), twin_json("dev-2", {{"site", "OTHER"}})}).dump())
      .inspect([](const http::Request& r) {
        CHECK(json::parse(r.body)["query"] == "SELECT * FROM devices WHERE deviceId IN ['dev-1', 'dev-2']");
      });
  auto results = f.hub->registry().import(devices, ImportMode::create);
  CHECK(results[0].outcome == RowOutcome::created);
  CHECK(results[1].outcome == RowOutcome::unchanged);
  CHECK(results[2].outcome == RowOutcome::failed);
  REQUIRE(results[2].error);
  CHECK(results[2].error->reason() == Reason::conflict);
  CHECK(results[3].outcome == RowOutcome::failed);
  CHECK(results[3].error->code() == ExitCode::usage);
  f.fake->verify_done();  // no identity reads: nothing was retried and the file gave no keys
}

namespace {
// A transport answering through a function, for answers that depend on what was sent earlier.
class ScriptTransport : public http::Transport {
 public:
  std::function<http::Response(const http::Request&)> answer;
  std::vector<http::Request> sent;
  http::Response send(const http::Request& r) override {
    sent.push_back(r);
    return answer(r);
  }
  std::vector<http::Response> send_all(std::span<const http::Request> requests) override {
    std::vector<http::Response> out;
    for (const auto& r : requests) out.push_back(send(r));
    return out;
  }
};
http::Response make(int status, std::string body = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
}  // namespace

TEST_CASE("azure import: a retried call that had gone through is recognised by its keys") {
  auto script = std::make_shared<ScriptTransport>();
  FakeTime time;
  auto hub = make_azure_hub(std::make_unique<AzureClient>(script, settings_for(time)));
  json sent_auth;
  int posts = 0;
  script->answer = [&](const http::Request& r) {
    if (r.method == "POST" && r.url.find("/devices/query") == std::string::npos) {
      if (++posts == 1) {
        sent_auth = json::parse(r.body)[0]["authentication"];
        http::Response reset;  // the hub stored it, the answer was lost
        reset.transport_error = http::TransportError::reset;
        return reset;
      }
      CHECK(json::parse(r.body)[0]["authentication"] == sent_auth);  // the retry sends the same keys
      return make(400, R"({"isSuccessful":false,"errors":[{"deviceId":"dev-0","errorCode":409001,"errorStatus":"x"}]})");
    }
    if (r.url.find("/devices/query") != std::string::npos) return make(200, json::array({twin_json("dev-0")}).dump());
    json identity = identity_json("dev-0");
    identity["authentication"] = sent_auth;
    return make(200, identity.dump());
  };
  auto devices = sas_devices(1);
  auto results = hub->registry().import(devices, ImportMode::create);
  CHECK(results[0].outcome == RowOutcome::created);
  CHECK(results[0].device->auth.primary_key == sent_auth["symmetricKey"]["primaryKey"]);
  CHECK(posts == 2);
}

TEST_CASE("azure import: a call retried after a 429 cannot have gone through: no identity reads") {
  Fixture f;
  f.fake->expect("POST", url("/devices"))
      .reply(429, legacy_error_body("ThrottlingException", "slow", "t", "n"))
      .then(400, R"({"isSuccessful":false,"errors":[{"deviceId":"dev-0","errorCode":"DeviceAlreadyExists"}]})");
  f.fake->expect("POST", url("/devices/query")).reply(200, json::array({twin_json("dev-0")}).dump());
  auto results = f.hub->registry().import(sas_devices(1), ImportMode::create);
  CHECK(results[0].outcome == RowOutcome::unchanged);
  CHECK(f.fake->unexpected().empty());
  f.fake->verify_done();
}

TEST_CASE("azure import: upsert replaces the identity and the twin in two bulk passes") {
  Fixture f;
  std::vector<Device> devices = sas_devices(2);
  devices[0].enabled = false;              // identity differs
  devices[1].tags = {{"ring", "canary"}};  // twin differs
  devices[1].auth.primary_key = "cA==";
  devices[1].auth.secondary_key = "cw==";
  f.fake->expect("POST", url("/devices"))
      .reply(400, R"({"isSuccessful":false,"errors":[{"deviceId":"dev-0","errorCode":"DeviceAlreadyExists"},)"
                  R"({"deviceId":"dev-1","errorCode":"DeviceAlreadyExists"}]})");
  f.fake->expect("POST", url("/devices/query")).reply(200, json::array({twin_json("dev-0"), twin_json("dev-1")}).dump());
  f.fake->expect("GET", url("/devices/dev-0")).reply(200, identity_json("dev-0", "aGF2ZQ==").dump());
  f.fake->expect("GET", url("/devices/dev-1")).reply(200, identity_json("dev-1").dump());
  f.fake->expect("POST", url("/devices")).reply(200, R"({"isSuccessful":true,"errors":[]})").inspect([](const http::Request& r) {
    auto body = json::parse(r.body);
    REQUIRE(body.size() == 1);
    CHECK(body[0]["id"] == "dev-0");
    CHECK(body[0]["importMode"] == "update");
    CHECK(body[0]["status"] == "disabled");
    CHECK(body[0]["authentication"]["symmetricKey"]["primaryKey"] == "aGF2ZQ==");  // the hub's keys are kept
    CHECK_FALSE(body[0].contains("tags"));
  });
  f.fake->expect("POST", url("/devices")).reply(200, R"({"isSuccessful":true,"errors":[]})").inspect([](const http::Request& r) {
    auto body = json::parse(r.body);
    REQUIRE(body.size() == 1);
    CHECK(body[0]["id"] == "dev-1");
    CHECK(body[0]["importMode"] == "updateTwin");
    CHECK(body[0]["tags"] == json{{"ring", "canary"}});
    CHECK_FALSE(body[0].contains("properties"));
  });
  auto results = f.hub->registry().import(devices, ImportMode::upsert);
  CHECK(results[0].outcome == RowOutcome::updated);
  CHECK(results[1].outcome == RowOutcome::updated);
  f.fake->verify_done();
}

TEST_CASE("azure import: a duplicate id in one file goes in a later call") {
  Fixture f;
  auto devices = sas_devices(1);
  devices.push_back(devices[0]);
  f.fake->expect("POST", url("/devices")).reply(200, R"({"isSuccessful":true,"errors":[]})").inspect([](const http::Request& r) {
    CHECK(json::parse(r.body).size() == 1);
  });
  f.fake->expect("POST", url("/devices"))
      .reply(400, R"({"isSuccessful":false,"errors":[{"deviceId":"dev-0","errorCode":"DeviceAlreadyExists"}]})");
  f.fake->expect("POST", url("/devices/query")).reply(200, json::array({twin_json("dev-0")}).dump());
  auto results = f.hub->registry().import(devices, ImportMode::create);
  CHECK(results[0].outcome == RowOutcome::created);
  CHECK(results[1].outcome == RowOutcome::unchanged);
  f.fake->verify_done();
}

TEST_CASE("azure find_twins: one query per 100 ids, lagging ids read one by one, unknown ids absent") {
  Fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 150; ++i) ids.push_back("d" + std::to_string(i));
  ids.push_back("it's");
  json first = json::array(), second = json::array();
  for (int i = 0; i < 100; ++i) first.push_back(twin_json("d" + std::to_string(i)));
  for (int i = 100; i < 149; ++i) second.push_back(twin_json("d" + std::to_string(i)));  // d149 lags
  f.fake->expect("POST", url("/devices/query")).reply(200, first.dump()).inspect([](const http::Request& r) {
    CHECK(header(r, "x-ms-max-item-count") == "100");
  });
  f.fake->expect("POST", url("/devices/query")).reply(200, second.dump()).inspect([](const http::Request& r) {
    CHECK(json::parse(r.body)["query"].get<std::string>().find("'it''s'") != std::string::npos);
  });
  f.fake->expect("GET", url("/twins/d149")).reply(200, twin_json("d149").dump());
  f.fake->expect("GET", url("/twins/it%27s")).reply(404, error_body(404001, "no", "t", "n"));
  auto twins = f.client->find_twins(ids);
  REQUIRE(twins.size() == 151);
  CHECK((*twins[0])["deviceId"] == "d0");
  CHECK((*twins[149])["deviceId"] == "d149");
  CHECK_FALSE(twins[150]);
  CHECK(f.fake->max_batch() == 2);
  f.fake->verify_done();
}

TEST_CASE("azure import: a whole call refused fails its rows only; 401 stops the import") {
  Fixture f;
  f.fake->expect("POST", url("/devices")).reply(400, error_body(400004, "body too large", "t", "n"));
  auto results = f.hub->registry().import(sas_devices(3), ImportMode::create);
  for (const auto& r : results) {
    CHECK(r.outcome == RowOutcome::failed);
    CHECK(r.error->message().find("400004 ArgumentInvalid: body too large") != std::string::npos);
  }
  f.fake->expect("POST", url("/devices")).reply(401, error_body(401003, "bad sig", "t", "n"));
  try {
    f.hub->registry().import(sas_devices(3), ImportMode::create);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::auth);
  }
}

TEST_CASE("azure import: the identity bucket paces bulk calls by devices, on a fake clock") {
  Fixture f(rates_for(Tier::s1, 1));  // 100/min: one 100-device call now, the next after ~62 s
  for (int i = 0; i < 3; ++i) f.fake->expect("POST", url("/devices")).reply(200, R"({"isSuccessful":true,"errors":[]})");
  auto results = f.hub->registry().import(sas_devices(300), ImportMode::create);
  CHECK(results[299].outcome == RowOutcome::created);
  double per_second = 100.0 / 60 * k_pace_margin;
  double expected = 200 / per_second;
  CHECK(f.time.slept.count() / 1000.0 == doctest::Approx(expected).epsilon(0.02));
  f.fake->verify_done();
}

TEST_CASE("azure configurations: create, get, list, update, delete, testQueries") {
  Fixture f;
  Configuration c;
  c.id = "Model-V2";
  c.content = {{"deviceContent", {{"properties.desired.aiot.model", {{"version", "2.0"}}}}}};
  c.target_condition = "tags.ring='canary'";
  c.priority = 10;
  c.labels = {{"rollout", "r1"}};
  c.metric_queries = {{"ok", "SELECT deviceId FROM devices WHERE properties.reported.aiot.ota.state='succeeded'"}};
  json stored = c.to_json();
  stored["id"] = "model-v2";
  stored["etag"] = "MQ==";
  stored["createdTimeUtc"] = "2026-11-26T00:00:00Z";
  stored["systemMetrics"] = {{"queries", {{"targetedCount", "q"}}}, {"results", {{"targetedCount", 3}, {"appliedCount", 2}}}};
  stored["metrics"]["results"] = {{"ok", 1}};
  f.fake->expect("PUT", url("/configurations/model-v2")).reply(200, stored.dump()).inspect([](const http::Request& r) {
    CHECK_FALSE(http::find_header(r.headers, "If-Match"));
    auto body = json::parse(r.body);
    CHECK(body["id"] == "model-v2");
    CHECK(body["etag"] == "*");
    CHECK(body["schemaVersion"] == "1.0");
    CHECK(body["priority"] == 10);
  });
  auto created = f.client->create_configuration(c);
  CHECK(created.id == "model-v2");
  CHECK(created.etag == "MQ==");
  CHECK(created.system_metric_results.at("appliedCount") == 2);
  CHECK(created.metric_results.at("ok") == 1);
  CHECK(created.labels.at("rollout") == "r1");

  f.fake->expect("GET", url("/configurations/model-v2")).reply(200, stored.dump());
  CHECK(f.client->get_configuration("model-v2").priority == 10);
  f.fake->expect("GET", url("/configurations") + "&top=5").reply(200, json::array({stored}).dump());
  CHECK(f.client->list_configurations(5).size() == 1);
  created.priority = 20;
  f.fake->expect("PUT", url("/configurations/model-v2")).reply(200, stored.dump()).inspect([](const http::Request& r) {
    CHECK(header(r, "If-Match") == "\"MQ==\"");
    CHECK(json::parse(r.body)["priority"] == 20);
  });
  f.client->update_configuration(created, created.etag);
  f.fake->expect("DELETE", url("/configurations/model-v2")).reply(204).inspect([](const http::Request& r) {
    CHECK(header(r, "If-Match") == "*");
  });
  f.client->delete_configuration("model-v2");
  f.fake->expect("POST", url("/configurations/testQueries"))
      .reply(200, R"({"targetConditionError":"","customMetricQueryErrors":{"ok":"","bad":"syntax error at 7"}})")
      .inspect([](const http::Request& r) {
        auto body = json::parse(r.body);
        CHECK(body["targetCondition"] == "tags.ring='canary'");
        CHECK(body["customMetricQueries"]["bad"] == "SELECT");
      });
  auto test = f.client->test_queries("tags.ring='canary'", {{"ok", "SELECT deviceId FROM devices"}, {"bad", "SELECT"}});
  CHECK_FALSE(test.ok());
  CHECK(test.target_condition_error.empty());
  CHECK(test.custom_metric_query_errors.size() == 1);
  CHECK(test.custom_metric_query_errors.at("bad") == "syntax error at 7");
  f.fake->expect("GET", url("/configurations/gone")).reply(404, legacy_error_body("ConfigurationNotFound", "no", "t", "n"));
  CHECK_THROWS_AS(f.client->get_configuration("gone"), Error);
  f.fake->verify_done();
}

TEST_CASE("azure settings: connection string sources, endpoint rules, pacing and attempts") {
  aiot::test::TempDir dir;
  config::Settings settings;
  Env env;
  const std::string cs = "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" + k_key;

  SUBCASE("nothing given: an auth error saying where to put it") {
    try {
      client_settings(env, settings, dir.path());
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::auth);
      CHECK(e.message().find("IOTHUB_CONNECTION_STRING") != std::string::npos);
    }
  }
  SUBCASE("from the environment: https to the HostName, paced as S1 x 1") {
    env.set("IOTHUB_CONNECTION_STRING", cs);
    auto s = client_settings(env, settings, dir.path());
    CHECK(s.base_url == "https://myhub.azure-devices.net");
    CHECK(s.credentials.key_name == "iothubowner");
    REQUIRE(s.rates);
    CHECK(s.rates->identity == doctest::Approx(100.0 / 60));
    CHECK(s.retry.max_attempts == 6);
  }
  SUBCASE("from the file setting, relative to the working directory") {
    aiot::test::write_text(dir / "cs.txt", cs + "\n");
    settings.set("azure.connection_string_file", "cs.txt", "test");
    auto s = client_settings(env, settings, dir.path());
    CHECK(s.credentials.host_name == "myhub.azure-devices.net");
    settings.set("azure.connection_string_file", "missing.txt", "test");
    CHECK_THROWS_AS(client_settings(env, settings, dir.path()), Error);
  }
  SUBCASE("a loopback endpoint: plain http allowed, no pacing unless a tier is given") {
    env.set("IOTHUB_CONNECTION_STRING", cs);
    settings.set("azure.endpoint", "http://127.0.0.1:4567/", "test");
    auto s = client_settings(env, settings, dir.path());
    CHECK(s.base_url == "http://127.0.0.1:4567/");
    CHECK_FALSE(s.rates);
    settings.set("azure.tier", "S3", "env AIOT_AZURE_TIER");
    settings.set("azure.units", "2", "env AIOT_AZURE_UNITS");
    env.set("AIOT_HTTP_MAX_ATTEMPTS", "2");
    env.set("AIOT_HTTP_RETRY_BUDGET", "17");
    s = client_settings(env, settings, dir.path());
    CHECK(s.retry.budget == 17);
    REQUIRE(s.rates);
    CHECK(s.rates->identity == doctest::Approx(5000.0 / 60 * 2));
    CHECK(s.rates->query == doctest::Approx(1000.0 / 60 * 2));
    CHECK(s.retry.max_attempts == 2);
    CHECK_THROWS_AS(settings.set("azure.tier", "P9", "test"), Error);  // the key table refuses it
    env.set("AIOT_AZURE_TIER", "S1");
    env.set("AIOT_HTTP_MAX_ATTEMPTS", "0");
    CHECK_THROWS_AS(client_settings(env, settings, dir.path()), Error);
  }
  SUBCASE("plain http to a real host is refused") {
    env.set("IOTHUB_CONNECTION_STRING", cs);
    settings.set("azure.endpoint", "http://myhub.azure-devices.net", "test");
    try {
      client_settings(env, settings, dir.path());
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
      CHECK(e.message().find("plain HTTP") != std::string::npos);
    }
  }
  SUBCASE("a bad connection string names its source, never the key") {
    env.set("IOTHUB_CONNECTION_STRING", "HostName=h;SharedAccessKey=" + k_key);
    try {
      client_settings(env, settings, dir.path());
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.message().find("from IOTHUB_CONNECTION_STRING") != std::string::npos);
      CHECK(e.message().find(k_key) == std::string::npos);
    }
  }
}

TEST_CASE("throttle tiers") {
  CHECK(parse_tier("S1") == Tier::s1);
  CHECK(parse_tier("b2") == Tier::s2);
  CHECK(parse_tier("F1") == Tier::f1);
  CHECK_FALSE(parse_tier("S4"));
  auto s2 = rates_for(Tier::s2, 20);
  CHECK(s2.twin_read == doctest::Approx(200));
  CHECK(s2.twin_update == doctest::Approx(100));
  CHECK(s2.config == doctest::Approx(20.0 / 60 * 20));
}
