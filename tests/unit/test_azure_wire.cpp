// The IoT Hub wire format: error bodies (both forms), retry classification, etags, device/twin
// mapping, bulk bodies and results.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aiot/hub/azure/azure_wire.hpp"

using namespace aiot;
using namespace aiot::hub;
using namespace aiot::hub::azure;
using nlohmann::json;

namespace {

http::Response answer(int status, std::string body, http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

const std::string k_current_404 =
    R"({"Message":"{\"errorCode\":404001,\"trackingId\":\"abc123-G:5\",\"message\":\"Device d1 not found\",)"
    R"(\"info\":{},\"timestampUtc\":\"2026-11-26T01:00:00Z\"}","ExceptionMessage":""})";

}  // namespace

TEST_CASE("error body, current form: the code comes from the JSON inside Message") {
  auto e = parse_error(404, {{"iothub-errorcode", "DeviceNotFound"}}, k_current_404);
  CHECK(e.code == "404001");
  CHECK(e.name == "DeviceNotFound");
  CHECK(e.message == "Device d1 not found");
  CHECK(e.tracking_id == "abc123-G:5");
  CHECK(describe(e) == "IoT Hub 404001 DeviceNotFound: Device d1 not found");
}

TEST_CASE("error body, current form without the header: the name comes from the table") {
  auto e = parse_error(404, {}, k_current_404);
  CHECK(e.name == "DeviceNotFound");
}

TEST_CASE("error body, legacy form: ErrorCode:<Name>;<text> and the tracking id") {
  auto e = parse_error(409, {},
                       R"({"Message":"ErrorCode:DeviceAlreadyExists;A device with ID 'd1' is already registered.",)"
                       R"("ExceptionMessage":"Tracking ID:f00d-G:11-TimeStamp:07/16/2016 00:12:41"})");
  CHECK(e.name == "DeviceAlreadyExists");
  CHECK(e.code == "409001");
  CHECK(e.message == "A device with ID 'd1' is already registered.");
  CHECK(e.tracking_id == "f00d-G:11");
  CHECK(describe(e) == "IoT Hub 409001 DeviceAlreadyExists: A device with ID 'd1' is already registered.");
}

TEST_CASE("error body: throttling body of the real hub, unknown names and non-JSON answers") {
  auto t = parse_error(429, {},
                       R"({"Message":"ErrorCode:ThrottlingBacklogTimeout;The request has been throttled. Wait 10 seconds.",)"
                       R"("ExceptionMessage":""})");
  CHECK(t.name == "ThrottlingBacklogTimeout");
  CHECK(t.code.empty());
  CHECK(describe(t) == "IoT Hub ThrottlingBacklogTimeout: The request has been throttled. Wait 10 seconds.");
  auto html = parse_error(502, {}, "<html>\nBad gateway\n</html>");
  CHECK(describe(html) == "IoT Hub HTTP 502: <html> Bad gateway </html>");
  auto empty = parse_error(503, {}, "");
  CHECK(describe(empty) == "IoT Hub HTTP 503");
}

TEST_CASE("error bodies the emulator writes parse back") {
  auto current = parse_error(401, {}, error_body(401003, "bad signature", "t1", "2026-11-26T01:00:00Z"));
  CHECK(current.code == "401003");
  CHECK(current.name == "IotHubUnauthorized");
  CHECK(current.message == "bad signature");
  auto legacy = parse_error(429, {}, legacy_error_body("ThrottlingException", "slow down", "t2", "now"));
  CHECK(legacy.name == "ThrottlingException");
  CHECK(legacy.code == "429001");
  CHECK(legacy.tracking_id == "t2");
  CHECK(error_name(412001) == "PreconditionFailed");
  CHECK(error_code("ThrottleBacklogLimitExceeded") == 429002);
  CHECK(error_code("NoSuchThing") == 0);
}

TEST_CASE("errors map to aiot kinds and exit codes") {
  auto not_found = to_error(answer(404, k_current_404), "get device 'd1'");
  CHECK(not_found.reason() == Reason::not_found);
  CHECK(not_found.message() == "get device 'd1': IoT Hub 404001 DeviceNotFound: Device d1 not found");
  CHECK(not_found.hint().find("abc123") != std::string::npos);
  CHECK(to_error(answer(401, error_body(401003, "x", "t", "n")), "c").code() == ExitCode::auth);
  CHECK(to_error(answer(403, ""), "c").code() == ExitCode::auth);
  CHECK(to_error(answer(409, ""), "c").reason() == Reason::conflict);
  CHECK(to_error(answer(412, ""), "c").reason() == Reason::precondition_failed);
  CHECK(to_error(answer(400, ""), "c").code() == ExitCode::usage);
  CHECK(to_error(answer(429, ""), "c").code() == ExitCode::unavailable);
  CHECK(to_error(answer(503, ""), "c").code() == ExitCode::unavailable);
  http::Response refused;
  refused.transport_error = http::TransportError::connect;
  refused.error_text = "Connection refused";
  auto down = to_error(refused, "list devices");
  CHECK(down.code() == ExitCode::unavailable);
  CHECK(down.message() == "list devices: no answer from IoT Hub: Connection refused");
}

TEST_CASE("retry classification: throttling, 5xx and resets retry; other 4xx and TLS do not") {
  CHECK(classify(answer(200, "")) == http::Verdict::success);
  CHECK(classify(answer(204, "")) == http::Verdict::success);
  CHECK(classify(answer(429, legacy_error_body("ThrottlingException", "", "", ""))) == http::Verdict::retry);
  CHECK(classify(answer(408, "")) == http::Verdict::retry);
  CHECK(classify(answer(500, "")) == http::Verdict::retry);
  CHECK(classify(answer(503, "")) == http::Verdict::retry);
  CHECK(classify(answer(501, "")) == http::Verdict::fail);
  for (int status : {400, 401, 403, 404, 409, 412}) {
    CAPTURE(status);
    CHECK(classify(answer(status, "")) == http::Verdict::fail);
  }
  http::Response reset;
  reset.transport_error = http::TransportError::reset;
  CHECK(classify(reset) == http::Verdict::retry);
  http::Response tls;
  tls.transport_error = http::TransportError::tls;
  CHECK(classify(tls) == http::Verdict::fail);
}

TEST_CASE("etags: If-Match is quoted, answers are unquoted") {
  CHECK(quote_etag("AAAA") == "\"AAAA\"");
  CHECK(quote_etag("\"AAAA\"") == "\"AAAA\"");
  CHECK(quote_etag("*") == "*");
  CHECK(unquote_etag("\"AAAA\"") == "AAAA");
  CHECK(unquote_etag("W/\"x\"") == "x");
  CHECK(unquote_etag("plain") == "plain");
}

TEST_CASE("auth on the wire: sas keys, one thumbprint per slot, CA without material") {
  Auth sas;
  sas.primary_key = "k1";
  CHECK(to_wire_auth(sas) == json{{"type", "sas"}, {"symmetricKey", {{"primaryKey", "k1"}, {"secondaryKey", ""}}}});
  Auth x509;
  x509.type = AuthType::self_signed;
  x509.primary = {std::string(40, 'A'), std::string(64, 'B')};
  x509.secondary = {"", std::string(64, 'c')};
  auto wire = to_wire_auth(x509);
  CHECK(wire["x509Thumbprint"]["primaryThumbprint"] == std::string(40, 'A'));
  CHECK(wire["x509Thumbprint"]["secondaryThumbprint"] == std::string(64, 'c'));
  auto back = auth_from_wire(wire);
  CHECK(back.type == AuthType::self_signed);
  CHECK(back.primary.sha1 == std::string(40, 'A'));
  CHECK(back.primary.sha256.empty());
  CHECK(back.secondary.sha256 == std::string(64, 'C'));
  CHECK(back == wire_view(x509));
  Auth ca;
  ca.type = AuthType::certificate_authority;
  CHECK(to_wire_auth(ca) == json{{"type", "certificateAuthority"}});
  CHECK(auth_from_wire(json{{"type", "certificateAuthority"}, {"symmetricKey", {{"primaryKey", "x"}}}}).primary_key.empty());
}

TEST_CASE("device identity and twin answers merge into a Device") {
  json identity = {{"deviceId", "cam-1"},
                   {"generationId", "g1"},
                   {"etag", "ODg="},
                   {"status", "disabled"},
                   {"authentication", {{"type", "sas"}, {"symmetricKey", {{"primaryKey", "p"}, {"secondaryKey", "s"}}}}}};
  Device d = from_identity(identity);
  CHECK(d.id == "cam-1");
  CHECK_FALSE(d.enabled);
  CHECK(d.etag == "ODg=");
  CHECK(d.auth.primary_key == "p");
  json twin = {{"deviceId", "cam-1"},
               {"etag", "AAAAAAAAAAM="},
               {"deviceEtag", "ODg="},
               {"version", 3},
               {"status", "disabled"},
               {"authenticationType", "sas"},
               {"tags", {{"site", "berlin"}}},
               {"properties",
                {{"desired", {{"fan", "on"}, {"$version", 2}, {"$metadata", {{"x", 1}}}}},
                 {"reported", {{"temp", 21}, {"$version", 5}}}}}};
  apply_twin(d, twin);
  CHECK(d.twin_etag == "AAAAAAAAAAM=");
  CHECK(d.version == 3);
  CHECK(d.tags == json{{"site", "berlin"}});
  CHECK(d.desired == json{{"fan", "on"}});
  CHECK(d.desired_version == 2);
  CHECK(d.reported == json{{"temp", 21}});
  CHECK(d.reported_version == 5);
  CHECK(d.auth.primary_key == "p");  // the twin has no keys: the identity's stay
  Device from_query = from_twin(twin);
  CHECK(from_query.etag == "ODg=");
  CHECK(from_query.auth.type == AuthType::sas);
  CHECK(from_query.auth.primary_key.empty());
}

TEST_CASE("the emulator's twin and identity answers read back into the same device") {
  Device d;
  d.id = "x509-1";
  d.auth.type = AuthType::self_signed;
  d.auth.primary = {std::string(40, 'F'), ""};
  d.tags = {{"ring", "canary"}};
  d.desired = {{"aiot", {{"model", {{"version", "2.0"}}}}}};
  d.desired_version = 4;
  d.version = 7;
  d.etag = "MQ==";
  d.twin_etag = "Nw==";
  d.generation_id = "gen";
  Device back = from_identity(to_wire_identity(d, "2026-11-26T00:00:00Z"));
  apply_twin(back, to_wire_twin(d));
  CHECK(back.id == d.id);
  CHECK(back.auth == d.auth);
  CHECK(back.tags == d.tags);
  CHECK(back.desired == d.desired);
  CHECK(back.desired_version == 4);
  CHECK(back.version == 7);
  CHECK(back.etag == "MQ==");
  CHECK(back.twin_etag == "Nw==");
  CHECK(to_wire_twin(d)["x509Thumbprint"]["secondaryThumbprint"].is_null());
}

TEST_CASE("bulk bodies: create carries identity and twin seed, updateTwin only the twin") {
  Device d;
  d.id = "d1";
  d.auth.primary_key = "p";
  d.auth.secondary_key = "s";
  d.tags = {{"site", "x"}};
  auto create = to_export_import(d, "create");
  CHECK(create["id"] == "d1");
  CHECK(create["importMode"] == "create");
  CHECK(create["status"] == "enabled");
  CHECK(create["authentication"]["symmetricKey"]["primaryKey"] == "p");
  CHECK(create["tags"] == json{{"site", "x"}});
  CHECK_FALSE(create.contains("properties"));
  auto twin_only = to_export_import(d, "updateTwin");
  CHECK_FALSE(twin_only.contains("authentication"));
  CHECK_FALSE(twin_only.contains("status"));
  CHECK(twin_only["tags"] == json{{"site", "x"}});
  Device bare;
  bare.id = "d2";
  CHECK(to_export_import(bare, "updateTwin")["tags"] == json::object());  // clears the tags
  CHECK_FALSE(to_export_import(bare, "create").contains("tags"));

  auto req = from_export_import(create);
  CHECK(req.device.id == "d1");
  CHECK(req.mode == "create");
  CHECK(req.has_auth);
  CHECK(req.has_tags);
  CHECK_FALSE(req.has_desired);
  CHECK(req.device.auth.secondary_key == "s");
  CHECK_THROWS_AS(from_export_import(json::array()), Error);
}

TEST_CASE("bulk results: names or numbers, already-exists detection, error kinds") {
  auto r = parse_bulk_result(
      R"({"isSuccessful":false,"errors":[{"deviceId":"a","errorCode":"DeviceAlreadyExists","errorStatus":"exists","operation":"create"},)"
      R"({"deviceId":"b","errorCode":400004,"errorStatus":"bad key"}],"warnings":[{"deviceId":"c","warningCode":"DeviceRegisteredWithoutTwin","warningStatus":"w"}]})");
  REQUIRE(r);
  CHECK_FALSE(r->successful);
  REQUIRE(r->errors.size() == 2);
  CHECK(is_already_exists(r->errors[0]));
  CHECK_FALSE(is_already_exists(r->errors[1]));
  CHECK(r->errors[1].error_code == "400004");
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].error_code == "DeviceRegisteredWithoutTwin");
  auto e = bulk_item_error(r->errors[1], "create device 'b'");
  CHECK(e.code() == ExitCode::usage);
  CHECK(e.message() == "create device 'b': IoT Hub 400004 ArgumentInvalid: bad key");
  CHECK(bulk_item_error(r->errors[0], "c").reason() == Reason::conflict);
  CHECK_FALSE(parse_bulk_result("[1,2]"));
  CHECK_FALSE(parse_bulk_result("not json"));
  auto round_trip = parse_bulk_result(to_json(*r).dump());
  REQUIRE(round_trip);
  CHECK(round_trip->errors.size() == 2);
  CHECK(round_trip->errors[0].device_id == "a");
}

TEST_CASE("query text: canonical condition inside SELECT * FROM devices") {
  CHECK(device_query_text("") == "SELECT * FROM devices");
  auto q = device_query_text("tags.site='berlin'");
  CHECK(q.rfind("SELECT * FROM devices WHERE ", 0) == 0);
  CHECK(q.find("tags.site = 'berlin'") != std::string::npos);
  CHECK(device_query_text("SELECT * FROM devices WHERE status = 'enabled'") ==
        "SELECT * FROM devices WHERE status = 'enabled'");
  CHECK_THROWS_AS(device_query_text("tags.site = "), Error);
  CHECK(quote_literal("it's") == "'it''s'");
}
