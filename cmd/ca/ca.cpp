// aiot ca: the fleet certificate authority.
#include <CLI/CLI.hpp>

#include "ca/verbs.hpp"
#include "groups.hpp"

namespace aiot::cli {

void add_ca_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("ca", "Create and inspect the fleet certificate authority");
  g->require_subcommand(1);
  ca::add_create(*g, d);
  ca::add_show(*g, d);
}

}  // namespace aiot::cli
