// aiot device: the group wires its verbs, one line each.
#include <CLI/CLI.hpp>

#include "device/verbs.hpp"
#include "groups.hpp"

namespace aiot::cli {

void add_device_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("device", "Register, inspect and manage devices");
  g->require_subcommand(1);
  device::add_register(*g, d);
  device::add_import(*g, d);
  device::add_list(*g, d);
  device::add_count(*g, d);
  device::add_show(*g, d);
  device::add_update(*g, d);
  device::add_delete(*g, d);
  device::add_export(*g, d);
}

}  // namespace aiot::cli
