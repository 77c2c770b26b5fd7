#include <doctest/doctest.h>

#include "aiot/core/error.hpp"
#include "aiot/fleet/device_file.hpp"

using namespace aiot;
using namespace aiot::fleet;

TEST_CASE("device files: CSV rows with tags, bad rows named by line") {
  std::string csv =
      "id,auth,status,tags.site,tags.hw\n"
      "dev-1,sas,enabled,berlin,pi4\n"
      "dev-2,,disabled,\"paris, 2nd\",\n"
      "bad id,sas,enabled,x,y\n"
      "dev-4,sas,enabled,\"unclosed\n"
      "dev-5,sas\n";
  auto f = parse_device_file(csv, FileFormat::csv, "fleet.csv");
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[0].spec.id == "dev-1");
  CHECK(f.rows[0].line == 2);
  CHECK(f.rows[0].spec.tags == nlohmann::json{{"site", "berlin"}, {"hw", "pi4"}});
  CHECK(f.rows[1].spec.tags == nlohmann::json{{"site", "paris, 2nd"}});  // empty cell = no tag
  CHECK_FALSE(f.rows[1].spec.enabled);
  REQUIRE(f.errors.size() == 2);
  CHECK(f.errors[0].line == 4);
  CHECK(f.errors[0].message.find("device id") != std::string::npos);
  CHECK(f.errors[1].line == 5);  // the unclosed quote swallows the rest of the file into one bad record
  CHECK(f.errors[1].message.find("quoted field is not closed") != std::string::npos);
}

TEST_CASE("device files: CSV field count, quotes, duplicates and the header") {
  auto f = parse_device_file("id,auth\na,sas\nb\nc,\"sas\"x\na,sas\n", FileFormat::csv, "f.csv");
  REQUIRE(f.rows.size() == 1);
  REQUIRE(f.errors.size() == 3);
  CHECK(f.errors[0].line == 3);
  CHECK(f.errors[0].message == "1 fields, the header has 2");
  CHECK(f.errors[1].line == 4);
  CHECK(f.errors[2].line == 5);
  CHECK(f.errors[2].message.find("appears earlier") != std::string::npos);
  try {
    parse_device_file("id,colour\na,red\n", FileFormat::csv, "f.csv");
    FAIL("expected a header error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::usage);
    CHECK(e.message() == "f.csv:1: header row: unknown field 'colour'");
  }
  CHECK_THROWS_AS(parse_device_file("auth\nsas\n", FileFormat::csv, "f.csv"), Error);
}

TEST_CASE("device files: thumbprints and keys are validated") {
  std::string sha1 = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01";
  auto f = parse_device_file("id,auth,primary_thumbprint,primary_key\n"
                             "x,x509-self-signed," + sha1 + ",\n"
                             "y,sas,,bm90IGJhc2U2NA\n"
                             "z,sas,ABCD,\n",
                             FileFormat::csv, "t.csv");
  REQUIRE(f.rows.size() == 1);
  CHECK(f.rows[0].spec.auth.primary.sha1 == "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
  REQUIRE(f.errors.size() == 2);
  CHECK(f.errors[0].line == 3);
  CHECK(f.errors[1].line == 4);
}

TEST_CASE("device files: YAML list with line numbers and typed tags") {
  std::string yaml =
      "- id: a\n"
      "  tags: {site: berlin, floor: 3, version: '2.0'}\n"
      "- id: b\n"
      "  auth: x509-ca\n"
      "- just a string\n"
      "- id: c\n"
      "  colour: red\n";
  auto f = parse_device_file(yaml, FileFormat::yaml, "f.yaml");
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[0].spec.tags["floor"] == 3);
  CHECK(f.rows[0].spec.tags["version"] == "2.0");
  CHECK(f.rows[1].spec.auth.type == hub::AuthType::certificate_authority);
  REQUIRE(f.errors.size() == 2);
  CHECK(f.errors[0].line == 5);
  CHECK(f.errors[1].line == 6);
  try {
    parse_device_file("- id: a\n  tags: {site: [unclosed\n", FileFormat::yaml, "bad.yaml");
    FAIL("expected a YAML syntax error");
  } catch (const Error& e) {
    CHECK(e.message().rfind("bad.yaml:", 0) == 0);
  }
}

TEST_CASE("device files: JSON Lines, blank lines skipped, broken lines reported") {
  auto f = parse_device_file("{\"id\":\"a\",\"tags\":{\"k\":\"v\"}}\n\n{\"id\":\"b\"\n[1]\n{\"id\":\"c\"}", FileFormat::jsonl, "f.jsonl");
  REQUIRE(f.rows.size() == 2);
  CHECK(f.rows[1].spec.id == "c");
  CHECK(f.rows[1].line == 5);
  REQUIRE(f.errors.size() == 2);
  CHECK(f.errors[0].line == 3);
  CHECK(f.errors[1].line == 4);
}

TEST_CASE("device files: export round-trips through import") {
  hub::Device a;
  a.id = "a";
  a.tags = {{"site", "berlin, DE"}, {"hw", "pi\"4"}};
  hub::Device b;
  b.id = "b";
  b.enabled = false;
  b.auth.type = hub::AuthType::self_signed;
  b.auth.primary = {std::string(40, 'A'), std::string(64, 'B')};
  for (auto fmt : {FileFormat::csv, FileFormat::jsonl}) {
    std::string text = fmt == FileFormat::csv ? to_csv({a, b}) : to_jsonl({a, b});
    auto f = parse_device_file(text, fmt, "export");
    CHECK(f.errors.empty());
    REQUIRE(f.rows.size() == 2);
    CHECK(hub::same_content(a, f.rows[0].spec));
    CHECK(hub::same_content(b, f.rows[1].spec));
    CHECK(f.rows[1].spec.auth.primary == b.auth.primary);
  }
  CHECK(detect_format("x.csv", "") == FileFormat::csv);
  CHECK(detect_format("x", "{\"id\":1}") == FileFormat::jsonl);
  CHECK(detect_format("x", "- id: a") == FileFormat::yaml);
}
