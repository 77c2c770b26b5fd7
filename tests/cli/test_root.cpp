#include <doctest/doctest.h>

#include <filesystem>

#include "support/harness.hpp"

using aiot::test::Harness;

TEST_CASE("root: --version, help, exit-codes") {
  Harness h;
  auto v = h.run({"--version"});
  CHECK(v.code == 0);
  CHECK(v.out == std::string("aiot ") + AIOT_VERSION + "\n");
  auto codes = h.run({"help", "exit-codes"});
  CHECK(codes.code == 0);
  CHECK(codes.out.find("  3  verdict") != std::string::npos);
  CHECK(codes.out.find("130  interrupted") != std::string::npos);
  auto help = h.run({"device", "--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("register") != std::string::npos);
  CHECK(help.err.empty());
}

TEST_CASE("root: unknown flags and verbs exit 2 with a hint on stderr") {
  Harness h;
  auto r = h.run({"device", "list", "--frobnicate"});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("--frobnicate") != std::string::npos);
  CHECK(r.err.find("Run 'aiot device list --help'") != std::string::npos);

  auto verb = h.run({"device", "lst"});
  CHECK(verb.code == 2);
  CHECK(verb.err.find("unknown command 'lst' for 'aiot device'") != std::string::npos);
  CHECK(verb.err.find("Did you mean 'list'?") != std::string::npos);

  auto group = h.run({"devcie"});
  CHECK(group.code == 2);
  CHECK(group.err.find("Did you mean 'device'?") != std::string::npos);

  auto bad_output = h.run({"-o", "xml", "device", "list"});
  CHECK(bad_output.code == 2);
}

TEST_CASE("root: an audit of inputs that do not exist names them and exits 2, writing nothing") {
  Harness h;
  auto r = h.run({"lineage", "audit", "--input", "missing.ndjson", "--out", "audit.json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("missing.ndjson") != std::string::npos);
  CHECK(r.out.empty());
  CHECK_FALSE(std::filesystem::exists(h.cwd / "audit.json"));
}

TEST_CASE("root: the colour decision follows NO_COLOR, --no-color and the TTY") {
  Harness h;
  h.set_tty(true);
  auto bad = h.run({"device", "show", "missing"});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("\x1b[31merror:") != std::string::npos);
  auto no_flag = h.run({"--no-color", "device", "show", "missing"});
  CHECK(no_flag.err.find("\x1b[") == std::string::npos);
  h.env.set("NO_COLOR", "1");
  auto no_env = h.run({"device", "show", "missing"});
  CHECK(no_env.err.find("\x1b[") == std::string::npos);
  h.env.unset("NO_COLOR");
  h.set_tty(false);
  auto piped = h.run({"device", "show", "missing"});
  CHECK(piped.err.find("\x1b[") == std::string::npos);
  CHECK(piped.err.find("error: device 'missing' not found") != std::string::npos);
}
