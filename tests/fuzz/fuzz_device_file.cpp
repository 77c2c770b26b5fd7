// The device import reader (CSV, YAML, JSON Lines): rows or row errors with line numbers, or one
// aiot::Error for the file; never a crash.
#include "aiot/core/error.hpp"
#include "aiot/fleet/device_file.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aiot::fleet;
  const auto text = aiot::fuzz::as_text(data, size);
  for (auto format : {FileFormat::csv, FileFormat::yaml, FileFormat::jsonl}) {
    try {
      auto file = parse_device_file(text, format, "fuzz", "/nonexistent");
      for (const auto& e : file.errors) {
        if (e.line == 0) __builtin_trap();  // every row error names its line
      }
    } catch (const aiot::Error&) {
    }
  }
  return 0;
}
