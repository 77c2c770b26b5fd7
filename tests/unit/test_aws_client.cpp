// The AWS IoT wire: error parsing, retry classification, request shapes and signing, over a
// scripted transport (no sockets, no real clock).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "aiot/auth/cloud/sigv4.hpp"
#include "aiot/hub/aws/aws_client.hpp"
#include "support/fake_transport.hpp"

using namespace aiot;
using namespace aiot::hub::aws;
using nlohmann::json;

namespace {

// A steady clock that only moves when the client sleeps, so pacing and backoff cost no real time.
struct FakeTime {
  std::chrono::steady_clock::time_point now{};
  std::vector<std::chrono::milliseconds> sleeps;
};

Config test_config(const std::shared_ptr<FakeTime>& time, std::string data_endpoint = "https://data.example") {
  Config c;
  c.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  c.region = "eu-west-1";
  c.control_endpoint = "https://iot.eu-west-1.amazonaws.com";
  c.data_endpoint = std::move(data_endpoint);
  c.now = [] { return *parse_rfc3339("2026-11-25T20:18:29Z"); };
  c.client.clock = [time] { return time->now; };
  c.client.sleep = [time](std::chrono::milliseconds d) {
    time->sleeps.push_back(d);
    time->now += d;
  };
  c.client.seed = 7;
  return c;
}

http::Response response(int status, std::string body, http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// Checks the request's SigV4 signature against the secret, with the scope's service.
std::string verified_service(const http::Request& r) {
  auto auth = sigv4::parse_authorization(http::find_header(r.headers, "Authorization").value_or(""));
  REQUIRE(auth);
  auto scheme = r.url.find("://");
  auto path = r.url.find('/', scheme + 3);
  sigv4::SignableRequest s{r.method, r.url.substr(path), r.headers, r.body};
  auto again = sigv4::recompute(s, *auth, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", {});
  CHECK(again.signature == auth->signature);
  return auth->service;
}

}  // namespace

TEST_CASE("AWS errors: code from x-amzn-ErrorType or __type, message from message/Message") {
  auto a = parse_error(response(400, R"({"message":"Rate exceeded"})",
                                {{"x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/"}}));
  CHECK(a.code == "ThrottlingException");
  CHECK(a.message == "Rate exceeded");
  auto b = parse_error(response(404, R"({"__type":"com.amazonaws.iot#ResourceNotFoundException","Message":"nope"})"));
  CHECK(b.code == "ResourceNotFoundException");
  CHECK(b.message == "nope");
  auto c = parse_error(response(409, R"({"code":"ConflictException","message":"Version conflict"})"));
  CHECK(c.code == "ConflictException");
  auto d = parse_error(response(502, "<html>bad gateway</html>"));
  CHECK(d.code.empty());
  CHECK(d.message.find("bad gateway") != std::string::npos);
}

TEST_CASE("AWS retries: throttling codes whatever the status, not other 4xx") {
  CHECK(classify(response(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})")) == http::Verdict::retry);
  CHECK(classify(response(400, "{}", {{"x-amzn-ErrorType", "ThrottlingException"}})) == http::Verdict::retry);
  CHECK(classify(response(410, R"({"__type":"LimitExceededException"})")) == http::Verdict::retry);
  CHECK(classify(response(429, "{}")) == http::Verdict::retry);
  CHECK(classify(response(503, "{}")) == http::Verdict::retry);
  CHECK(classify(response(400, R"({"__type":"InvalidRequestException"})")) == http::Verdict::fail);
  CHECK(classify(response(404, R"({"__type":"ResourceNotFoundException"})")) == http::Verdict::fail);
  CHECK(classify(response(200, "{}")) == http::Verdict::success);
}

TEST_CASE("AWS errors become aiot errors with the AWS code") {
  auto auth = to_error(response(403, R"({"message":"The request signature we calculated does not match"})",
                                {{"x-amzn-ErrorType", "InvalidSignatureException"}}),
                       "DescribeThing");
  CHECK(auth.code() == ExitCode::auth);
  CHECK(auth.message().find("InvalidSignatureException") != std::string::npos);
  CHECK(auth.message().find("DescribeThing") != std::string::npos);
  CHECK(to_error(response(404, R"({"__type":"ResourceNotFoundException"})"), "X").reason() == Reason::not_found);
  CHECK(to_error(response(409, R"({"__type":"ResourceAlreadyExistsException"})"), "X").reason() == Reason::conflict);
  CHECK(to_error(response(409, R"({"__type":"VersionConflictException"})"), "X").reason() ==
        Reason::precondition_failed);
  auto bad = to_error(response(400, R"({"__type":"InvalidRequestException","message":"bad name"})"), "CreateThing");
  CHECK(bad.code() == ExitCode::usage);
  CHECK(bad.message() == "AWS IoT CreateThing: InvalidRequestException: bad name (HTTP 400)");
  CHECK(to_error(response(500, "{}"), "X").code() == ExitCode::unavailable);
}

TEST_CASE("AWS wire: CreateThing, double-encoded names, signing names per plane") {
  auto time = std::make_shared<FakeTime>();
  auto fake = std::make_shared<test::FakeTransport>();
  AwsClient client(fake, test_config(time));
  fake->expect("POST", R"(https://iot\.eu-west-1\.amazonaws\.com/things/edge%3Acam-01)")
      .reply(200, R"({"thingName":"edge:cam-01","thingArn":"arn:aws:iot:eu-west-1:123456789012:thing/edge:cam-01","thingId":"id-1"})")
      .inspect([](const http::Request& r) {
        auto body = json::parse(r.body);
        CHECK(body["attributePayload"]["attributes"]["site"] == "plant-7");
        CHECK(body["thingTypeName"] == "camera");
        CHECK(http::find_header(r.headers, "Content-Type") == "application/json");
        CHECK(http::find_header(r.headers, "Host") == "iot.eu-west-1.amazonaws.com");
        CHECK(verified_service(r) == "iot");
      });
  auto thing = client.create_thing("edge:cam-01", {{"site", "plant-7"}}, "camera");
  CHECK(thing.arn == "arn:aws:iot:eu-west-1:123456789012:thing/edge:cam-01");
  CHECK(thing.id == "id-1");

  fake->expect("GET", R"(https://data\.example/things/t1/shadow\?name=aiot)")
      .reply(200, R"({"state":{"desired":{"fw":"1.5"},"reported":{"fw":"1.4"}},"version":7})")
      .inspect([](const http::Request& r) { CHECK(verified_service(r) == "iotdata"); });
  auto shadow = client.get_shadow("t1", "aiot");
  REQUIRE(shadow);
  CHECK(shadow->version == 7);
  CHECK(shadow->desired() == json{{"fw", "1.5"}});
  CHECK(shadow->reported() == json{{"fw", "1.4"}});
  fake->verify_done();
}

TEST_CASE("AWS wire: principals in x-amzn-principal, signed; policy and job documents as strings") {
  auto time = std::make_shared<FakeTime>();
  auto fake = std::make_shared<test::FakeTransport>();
  AwsClient client(fake, test_config(time));
  const std::string arn = "arn:aws:iot:eu-west-1:123456789012:cert/abc123";
  fake->expect("PUT", R"(https://iot\.eu-west-1\.amazonaws\.com/things/sensor-001/principals)")
      .inspect([&](const http::Request& r) {
        CHECK(http::find_header(r.headers, "x-amzn-principal") == arn);
        CHECK(http::find_header(r.headers, "Authorization")->find("host;x-amz-date;x-amzn-principal") !=
              std::string::npos);
        CHECK(r.body.empty());
      });
  client.attach_thing_principal("sensor-001", arn);

  fake->expect("POST", R"(.*/policies/aiot-device)").reply(200, R"({"policyName":"aiot-device"})").inspect([](const http::Request& r) {
    auto body = json::parse(r.body);
    REQUIRE(body["policyDocument"].is_string());
    auto doc = json::parse(body["policyDocument"].get<std::string>());
    CHECK(doc["Statement"][0]["Resource"] ==
          "arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}");
  });
  client.create_policy("aiot-device", AwsClient::device_policy("aws", "eu-west-1", "123456789012"));

  JobSpec spec;
  spec.job_id = "fw-1-5-0-canary";
  spec.targets = {"arn:aws:iot:eu-west-1:123456789012:thinggroup/canary"};
  spec.document = {{"operation", "install"}, {"version", "1.5.0"}};
  spec.rollout_config = {{"maximumPerMinute", 100}};
  spec.abort_config = {{"criteriaList", json::array({{{"failureType", "FAILED"}, {"action", "CANCEL"},
                                                      {"thresholdPercentage", 10.0}, {"minNumberOfExecutedThings", 20}}})}};
  spec.timeout_config = {{"inProgressTimeoutInMinutes", 60}};
  fake->expect("PUT", R"(.*/jobs/fw-1-5-0-canary)").reply(200, R"({"jobId":"fw-1-5-0-canary"})").inspect([](const http::Request& r) {
    auto body = json::parse(r.body);
    REQUIRE(body["document"].is_string());
    CHECK(json::parse(body["document"].get<std::string>())["version"] == "1.5.0");
    CHECK(body["targetSelection"] == "SNAPSHOT");
    CHECK(body["jobExecutionsRolloutConfig"]["maximumPerMinute"] == 100);
    CHECK(body["abortConfig"]["criteriaList"][0]["action"] == "CANCEL");
    CHECK(body["timeoutConfig"]["inProgressTimeoutInMinutes"] == 60);
    CHECK_FALSE(body.contains("jobExecutionsRetryConfig"));
  });
  CHECK(client.create_job(spec)["jobId"] == "fw-1-5-0-canary");

  fake->expect("PUT", R"(.*/jobs/j1/cancel\?force=true)").inspect([](const http::Request& r) {
    CHECK(json::parse(r.body) == json{{"reasonCode", "CANARY_FAILED"}, {"comment", "abort"}});
  });
  client.cancel_job("j1", "CANARY_FAILED", "abort", true);
  fake->verify_done();
}

TEST_CASE("AWS wire: a 400 ThrottlingException is retried with backoff, then succeeds") {
  auto time = std::make_shared<FakeTime>();
  auto fake = std::make_shared<test::FakeTransport>();
  AwsClient client(fake, test_config(time));
  fake->expect("GET", R"(.*/things/t1)")
      .reply(400, R"({"message":"Rate exceeded"})", {{"x-amzn-ErrorType", "ThrottlingException"}})
      .then(200, R"({"thingName":"t1","version":3,"attributes":{"a":"b"}})");
  auto thing = client.describe_thing("t1");
  REQUIRE(thing);
  CHECK(thing->version == 3);
  CHECK(thing->attributes.at("a") == "b");
  CHECK(client.control_client().stats().retries == 1);
  CHECK(client.control_client().stats().throttled == 1);
  CHECK_FALSE(time->sleeps.empty());
  fake->verify_done();
}

TEST_CASE("AWS wire: ListThings pages with nextToken; things in a group; job executions") {
  auto time = std::make_shared<FakeTime>();
  auto fake = std::make_shared<test::FakeTransport>();
  AwsClient client(fake, test_config(time));
  fake->expect("GET", R"(.*/things\?maxResults=2)").reply(200, R"({"things":[{"thingName":"a"},{"thingName":"b"}],"nextToken":"t/1=="})");
  fake->expect("GET", R"(.*/things\?maxResults=2&nextToken=t%2F1%3D%3D)").reply(200, R"({"things":[{"thingName":"c"}]})");
  auto first = client.list_things("", 2);
  CHECK(first.things.size() == 2);
  CHECK(first.next_token == "t/1==");
  auto second = client.list_things(first.next_token, 2);
  CHECK(second.things.size() == 1);
  CHECK(second.next_token.empty());

  fake->expect("GET", R"(.*/thing-groups/canary/things\?maxResults=250)").reply(200, R"({"things":["a","b"],"nextToken":"n"})");
  fake->expect("GET", R"(.*/thing-groups/canary/things\?maxResults=250&nextToken=n)").reply(200, R"({"things":["c"]})");
  CHECK(client.list_things_in_thing_group("canary") == std::vector<std::string>{"a", "b", "c"});

  fake->expect("GET", R"(.*/jobs/j1/things\?maxResults=250&status=FAILED)")
      .reply(200, R"({"executionSummaries":[{"thingArn":"arn:t/a","jobExecutionSummary":{"status":"FAILED"}}]})");
  auto failed = client.list_job_executions("j1", "FAILED");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]["jobExecutionSummary"]["status"] == "FAILED");

  fake->expect("PUT", R"(.*/thing-groups/addThingToThingGroup)").inspect([](const http::Request& r) {
    CHECK(json::parse(r.body) == json{{"thingGroupName", "canary"}, {"thingName", "a"}});
  });
  client.add_thing_to_thing_group("canary", "a");
  fake->verify_done();
}

TEST_CASE("AWS wire: shadow version conflicts are preconditions; the data endpoint is discovered") {
  auto time = std::make_shared<FakeTime>();
  auto fake = std::make_shared<test::FakeTransport>();
  AwsClient client(fake, test_config(time, ""));
  fake->expect("GET", R"(https://iot\.eu-west-1\.amazonaws\.com/endpoint\?endpointType=iot%3AData-ATS)")
      .reply(200, R"({"endpointAddress":"abc-ats.iot.eu-west-1.amazonaws.com"})");
  fake->expect("POST", R"(https://abc-ats\.iot\.eu-west-1\.amazonaws\.com/things/t1/shadow\?name=aiot)")
      .reply(409, R"({"code":409,"message":"Version conflict"})")
      .inspect([](const http::Request& r) { CHECK(json::parse(r.body)["version"] == 4); });
  try {
    client.update_shadow("t1", "aiot", {{"desired", {{"fw", "2"}}}}, 4);
    FAIL("expected a precondition error");
  } catch (const Error& e) {
    CHECK(e.reason() == Reason::precondition_failed);
  }
  fake->verify_done();
}

TEST_CASE("AWS rates: the reference's default TPS") {
  CHECK(default_rate("CreateThing") == 100);
  CHECK(default_rate("ListThings") == 10);
  CHECK(default_rate("DescribeThing") == 350);
  CHECK(default_rate("CreateDynamicThingGroup") == 5);
  CHECK(default_rate("SomethingElse") == 10);
  CHECK(default_control_endpoint("eu-west-1") == "https://iot.eu-west-1.amazonaws.com");
  CHECK(default_control_endpoint("cn-north-1") == "https://iot.cn-north-1.amazonaws.com.cn");
}

TEST_CASE("AWS wire: SearchIndex pages, parses the shadow string, finds named shadows") {
  auto time = std::make_shared<FakeTime>();
  auto fake = std::make_shared<test::FakeTransport>();
  AwsClient client(fake, test_config(time));
  // The shadow string as AWS returns it: the classic shadow's sections at the top, named ones under "name".
  const std::string shadow =
      json{{"reported", {{"fw", "1"}}},
           {"name",
            {{"aiot-health", {{"reported", {{"crashes_1h", 2}}}, {"hasDelta", false}, {"version", 3}}},
             {"aiot", {{"desired", {{"aiot", {{"model", {{"version", "2.0"}}}}}}}, {"version", 9}}}}}}
          .dump();
  fake->expect("POST", R"(https://iot\.eu-west-1\.amazonaws\.com/indices/search)")
      .inspect([](const http::Request& r) {
        CHECK(verified_service(r) == "iot");
        auto body = json::parse(r.body);
        CHECK(body["indexName"] == "AWS_Things");
        CHECK(body["queryString"] == "thingGroupNames:wave-1");
        CHECK(body["maxResults"] == 100);
        CHECK_FALSE(body.contains("nextToken"));
      })
      .reply(200, json{{"things",
                        json::array({{{"thingName", "dev-1"},
                                      {"thingId", "id-1"},
                                      {"thingGroupNames", {"wave-1", "fleet"}},
                                      {"attributes", {{"site", "lyon"}}},
                                      {"shadow", shadow}}})},
                       {"nextToken", "p2"}}
                          .dump());
  fake->expect("POST", R"(.*/indices/search)")
      .inspect([](const http::Request& r) { CHECK(json::parse(r.body)["nextToken"] == "p2"); })
      .reply(200, R"({"things":[{"thingName":"dev-2","thingGroupNames":["wave-1"]}]})");
  auto all = client.search_all("thingGroupNames:wave-1");
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "dev-1");
  CHECK(all[0].id == "id-1");
  CHECK(all[0].groups == std::vector<std::string>{"wave-1", "fleet"});
  CHECK(all[0].attributes.at("site") == "lyon");
  CHECK(AwsClient::named_shadow_state(all[0], "aiot-health") == json{{"reported", {{"crashes_1h", 2}}}});
  CHECK(AwsClient::named_shadow_state(all[0], "aiot")["desired"]["aiot"]["model"]["version"] == "2.0");
  CHECK(AwsClient::named_shadow_state(all[0], "") == json{{"reported", {{"fw", "1"}}}});
  CHECK(AwsClient::named_shadow_state(all[0], "other").is_null());
  CHECK(all[1].shadow.is_null());
  CHECK(AwsClient::named_shadow_state(all[1], "aiot-health").is_null());
  fake->verify_done();

  fake->expect("POST", R"(.*/indices/search)")
      .reply(400, R"({"message":"Syntax error at 3"})", {{"x-amzn-ErrorType", "InvalidQueryException"}});
  CHECK_THROWS_AS(client.search_index("a:("), Error);
  fake->verify_done();
}

TEST_CASE("AWS wire: ListThings by attribute, ListJobs pages with filters, AddThingToThingGroup as a request") {
  auto time = std::make_shared<FakeTime>();
  auto fake = std::make_shared<test::FakeTransport>();
  AwsClient client(fake, test_config(time));
  fake->expect("GET", R"(.*/things\?maxResults=250&attributeName=aiotController&attributeValue=true)")
      .reply(200, R"({"things":[{"thingName":"aiot-ctl-r1","attributes":{"aiotController":"true"}}]})");
  auto page = client.list_things_with_attribute("aiotController", "true");
  REQUIRE(page.things.size() == 1);
  CHECK(page.things[0].name == "aiot-ctl-r1");
  CHECK(page.next_token.empty());

  fake->expect("GET", R"(.*/jobs\?maxResults=250&status=IN_PROGRESS&thingGroupName=wave-1)")
      .reply(200, R"({"jobs":[{"jobId":"a","status":"IN_PROGRESS"}],"nextToken":"n1"})");
  fake->expect("GET", R"(.*/jobs\?maxResults=250&status=IN_PROGRESS&thingGroupName=wave-1&nextToken=n1)")
      .reply(200, R"({"jobs":[{"jobId":"b","status":"IN_PROGRESS"}]})");
  auto jobs = client.list_jobs("wave-1", "IN_PROGRESS");
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[1]["jobId"] == "b");

  auto request = client.add_thing_to_thing_group_request("wave-1", "dev:1");
  CHECK(request.method == "PUT");
  CHECK(request.url == "https://iot.eu-west-1.amazonaws.com/thing-groups/addThingToThingGroup");
  CHECK(json::parse(request.body) == json{{"thingGroupName", "wave-1"}, {"thingName", "dev:1"}});
  fake->expect("PUT", R"(.*/thing-groups/addThingToThingGroup)").reply(200, "{}");
  fake->expect("PUT", R"(.*/thing-groups/addThingToThingGroup)")
      .reply(404, R"({"message":"Thing dev:2 cannot be found."})", {{"x-amzn-ErrorType", "ResourceNotFoundException"}});
  auto answers = client.call_all({request, client.add_thing_to_thing_group_request("wave-1", "dev:2")},
                                 "AddThingToThingGroup");
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].status + answers[1].status == 200 + 404);
  fake->verify_done();
}
