// Settings: layering with origins, profiles, file syntax and its errors, writing back.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "aiot/config/settings.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"

namespace stdfs = std::filesystem;
using aiot::Env;
using aiot::Error;
using aiot::ExitCode;
using namespace aiot::config;

namespace {

// A scratch folder with the four layers' files; the unit tests stay independent of the CLI harness.
struct Scratch {
  stdfs::path dir;
  Paths paths;
  Env env;

  Scratch() {
    std::random_device rd;
    dir = stdfs::temp_directory_path() / ("aiot-config-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    stdfs::create_directories(dir / "work");
    paths.system_file = dir / "etc" / "config.yaml";
    paths.user_file = dir / "config" / "aiot" / "config.yaml";
    paths.project_file = dir / "work" / ".aiot.yaml";
    paths.data_dir = dir / "data" / "aiot";
    env.set("HOME", (dir / "home").string());
  }
  ~Scratch() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
  }

  stdfs::path cwd() const { return dir / "work"; }

  void write(const stdfs::path& file, const std::string& text) const {
    stdfs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }

  Settings resolve(const FlagValues& flags = {}) const { return Settings::resolve_with(env, cwd(), paths, flags); }
};

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The message of the Error::usage that `f` throws; fails the test when it throws nothing or another code.
template <typename F>
std::string usage_error(F&& f, std::string* hint = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::usage);
    if (hint) {
      *hint = e.hint();
    }
    return e.message();
  }
  FAIL("expected an Error::usage");
  return {};
}

}  // namespace

TEST_CASE("config: key table and validation") {
  REQUIRE(find_key("hub") != nullptr);
  CHECK(std::string(find_key("hub")->env) == "AIOT_HUB");
  CHECK(find_key("azure.endpoint") != nullptr);
  CHECK(find_key("nope") == nullptr);
  for (const auto& spec : key_table()) {
    CHECK_NOTHROW(validate(spec, spec.default_value));
  }

  const KeySpec& output = *find_key("output");
  CHECK_NOTHROW(validate(output, "json"));
  CHECK(usage_error([&] { validate(output, "xml"); }) == "output: 'xml' is not one of table|json|yaml|csv");

  const KeySpec& hub = *find_key("hub");
  for (const char* ok : {"local", "local:/tmp/h.db", "azure", "aws"}) {
    CHECK_NOTHROW(validate(hub, ok));
  }
  CHECK(usage_error([&] { validate(hub, "local:"); }).find("needs a path") != std::string::npos);
  CHECK(usage_error([&] { validate(hub, "gcp"); }) == "hub: 'gcp' is not a hub: use local, local:PATH, azure or aws");
  CHECK(usage_error([&] { validate(hub, ""); }).starts_with("hub: "));
  CHECK_NOTHROW(validate(*find_key("ca_dir"), ""));

  // No duration key exists yet: check the kind itself on a spec of our own.
  KeySpec bake{"bake", "AIOT_BAKE", Kind::duration, "1h", "", "test"};
  CHECK_NOTHROW(validate(bake, "90s"));
  CHECK(usage_error([&] { validate(bake, "soon"); }).find("is not a duration") != std::string::npos);
}

TEST_CASE("config: defaults_and_paths") {
  Scratch s;
  auto settings = s.resolve();
  CHECK(settings.get("hub") == "local");
  CHECK(settings.get("output") == "table");
  CHECK(settings.get_with_origin("color").origin == "default");
  CHECK(settings.profile() == "default");
  CHECK(settings.profile_origin() == "default");
  CHECK(settings.profiles().size() == 1);
  CHECK(settings.profiles().at("default") == "local");
  CHECK_THROWS_AS(settings.get("nope"), Error);

  Env env(std::map<std::string, std::string>{{"HOME", "/home/u"}});
  auto p = default_paths(env, "/w", std::nullopt);
  CHECK(p.user_file == "/home/u/.config/aiot/config.yaml");
  CHECK(p.data_dir == "/home/u/.local/share/aiot");
  CHECK(p.project_file == "/w/.aiot.yaml");
  CHECK(p.system_file == "/etc/aiot/config.yaml");
  env.set("XDG_CONFIG_HOME", "/x/config");
  env.set("XDG_DATA_HOME", "/x/data");
  p = default_paths(env, "/w", std::nullopt);
  CHECK(p.user_file == "/x/config/aiot/config.yaml");
  CHECK(p.data_dir == "/x/data/aiot");
  p = default_paths(env, "/w", std::string("mine.yaml"));
  CHECK(p.user_file == "/w/mine.yaml");
  env.set("XDG_CONFIG_HOME", "relative/ignored");
  CHECK(default_paths(env, "/w", std::nullopt).user_file == "/home/u/.config/aiot/config.yaml");
}

TEST_CASE("config: each layer overrides the one below, with its origin") {
  Scratch s;
  s.write(s.paths.system_file, "hub: azure\noutput: csv\ncolor: never\naws.region: eu-west-1\nazure.endpoint: sys\n");
  s.write(s.paths.user_file, "hub: aws\noutput: yaml\ncolor: always\naws.region: us-east-1\n");
  s.write(s.paths.project_file, "output: json\ncolor: auto\n");
  s.env.set("AIOT_COLOR", "never");
  s.env.set("AIOT_AWS_REGION", "");  // empty counts as unset
  FlagValues flags;
  flags.values["hub"] = "local:/flag.db";

  auto settings = s.resolve(flags);
  CHECK(settings.get_with_origin("azure.endpoint").value == "sys");
  CHECK(settings.get_with_origin("azure.endpoint").origin == s.paths.system_file.string());
  CHECK(settings.get("aws.region") == "us-east-1");
  CHECK(settings.get_with_origin("aws.region").origin == s.paths.user_file.string());
  CHECK(settings.get("output") == "json");
  CHECK(settings.get_with_origin("output").origin == s.paths.project_file.string());
  CHECK(settings.get("color") == "never");
  CHECK(settings.get_with_origin("color").origin == "env AIOT_COLOR");
  CHECK(settings.get("hub") == "local:/flag.db");
  CHECK(settings.get_with_origin("hub").origin == "flag --hub");
  CHECK(settings.get_with_origin("ca_dir").origin == "default");

  flags.values["color"] = "never";
  CHECK(s.resolve(flags).get_with_origin("color").origin == "flag --no-color");
}

TEST_CASE("config: profiles") {
  Scratch s;
  s.write(s.paths.user_file,
          "hub: local\n"
          "output: table\n"
          "profile: staging\n"
          "profiles:\n"
          "  staging:\n"
          "    output: yaml\n"
          "  prod:\n"
          "    hub: azure\n"
          "    azure: {endpoint: https://prod}\n"
          "  empty:\n");
  s.write(s.paths.project_file, "profiles:\n  prod:\n    output: csv\n");

  SUBCASE("the file names the active profile") {
    auto settings = s.resolve();
    CHECK(settings.profile() == "staging");
    CHECK(settings.profile_origin() == s.paths.user_file.string());
    CHECK(settings.get("output") == "yaml");
    CHECK(settings.get_with_origin("output").origin == s.paths.user_file.string() + " (profile staging)");
    CHECK(settings.get_with_origin("hub").origin == s.paths.user_file.string());
    CHECK(settings.profiles().at("prod") == "azure");
    CHECK(settings.profiles().at("staging") == "local");
    CHECK(settings.profiles().at("default") == "local");
    CHECK(settings.profiles().contains("empty"));
    CHECK(settings.profiles().size() == 4);
  }
  SUBCASE("the environment beats the file, a flag beats the environment") {
    s.env.set("AIOT_PROFILE", "prod");
    auto settings = s.resolve();
    CHECK(settings.profile() == "prod");
    CHECK(settings.profile_origin() == "env AIOT_PROFILE");
    CHECK(settings.get("hub") == "azure");
    CHECK(settings.get("azure.endpoint") == "https://prod");
    // The project file's prod section beats the user file's.
    CHECK(settings.get("output") == "csv");
    CHECK(settings.get_with_origin("output").origin == s.paths.project_file.string() + " (profile prod)");

    FlagValues flags;
    flags.profile = "default";
    auto by_flag = s.resolve(flags);
    CHECK(by_flag.profile() == "default");
    CHECK(by_flag.profile_origin() == "flag --profile");
    CHECK(by_flag.get("output") == "table");
  }
  SUBCASE("an undefined profile is an error listing the defined ones") {
    FlagValues flags;
    flags.profile = "qa";
    std::string hint;
    CHECK(usage_error([&] { s.resolve(flags); }, &hint) == "no profile 'qa'; profiles: default, empty, prod, staging");
    CHECK(hint.find("profiles:") != std::string::npos);
  }
  SUBCASE("a file naming an undefined profile says where") {
    s.write(s.paths.project_file, "output: csv\nprofile: gone\n");
    CHECK(usage_error([&] { s.resolve(); }) ==
          s.paths.project_file.string() + ":2: no profile 'gone'; profiles: default, empty, prod, staging");
  }
}

TEST_CASE("config: nested and flat keys are the same setting") {
  Scratch s;
  s.write(s.paths.user_file, "azure:\n  endpoint: https://nested\n  connection_string_file: /secrets/cs\naws.region: eu-central-1\n");
  auto settings = s.resolve();
  CHECK(settings.get("azure.endpoint") == "https://nested");
  CHECK(settings.get("azure.connection_string_file") == "/secrets/cs");
  CHECK(settings.get("aws.region") == "eu-central-1");

  s.write(s.paths.user_file, "azure.endpoint: a\nazure:\n  endpoint: b\n");
  CHECK(usage_error([&] { s.resolve(); }) == s.paths.user_file.string() + ":3: 'azure.endpoint' is set twice (first on line 1)");
}

TEST_CASE("config: file errors carry file and line") {
  Scratch s;
  const auto file = s.paths.user_file.string();
  std::string hint;

  s.write(s.paths.user_file, "output: json\nhub: [local\n");
  auto malformed = usage_error([&] { s.resolve(); });
  CHECK(malformed.starts_with(file + ":"));
  // yaml-cpp reports the unclosed flow sequence on line 3 (end of input), column 1.
  CHECK(malformed.find(":3:1: ") != std::string::npos);

  s.write(s.paths.user_file, "output: json\n\nfoo: 1\n");
  CHECK(usage_error([&] { s.resolve(); }, &hint) == file + ":3: unknown setting 'foo'");
  CHECK(hint.find("hub, output, color") != std::string::npos);

  s.write(s.paths.user_file, "azure:\n  endpiont: x\n");
  CHECK(usage_error([&] { s.resolve(); }) == file + ":2: unknown setting 'azure.endpiont'");

  s.write(s.paths.user_file, "hub: local\noutput: xml\n");
  CHECK(usage_error([&] { s.resolve(); }) == file + ":2: output: 'xml' is not one of table|json|yaml|csv");

  // A bad value in a profile that is not active is still reported.
  s.write(s.paths.user_file, "profiles:\n  prod:\n    color: sometimes\n");
  CHECK(usage_error([&] { s.resolve(); }) == file + ":3: color: 'sometimes' is not one of auto|always|never");

  s.write(s.paths.user_file, "output: [json]\n");
  CHECK(usage_error([&] { s.resolve(); }) == file + ":1: output: expected a single value");

  s.write(s.paths.user_file, "- hub\n");
  CHECK(usage_error([&] { s.resolve(); }).starts_with(file + ":1: expected settings"));

  s.write(s.paths.user_file, "profiles: [a]\n");
  CHECK(usage_error([&] { s.resolve(); }).starts_with(file + ":1: profiles:"));
}

TEST_CASE("config: bad environment and flag values name their source") {
  Scratch s;
  s.env.set("AIOT_OUTPUT", "xml");
  std::string hint;
  CHECK(usage_error([&] { s.resolve(); }, &hint) == "AIOT_OUTPUT: 'xml' is not one of table|json|yaml|csv");
  CHECK(hint.find("AIOT_OUTPUT") != std::string::npos);
  s.env.unset("AIOT_OUTPUT");

  FlagValues flags;
  flags.values["hub"] = "local:";
  CHECK(usage_error([&] { s.resolve(flags); }).starts_with("--hub: 'local:' needs a path"));
}

TEST_CASE("config: missing files are fine, empty ones too") {
  Scratch s;
  s.write(s.paths.project_file, "");
  s.write(s.paths.user_file, "# only a comment\n");
  auto settings = s.resolve();
  CHECK(settings.get("hub") == "local");
  CHECK(settings.get_with_origin("hub").origin == "default");
}

TEST_CASE("config: paths are anchored at their file, the working directory or HOME") {
  Scratch s;
  s.write(s.paths.project_file, "ca_dir: ca\nhub: local:data/hub.db\n");
  auto settings = s.resolve();
  CHECK(settings.get("ca_dir") == (s.cwd() / "ca").string());
  CHECK(settings.get("hub") == "local:" + (s.cwd() / "data/hub.db").string());

  s.write(s.paths.user_file, "ca_dir: ~/fleet-ca\n");
  s.write(s.paths.project_file, "");
  CHECK(s.resolve().get("ca_dir") == (s.dir / "home" / "fleet-ca").string());

  s.env.set("AIOT_CA_DIR", "../elsewhere");
  CHECK(s.resolve().get("ca_dir") == (s.dir / "elsewhere").string());
  CHECK(s.resolve().get("azure.endpoint").empty());
}

TEST_CASE("config: set_in_file keeps the other keys and reads back") {
  Scratch s;
  const auto& file = s.paths.user_file;

  SUBCASE("a new file") {
    set_in_file(file, "output", "json", std::nullopt);
    CHECK(s.resolve().get("output") == "json");
    CHECK(s.resolve().get_with_origin("output").origin == file.string());
  }
  SUBCASE("an existing file: top level, nested, profile section") {
    s.write(file,
            "# comments are lost on rewrite\n"
            "hub: azure\n"
            "azure:\n"
            "  endpoint: https://old\n"
            "profiles:\n"
            "  prod:\n"
            "    output: yaml\n");
    set_in_file(file, "output", "csv", std::nullopt);
    set_in_file(file, "azure.endpoint", "https://new", std::nullopt);
    set_in_file(file, "aws.region", "eu-west-1", std::nullopt);
    set_in_file(file, "color", "never", std::string("prod"));
    set_in_file(file, "hub", "aws", std::string("qa"));

    auto top = s.resolve();
    CHECK(top.get("hub") == "azure");
    CHECK(top.get("output") == "csv");
    CHECK(top.get("azure.endpoint") == "https://new");
    CHECK(top.get("aws.region") == "eu-west-1");
    CHECK(top.profiles().at("qa") == "aws");

    FlagValues flags;
    flags.profile = "prod";
    auto prod = s.resolve(flags);
    CHECK(prod.get("output") == "yaml");
    CHECK(prod.get("color") == "never");

    const auto text = slurp(file);
    // The nested map was updated in place, not duplicated as a flat key.
    CHECK(text.find("azure.endpoint") == std::string::npos);
    CHECK(text.find("aws.region: eu-west-1") != std::string::npos);
  }
  SUBCASE("the active profile") {
    s.write(file, "profiles:\n  prod: {hub: aws}\n");
    set_profile_in_file(file, "prod");
    auto settings = s.resolve();
    CHECK(settings.profile() == "prod");
    CHECK(settings.get("hub") == "aws");
  }
  SUBCASE("invalid input leaves the file untouched") {
    const std::string original = "hub: azure\n# keep me\n";
    s.write(file, original);
    CHECK(usage_error([&] { set_in_file(file, "output", "xml", std::nullopt); }).starts_with("output: 'xml'"));
    CHECK(usage_error([&] { set_in_file(file, "colour", "never", std::nullopt); }) == "unknown setting 'colour'");
    CHECK(slurp(file) == original);

    const std::string broken = "hub: [azure\n";
    s.write(file, broken);
    CHECK(usage_error([&] { set_in_file(file, "output", "json", std::nullopt); }).starts_with(file.string() + ":"));
    CHECK(slurp(file) == broken);
  }
  SUBCASE("atomic: no temporary file is left, a private file stays private") {
    s.write(file, "hub: azure\n");
    ::chmod(file.c_str(), 0600);
    set_in_file(file, "output", "json", std::nullopt);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    int entries = 0;
    for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(file.parent_path())) {
      ++entries;
    }
    CHECK(entries == 1);
  }
  SUBCASE("no user file at all") {
    CHECK(usage_error([&] { set_in_file({}, "output", "json", std::nullopt); }).find("no user settings file") !=
          std::string::npos);
  }
}

TEST_CASE("config: Settings::set validates") {
  Settings settings;
  CHECK(settings.get("output") == "table");
  settings.set("hub", "local:/x.db", "test");
  CHECK(settings.get_with_origin("hub").origin == "test");
  CHECK_THROWS_AS(settings.set("output", "xml", "test"), Error);
  CHECK_THROWS_AS(settings.set("nope", "x", "test"), Error);
}
