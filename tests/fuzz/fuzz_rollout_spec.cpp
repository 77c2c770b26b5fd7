// The rollout spec parser: any bytes give a spec or an aiot::Error, never a crash or another exception.
#include "aiot/core/error.hpp"
#include "aiot/rollout/spec.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    aiot::rollout::parse_spec(std::string(aiot::fuzz::as_text(data, size)), "fuzz.yaml");
  } catch (const aiot::Error&) {
  }
  return 0;
}
