#pragma once
// The `aiot config` verbs, and what they share.
#include <optional>
#include <string>

namespace CLI {
class App;
}
namespace aiot {
class Context;
}
namespace aiot::cli {
class Dispatch;
}

// Not `config`: inside aiot::cli::config, `config::` would stop meaning aiot::config.
namespace aiot::cli::config_cmd {

void add_list(CLI::App& group, Dispatch& d);
void add_get(CLI::App& group, Dispatch& d);
void add_set(CLI::App& group, Dispatch& d);
void add_profiles(CLI::App& group, Dispatch& d);
void add_use(CLI::App& group, Dispatch& d);

// After a write to the user file: warns when a higher layer (environment, flag, ./.aiot.yaml, a
// profile section) still decides `key` ("profile" for the active profile), so a write that
// changes nothing here does not go unnoticed. `expected_origin` is the origin the write gives.
void warn_if_shadowed(Context& ctx, const std::string& key, const std::string& expected_origin);

}  // namespace aiot::cli::config_cmd
