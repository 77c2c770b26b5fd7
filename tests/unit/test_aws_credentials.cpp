// The AWS credential chain over temporary ~/.aws files and an injected Env.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "aiot/auth/cloud/aws_credentials.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"

using namespace aiot;

namespace {

struct Home {
  std::filesystem::path dir;
  Home() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("aiot-aws-cred-" + std::to_string(rd()));
    std::filesystem::create_directories(dir / ".aws");
  }
  ~Home() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir / ".aws" / name) << text; }
  Env env() const { return Env({{"HOME", dir.string()}}); }
};

const char* k_credentials = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

[dev]
aws_access_key_id=AKIDDEV
aws_secret_access_key=secret-dev
aws_session_token = token-dev
region = ap-south-1
)";

const char* k_config = R"([default]
region = eu-west-1
s3 =
  max_concurrent_requests = 20
[profile dev]
region = eu-central-1
[profile cfgonly]
aws_access_key_id = AKIDCFG
aws_secret_access_key = secret-cfg
region = us-west-2
[profile role]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = default
)";

}  // namespace

TEST_CASE("AWS chain: environment keys win over the default profile") {
  Home home;
  home.write("credentials", k_credentials);
  home.write("config", k_config);
  auto env = home.env();
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "secret-env");
  env.set("AWS_SESSION_TOKEN", "token-env");
  auto r = aws_auth::resolve(env, {});
  CHECK(r.credentials.access_key_id == "AKIDENV");
  CHECK(r.credentials.secret_access_key == "secret-env");
  CHECK(r.credentials.session_token == "token-env");
  CHECK(r.source == "env AWS_ACCESS_KEY_ID");
  CHECK(r.region == "eu-west-1");  // from [default] of the config file
  CHECK(r.region_source.find("config [default]") != std::string::npos);

  SUBCASE("AWS_PROFILE does not override environment keys (as in the CLI)") {
    env.set("AWS_PROFILE", "dev");
    auto r2 = aws_auth::resolve(env, {});
    CHECK(r2.credentials.access_key_id == "AKIDENV");
    CHECK(r2.region == "eu-central-1");
  }
  SUBCASE("an explicit aws.profile setting skips the environment keys (like --profile)") {
    auto r2 = aws_auth::resolve(env, {"dev", ""});
    CHECK(r2.credentials.access_key_id == "AKIDDEV");
    CHECK(r2.credentials.session_token == "token-dev");
    CHECK(r2.source.find("credentials [dev]") != std::string::npos);
  }
}

TEST_CASE("AWS chain: profiles in the credentials and config files") {
  Home home;
  home.write("credentials", k_credentials);
  home.write("config", k_config);
  auto env = home.env();

  auto def = aws_auth::resolve(env, {});
  CHECK(def.profile == "default");
  CHECK(def.credentials.access_key_id == "AKIDDEFAULT");
  CHECK(def.credentials.session_token.empty());

  env.set("AWS_PROFILE", "cfgonly");
  auto cfg = aws_auth::resolve(env, {});
  CHECK(cfg.credentials.access_key_id == "AKIDCFG");
  CHECK(cfg.source.find("config [profile cfgonly]") != std::string::npos);
  CHECK(cfg.region == "us-west-2");

  SUBCASE("region precedence: setting > AWS_REGION > AWS_DEFAULT_REGION > config") {
    env.set("AWS_DEFAULT_REGION", "sa-east-1");
    CHECK(aws_auth::resolve(env, {}).region == "sa-east-1");
    env.set("AWS_REGION", "ca-central-1");
    CHECK(aws_auth::resolve(env, {}).region == "ca-central-1");
    CHECK(aws_auth::resolve(env, {"", "me-south-1"}).region == "me-south-1");
    CHECK(aws_auth::resolve(env, {"", "me-south-1"}).region_source == "setting aws.region");
  }
  SUBCASE("role profiles are refused with advice, not reported as missing") {
    env.set("AWS_PROFILE", "role");
    try {
      aws_auth::resolve(env, {});
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::auth);
      CHECK(std::string(e.message()).find("role_arn") != std::string::npos);
    }
  }
}

TEST_CASE("AWS chain: AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE and the region fallback of --credentials-out") {
  Home home;
  auto file = home.dir / "emulator.credentials";
  std::ofstream(file) << aws_auth::credentials_section("aiot-emulator", {"AKIDEMU", "secret-emu", ""}, "us-east-1");
  Env env({{"HOME", home.dir.string()},
           {"AWS_SHARED_CREDENTIALS_FILE", file.string()},
           {"AWS_CONFIG_FILE", (home.dir / "none").string()},
           {"AWS_PROFILE", "aiot-emulator"}});
  auto r = aws_auth::resolve(env, {});
  CHECK(r.credentials.access_key_id == "AKIDEMU");
  CHECK(r.credentials.secret_access_key == "secret-emu");
  CHECK(r.region == "us-east-1");
  CHECK(r.source == file.string() + " [aiot-emulator]");
}

TEST_CASE("AWS chain: nothing found is exit 4 listing every place looked at") {
  Home home;
  auto env = home.env();
  try {
    aws_auth::resolve(env, {});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::auth);
    std::string m = e.message();
    CHECK(m.find("env AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") != std::string::npos);
    CHECK(m.find((home.dir / ".aws" / "credentials").string() + " [default] (no such file)") != std::string::npos);
    CHECK(m.find((home.dir / ".aws" / "config").string() + " [default] (no such file)") != std::string::npos);
    CHECK_FALSE(e.hint().empty());
  }
  home.write("credentials", "[other]\naws_access_key_id = X\naws_secret_access_key = Y\n");
  try {
    aws_auth::resolve(env, {"missing", ""});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.message()).find("[missing] (no such section)") != std::string::npos);
    CHECK(std::string(e.message()).find("profile 'missing'") != std::string::npos);
  }
  env.set("AWS_ACCESS_KEY_ID", "only-the-id");
  CHECK_THROWS_AS(aws_auth::resolve(env, {}), Error);
}

TEST_CASE("AWS chain: INI parsing") {
  auto s = aws_auth::parse_ini("[a]\r\nKey = v = w\r\n; c\n  nested = x\n[ profile  b ]\nk=1\n");
  CHECK(s["a"]["key"] == "v = w");
  CHECK(s["a"].count("nested") == 0);
  CHECK(s["profile  b"]["k"] == "1");
}
