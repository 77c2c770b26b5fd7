// SigV4: the official aws-c-auth v4 suite (read from ../shared/testdata/sigv4, never copied into
// the repository) and IoT requests captured from awscli (../shared/reference/aws-iot.md §7).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "aiot/auth/cloud/sigv4.hpp"
#include "aiot/core/time.hpp"

using namespace aiot;

namespace {

std::filesystem::path suite_dir() { return std::filesystem::path(AIOT_SOURCE_DIR) / ".." / "shared" / "testdata" / "sigv4"; }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// request.txt: "METHOD target HTTP/1.1", then Name:value lines (a line starting with whitespace
// continues the previous value), then an optional blank line and the body.
sigv4::SignableRequest parse_request(const std::string& text) {
  sigv4::SignableRequest r;
  std::size_t pos = text.find('\n');
  std::string first = text.substr(0, pos);
  auto sp = first.find(' ');
  r.method = first.substr(0, sp);
  std::string rest = first.substr(sp + 1);
  const std::string suffix = " HTTP/1.1";
  REQUIRE(rest.size() > suffix.size());
  REQUIRE(rest.substr(rest.size() - suffix.size()) == suffix);
  r.target = rest.substr(0, rest.size() - suffix.size());
  std::size_t start = pos + 1;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) {
      r.body = start < text.size() ? text.substr(start) : std::string();
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      REQUIRE(!r.headers.empty());
      r.headers.back().second += "\n" + line;
      continue;
    }
    auto colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

sigv4::Credentials example_credentials() { return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}; }

}  // namespace

TEST_CASE("SigV4: every case of the official v4 suite (header signing)") {
  auto dir = suite_dir();
  if (!std::filesystem::is_directory(dir)) {
    MESSAGE("SKIPPED: the SigV4 suite is not at " << dir.string() << " (it lives in ../shared/testdata/sigv4)");
    return;
  }
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_directory()) {
      continue;
    }
    const auto name = entry.path().filename().string();
    CAPTURE(name);
    auto context = nlohmann::json::parse(slurp(entry.path() / "context.json"));
    auto request = parse_request(slurp(entry.path() / "request.txt"));
    sigv4::Credentials creds{context["credentials"]["access_key_id"], context["credentials"]["secret_access_key"],
                             context["credentials"].value("token", "")};
    sigv4::Config config;
    config.region = context["region"];
    config.service = context["service"];
    config.time = *parse_rfc3339(context["timestamp"].get<std::string>());
    config.normalize_path = context.value("normalize", true);
    config.add_content_sha256_header = context.value("sign_body", false);
    config.omit_session_token = context.value("omit_session_token", false);
    auto signed_ = sigv4::sign(request, creds, config);
    CHECK(signed_.canonical_request == slurp(entry.path() / "header-canonical-request.txt"));
    CHECK(signed_.string_to_sign == slurp(entry.path() / "header-string-to-sign.txt"));
    CHECK(signed_.signature == slurp(entry.path() / "header-signature.txt"));

    // The verifier (the emulator's side) accepts what the signer produced.
    std::string authorization;
    for (const auto& [n, v] : request.headers) {
      if (n == "Authorization") {
        authorization = v;
      }
    }
    auto parsed = sigv4::parse_authorization(authorization);
    REQUIRE(parsed);
    auto again = sigv4::recompute(request, *parsed, creds.secret_access_key, config);
    CHECK(again.signature == signed_.signature);
    ++cases;
  }
  CHECK(cases == 38);
}

TEST_CASE("SigV4: awscli CreateThing capture (execute-api scope) reproduces the captured signature") {
  sigv4::SignableRequest r;
  r.method = "POST";
  r.target = "/things/sensor-001";
  r.headers = {{"Host", "127.0.0.1:18931"},
               {"Accept-Encoding", "identity"},
               {"Content-Type", "application/json"},
               {"User-Agent", "aws-cli/2.9.19 Python/3.11.2"}};
  r.body =
      R"({"thingTypeName": "camera", "attributePayload": {"attributes": {"site": "plant-7", "fw": "1.4.2"}, "merge": false}})";
  sigv4::Config c;
  c.region = "us-east-1";
  c.service = "execute-api";
  c.time = *parse_rfc3339("2026-11-25T20:18:29Z");
  auto s = sigv4::sign(r, example_credentials(), c);
  CHECK(s.signed_headers == "content-type;host;x-amz-date");
  CHECK(s.canonical_request.substr(s.canonical_request.rfind('\n') + 1) ==
        "7ea1edca52b48ae7d3845960743230b2971a951a95aad2933ed80b9c6566341d");
  CHECK(s.string_to_sign.substr(s.string_to_sign.rfind('\n') + 1) ==
        "ba56a6e563a1ad19eac771603d6acd19aab333fd05cf4d0dca6317a5066a5d74");
  CHECK(s.signature == "040cb1f9d816b1753dd1fa12a939ff7fb9adefa763cd1973b62e53cc6f204aea");
}

TEST_CASE("SigV4: awscli CreateJob capture (document as a JSON string)") {
  sigv4::SignableRequest r;
  r.method = "PUT";
  r.target = "/jobs/fw-1-5-0-canary";
  r.headers = {{"Host", "127.0.0.1:18931"}, {"Content-Type", "application/json"}};
  r.body =
      R"({"targets": ["arn:aws:iot:us-east-1:123456789012:thinggroup/canary"], "document": "{\"operation\":\"install\",\"version\":\"1.5.0\"}", "targetSelection": "SNAPSHOT", "jobExecutionsRolloutConfig": {"exponentialRate": {"baseRatePerMinute": 10, "incrementFactor": 2.0, "rateIncreaseCriteria": {"numberOfSucceededThings": 20}}, "maximumPerMinute": 100}, "abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 10.0, "minNumberOfExecutedThings": 20}]}, "timeoutConfig": {"inProgressTimeoutInMinutes": 60}, "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 2}]}})";
  REQUIRE(r.body.size() == 646);
  sigv4::Config c;
  c.region = "us-east-1";
  c.service = "execute-api";
  c.time = *parse_rfc3339("2026-11-25T20:18:29Z");
  auto s = sigv4::sign(r, example_credentials(), c);
  CHECK(s.signature == "0dcd54741fa5955e0cd7330490f5dcca40200be31719f60eb007b4bc05aad7d6");
}

TEST_CASE("SigV4: paths are double-encoded except in S3 mode") {
  sigv4::Config iot;
  CHECK(sigv4::canonical_uri("/things/edge%3Acam-01", iot) == "/things/edge%253Acam-01");
  CHECK(sigv4::canonical_uri("/jobs/$next", iot) == "/jobs/%24next");
  CHECK(sigv4::canonical_uri("", iot) == "/");
  CHECK(sigv4::canonical_uri("/a/./b/../c//d/", iot) == "/a/c/d/");
  sigv4::Config s3;
  s3.normalize_path = false;
  s3.double_encode_path = false;
  CHECK(sigv4::canonical_uri("/bucket/a%3Ab//./c", s3) == "/bucket/a%3Ab//./c");
}

TEST_CASE("SigV4: canonical query decodes, re-encodes with %20 and sorts") {
  CHECK(sigv4::canonical_query("attributeName=site&attributeValue=plant%207&maxResults=2") ==
        "attributeName=site&attributeValue=plant%207&maxResults=2");
  CHECK(sigv4::canonical_query("b=2&a=1&a=0&flag") == "a=0&a=1&b=2&flag=");
  CHECK(sigv4::canonical_query("name=a:b") == "name=a%3Ab");
  CHECK(sigv4::canonical_query("") == "");
}

TEST_CASE("SigV4: session token, verification failures and Authorization parsing") {
  sigv4::SignableRequest r{"GET", "/things/t1", {{"Host", "h:1"}}, ""};
  sigv4::Credentials creds = example_credentials();
  creds.session_token = "TOKEN";
  sigv4::Config c{"eu-west-1", "iot", *parse_rfc3339("2026-01-02T03:04:05Z")};
  auto s = sigv4::sign(r, creds, c);
  CHECK(s.signed_headers == "host;x-amz-date;x-amz-security-token");
  CHECK(s.authorization.find("Credential=AKIDEXAMPLE/20260102/eu-west-1/iot/aws4_request") != std::string::npos);

  // Signing twice (a retry) replaces the previous auth headers instead of adding more.
  sigv4::sign(r, creds, c);
  int authorizations = 0;
  for (const auto& h : r.headers) {
    authorizations += h.first == "Authorization" ? 1 : 0;
  }
  CHECK(authorizations == 1);

  auto parsed = sigv4::parse_authorization(s.authorization);
  REQUIRE(parsed);
  CHECK(parsed->service == "iot");
  CHECK(parsed->region == "eu-west-1");
  CHECK(parsed->signed_headers.size() == 3);
  CHECK(sigv4::recompute(r, *parsed, creds.secret_access_key, c).signature == s.signature);
  CHECK(sigv4::recompute(r, *parsed, "wrong-secret", c).signature != s.signature);
  auto tampered = r;
  tampered.target = "/things/t2";
  CHECK(sigv4::recompute(tampered, *parsed, creds.secret_access_key, c).signature != s.signature);

  CHECK_FALSE(sigv4::parse_authorization("Bearer x"));
  CHECK_FALSE(sigv4::parse_authorization("AWS4-HMAC-SHA256 Credential=AK/2026/us/iot/aws4_request, Signature=ab"));
  CHECK_FALSE(sigv4::parse_authorization("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab"));
  CHECK(sigv4::equal_constant_time("abc", "abc"));
  CHECK_FALSE(sigv4::equal_constant_time("abc", "abd"));
  CHECK_FALSE(sigv4::equal_constant_time("abc", "ab"));
}
