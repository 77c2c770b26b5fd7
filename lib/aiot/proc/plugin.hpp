#pragma once
// Git-style plugins: `aiot NAME ARGS...` runs `aiot-NAME` from PATH when NAME is not a built-in
// command, with the arguments, the environment plus AIOT_PROFILE, AIOT_HUB and AIOT_OUTPUT set
// to what aiot resolved, and the terminal's streams; its exit code becomes aiot's.
// fork/execve behind this small interface (see plugin.cpp for why not Boost.Process 1.74).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aiot::proc {

// The executable `aiot-<name>` on PATH (a list of folders separated by ':'), if any.
std::optional<std::filesystem::path> find_plugin(const std::string& name, const std::string& path_var);

// Every aiot-* executable on PATH, by plugin name (the first one on PATH wins, as exec would).
std::map<std::string, std::filesystem::path> list_plugins(const std::string& path_var);

// Runs the plugin with inherited stdin/stdout/stderr and the given environment; returns its
// exit code (128 + signal when it was killed by one).
int run_plugin(const std::filesystem::path& exe, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env);

}  // namespace aiot::proc
