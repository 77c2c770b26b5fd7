// aiot config list|get|set|profiles|use, in-process.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aiot/config/settings.hpp"
#include "support/harness.hpp"

using aiot::test::Harness;
using aiot::test::read_text;
using aiot::test::write_text;
using nlohmann::json;

namespace {

std::filesystem::path user_file(const Harness& h) { return h.dir / "config" / "aiot" / "config.yaml"; }

// The row of `config list --show-origin -o json` for `key` (the output row then says "flag --output").
json list_row(Harness& h, const std::string& key) {
  auto r = h.run({"config", "list", "--show-origin", "-o", "json"});
  REQUIRE(r.code == 0);
  for (const auto& row : json::parse(r.out)) {
    if (row["key"] == key) {
      return row;
    }
  }
  FAIL("no row for " << key);
  return {};
}

}  // namespace

TEST_CASE("config get: the bare value for scripts") {
  Harness h;
  auto r = h.run({"config", "get", "output"});
  CHECK(r.code == 0);
  CHECK(r.out == "table\n");
  CHECK(r.err.empty());

  // The harness points AIOT_HUB at its temporary hub.
  CHECK(h.run({"config", "get", "hub"}).out == "local:" + h.hub_path().string() + "\n");
  CHECK(h.run({"config", "get", "profile"}).out == "default\n");

  auto structured = h.run({"config", "get", "hub", "-o", "json"});
  REQUIRE(structured.code == 0);
  auto j = json::parse(structured.out);
  CHECK(j["key"] == "hub");
  CHECK(j["origin"] == "env AIOT_HUB");

  auto unknown = h.run({"config", "get", "colour"});
  CHECK(unknown.code == 2);
  CHECK(unknown.out.empty());
  CHECK(unknown.err.find("unknown setting 'colour'") != std::string::npos);
  CHECK(unknown.err.find("hub, output, color") != std::string::npos);
}

TEST_CASE("config set: writes the user file, validates first, reads back") {
  Harness h;
  auto set = h.run({"config", "set", "output", "json"});
  REQUIRE(set.code == 0);
  CHECK(set.out.empty());
  CHECK(set.err == "Set output = json in " + user_file(h).string() + "\n");
  CHECK(h.run({"config", "get", "output"}).out == "json\n");
  REQUIRE(h.run({"config", "set", "aws.region", "eu-north-1"}).code == 0);
  CHECK(list_row(h, "aws.region")["origin"] == user_file(h).string());

  auto bad = h.run({"config", "set", "output", "xml"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("output: 'xml' is not one of table|json|yaml|csv") != std::string::npos);
  CHECK(h.run({"config", "get", "output"}).out == "json\n");

  CHECK(h.run({"config", "set", "nope", "1"}).code == 2);
  CHECK(h.run({"config", "set", "profile", "prod"}).code == 2);
  auto empty_profile = h.run({"config", "set", "--profile", "", "output", "csv"});
  CHECK(empty_profile.code == 2);
  CHECK(empty_profile.err.find("must not be empty") != std::string::npos);
  CHECK(h.run({"config", "get", "output"}).out == "json\n");

  // A relative path is anchored where it was typed.
  REQUIRE(h.run({"config", "set", "ca_dir", "fleet-ca"}).code == 0);
  CHECK(h.run({"config", "get", "ca_dir"}).out == (h.cwd / "fleet-ca").string() + "\n");
}

TEST_CASE("config set: a higher layer that still wins is pointed out") {
  Harness h;
  auto r = h.run({"config", "set", "hub", "local:other.db"});
  REQUIRE(r.code == 0);
  CHECK(r.err.find("hub is still 'local:" + h.hub_path().string() + "' here: env AIOT_HUB takes precedence") !=
        std::string::npos);

  write_text(h.cwd / ".aiot.yaml", "color: never\n");
  auto shadowed = h.run({"config", "set", "color", "always"});
  CHECK(shadowed.err.find((h.cwd / ".aiot.yaml").string() + " takes precedence") != std::string::npos);
  auto quiet = h.run({"config", "set", "output", "yaml"});
  CHECK(quiet.err.find("warning") == std::string::npos);
}

TEST_CASE("config list: every key, origins on request") {
  Harness h;
  h.env.set("AIOT_COLOR", "never");
  write_text(h.cwd / ".aiot.yaml", "ca_dir: /fleet/ca\naws:\n  region: eu-west-1\n");
  auto r = h.run({"config", "list", "--show-origin", "-o", "json"});
  REQUIRE(r.code == 0);
  auto rows = json::parse(r.out);
  REQUIRE(rows.size() == 1 + aiot::config::key_table().size());  // profile + every setting
  CHECK(list_row(h, "aws.policy")["value"] == "aiot-device");
  CHECK(rows[0] == json{{"key", "profile"}, {"value", "default"}, {"origin", "default"}});
  CHECK(list_row(h, "output")["origin"] == "flag --output");
  CHECK(list_row(h, "color")["origin"] == "env AIOT_COLOR");
  CHECK(list_row(h, "ca_dir")["origin"] == (h.cwd / ".aiot.yaml").string());
  CHECK(list_row(h, "aws.region")["value"] == "eu-west-1");
  CHECK(list_row(h, "aws.endpoint")["origin"] == "default");
  CHECK(list_row(h, "hub")["origin"] == "env AIOT_HUB");

  auto plain = h.run({"config", "list", "-o", "json"});
  CHECK_FALSE(json::parse(plain.out)[0].contains("origin"));
  // AIOT_OUTPUT=csv renders the list as csv without any flag.
  h.env.set("AIOT_OUTPUT", "csv");
  auto csv = h.run({"config", "list"});
  CHECK(csv.out.find("aws.region,eu-west-1") != std::string::npos);
}

TEST_CASE("config: profiles, use, and writing into a profile") {
  Harness h;
  h.env.unset("AIOT_HUB");  // so that the profiles' hubs show through
  REQUIRE(h.run({"config", "set", "--profile", "prod", "hub", "azure"}).code == 0);
  auto staged = h.run({"config", "set", "hub", "aws", "--profile", "staging"});
  REQUIRE(staged.code == 0);
  CHECK(staged.err.find("(profile staging)") != std::string::npos);
  CHECK(h.run({"config", "get", "hub"}).out == "local\n");

  auto profiles = h.run({"config", "profiles", "-o", "json"});
  REQUIRE(profiles.code == 0);
  auto rows = json::parse(profiles.out);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == json{{"name", "default"}, {"hub", "local"}, {"active", true}});
  CHECK(rows[1] == json{{"name", "prod"}, {"hub", "azure"}, {"active", false}});
  CHECK(rows[2]["name"] == "staging");

  CHECK(h.run({"--profile", "prod", "config", "get", "hub"}).out == "azure\n");
  // The global --profile also picks the section `config set` writes.
  REQUIRE(h.run({"--profile", "prod", "config", "set", "output", "yaml"}).code == 0);
  CHECK(h.run({"--profile", "prod", "config", "get", "output"}).out == "yaml\n");
  CHECK(h.run({"config", "get", "output"}).out == "table\n");

  auto use = h.run({"config", "use", "prod"});
  REQUIRE(use.code == 0);
  CHECK(use.err.find("Using profile prod") != std::string::npos);
  CHECK(h.run({"config", "get", "profile"}).out == "prod\n");
  CHECK(h.run({"config", "get", "hub"}).out == "azure\n");
  auto table = h.run({"config", "profiles", "-o", "table"});  // prod sets output: yaml
  CHECK(table.out.find("prod\tazure\t*") != std::string::npos);

  auto overridden = h.run({"--profile", "staging", "config", "get", "hub"});
  CHECK(overridden.out == "aws\n");
  h.env.set("AIOT_PROFILE", "default");
  CHECK(h.run({"config", "get", "hub"}).out == "local\n");
  auto shadowed = h.run({"config", "use", "staging"});
  CHECK(shadowed.err.find("env AIOT_PROFILE takes precedence") != std::string::npos);

  auto missing = h.run({"config", "use", "qa"});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("no profile 'qa'; profiles: default, prod, staging") != std::string::npos);
  CHECK(missing.err.find("config set --profile qa") != std::string::npos);

  auto bad_flag = h.run({"--profile", "qa", "config", "list"});
  CHECK(bad_flag.code == 2);
  CHECK(bad_flag.err.find("no profile 'qa'") != std::string::npos);

  auto text = read_text(user_file(h));
  CHECK(text.find("profile: staging") != std::string::npos);
  CHECK(text.find("profiles:") != std::string::npos);
}

TEST_CASE("config: a broken settings file stops every command with file:line") {
  Harness h;
  write_text(h.cwd / ".aiot.yaml", "output: json\nhbu: local\n");
  auto r = h.run({"config", "list"});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find((h.cwd / ".aiot.yaml").string() + ":2: unknown setting 'hbu'") != std::string::npos);

  write_text(h.cwd / ".aiot.yaml", "output: [json\n");
  auto malformed = h.run({"config", "get", "output"});
  CHECK(malformed.code == 2);
  CHECK(malformed.err.find((h.cwd / ".aiot.yaml").string() + ":2:1: ") != std::string::npos);

  std::filesystem::remove(h.cwd / ".aiot.yaml");
  h.env.set("AIOT_COLOR", "sometimes");
  auto env = h.run({"config", "get", "color"});
  CHECK(env.code == 2);
  CHECK(env.err.find("AIOT_COLOR: 'sometimes' is not one of auto|always|never") != std::string::npos);
}

TEST_CASE("config --config FILE replaces the user file for reading and writing") {
  Harness h;
  REQUIRE(h.run({"--config", "team.yaml", "config", "set", "aws.region", "us-east-2"}).code == 0);
  CHECK(read_text(h.cwd / "team.yaml").find("aws.region: us-east-2") != std::string::npos);
  CHECK(h.run({"--config", "team.yaml", "config", "get", "aws.region"}).out == "us-east-2\n");
  CHECK(h.run({"config", "get", "aws.region"}).out == "\n");
  CHECK_FALSE(std::filesystem::exists(user_file(h)));
}
