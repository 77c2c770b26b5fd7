#include "support/harness.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "aiot/context.hpp"
#include "aiot/core/iostreams.hpp"
#include "root.hpp"

namespace aiot::test {

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto p = base / ("aiot-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (std::filesystem::create_directory(p)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TimePoint fixed_now() { return *parse_rfc3339("2026-11-23T09:00:00Z"); }

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
}

unsigned file_mode(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

Harness::Harness() : now(fixed_now()), cwd(dir.path() / "work") {
  std::filesystem::create_directories(cwd);
  env.set("HOME", (dir / "home").string());
  env.set("XDG_CONFIG_HOME", (dir / "config").string());
  env.set("XDG_DATA_HOME", (dir / "data").string());
  env.set("AIOT_HUB", "local:" + hub_path().string());
  env.set("TERM", "xterm");
}

RunResult Harness::run(const std::vector<std::string>& args, const std::string& input) {
  TestStreams s(input);
  s.io.set_tty(tty_, tty_, tty_);
  TimePoint t = now;
  Context ctx(s.io, env, cwd, [t] { return t; });
  int code = cli::run(args, ctx);
  return {code, s.out.str(), s.err.str()};
}

}  // namespace aiot::test
