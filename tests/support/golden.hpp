#pragma once
// Golden-file comparison for doctest. check_golden("output/table_tty.txt", text) compares `text`
// with AIOT_SOURCE_DIR/tests/golden/output/table_tty.txt byte for byte. On a mismatch (or a
// missing file) it writes the actual text beside it as `<name>.actual`, so `diff` shows what
// changed, and fails the check. With AIOT_UPDATE_GOLDEN=1 in the environment it rewrites the
// golden file instead and passes: review the change with `git diff tests/golden` before committing.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#ifndef AIOT_SOURCE_DIR
#error "AIOT_SOURCE_DIR must be defined (CMake does; standalone: -DAIOT_SOURCE_DIR=\"/path/to/repo\")"
#endif

namespace aiot::test {

inline std::filesystem::path golden_path(std::string_view name) {
  return std::filesystem::path(AIOT_SOURCE_DIR) / "tests" / "golden" / std::string(name);
}

// Tests read the process environment here on purpose: the switch belongs to whoever runs the
// tests, not to the code under test (which gets its Env through the Context).
inline bool golden_update_requested() {
  const char* v = std::getenv("AIOT_UPDATE_GOLDEN");
  return v != nullptr && std::string_view(v) == "1";
}

inline void write_golden_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE_MESSAGE(out.good(), "cannot write " << path.string());
}

// Returns true when `actual` matches the golden file (or the file was just rewritten).
inline bool check_golden(std::string_view name, const std::string& actual) {
  auto path = golden_path(name);
  auto actual_path = std::filesystem::path(path.string() + ".actual");
  if (golden_update_requested()) {
    write_golden_file(path, actual);
    std::error_code ec;
    std::filesystem::remove(actual_path, ec);
    MESSAGE("golden file rewritten: " << path.string());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    write_golden_file(actual_path, actual);
    FAIL_CHECK("golden file missing: " << path.string() << " (actual output in " << actual_path.string()
                                       << "; run with AIOT_UPDATE_GOLDEN=1 to create it)");
    return false;
  }
  std::ostringstream expected;
  expected << in.rdbuf();
  if (expected.str() == actual) {
    std::error_code ec;
    std::filesystem::remove(actual_path, ec);  // a stale .actual from an earlier failure would mislead
    return true;
  }
  write_golden_file(actual_path, actual);
  FAIL_CHECK("output differs from " << path.string() << "\n  diff " << path.string() << " "
                                    << actual_path.string()
                                    << "\n  (AIOT_UPDATE_GOLDEN=1 rewrites the golden file when the change is intended)");
  return false;
}

}  // namespace aiot::test
