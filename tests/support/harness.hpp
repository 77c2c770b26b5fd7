#pragma once
// Test helpers: a temporary directory that cleans up, and a harness that runs aiot commands
// in-process (cmd/root.cpp run()) with string streams, a fixed clock and XDG dirs in a temp dir.
#include <filesystem>
#include <string>
#include <vector>

#include "aiot/core/env.hpp"
#include "aiot/core/time.hpp"

namespace aiot::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// 2026-11-23T09:00:00Z, a Monday.
TimePoint fixed_now();

std::string read_text(const std::filesystem::path& p);
void write_text(const std::filesystem::path& p, const std::string& text);
// Octal permission bits of a file, e.g. 0600.
unsigned file_mode(const std::filesystem::path& p);

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

class Harness {
 public:
  Harness();
  // Runs one command with a fresh Context; stdin is `input`.
  RunResult run(const std::vector<std::string>& args, const std::string& input = {});
  // Pretend stdin/stdout/stderr are terminals for the next runs.
  void set_tty(bool tty) { tty_ = tty; }

  TempDir dir;
  Env env;
  TimePoint now;
  std::filesystem::path cwd;
  std::filesystem::path hub_path() const { return dir / "hub.db"; }

 private:
  bool tty_ = false;
};

}  // namespace aiot::test
