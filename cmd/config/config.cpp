// aiot config: the group wires its verbs, one line each.
#include <CLI/CLI.hpp>

#include "config/verbs.hpp"
#include "groups.hpp"

namespace aiot::cli {

void add_config_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("config", "Show and change settings and profiles");
  g->require_subcommand(1);
  g->footer(
      "Settings come from, highest first: flags, AIOT_* environment, ./.aiot.yaml, the user file\n"
      "($XDG_CONFIG_HOME/aiot/config.yaml or --config FILE), /etc/aiot/config.yaml, defaults.");
  config_cmd::add_list(*g, d);
  config_cmd::add_get(*g, d);
  config_cmd::add_set(*g, d);
  config_cmd::add_profiles(*g, d);
  config_cmd::add_use(*g, d);
}

}  // namespace aiot::cli
