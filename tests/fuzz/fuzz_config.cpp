// The settings files (YAML with profiles): a value, or an aiot::Error with file:line, never a crash.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "aiot/config/settings.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("aiot-fuzz-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const auto file = dir / "config.yaml";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  aiot::config::Paths paths;
  paths.user_file = file;
  paths.data_dir = dir;
  try {
    auto s = aiot::config::Settings::resolve_with(aiot::Env(std::map<std::string, std::string>{}), dir, paths, {});
    (void)s.get("hub");
    (void)s.profiles();
  } catch (const aiot::Error&) {
  }
  return 0;
}
