#pragma once
// One libFuzzer entry point per target. Built two ways (tests/fuzz/CMakeLists.txt): with clang and
// -fsanitize=fuzzer for real fuzzing (scripts/fuzz.sh), and with replay_main.cpp as a plain test
// that runs the checked-in corpus, so every input that once crashed stays a regression test.
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace aiot::fuzz {
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
}  // namespace aiot::fuzz
