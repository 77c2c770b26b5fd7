// aiot lineage: the group wires its verbs, one line each.
#include <CLI/CLI.hpp>

#include "cli/common.hpp"
#include "groups.hpp"
#include "lineage/verbs.hpp"

namespace aiot::cli {

void add_lineage_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("lineage", "Audit the lineage and health of device telemetry");
  g->require_subcommand(1);
  lineage::add_audit(*g, d);
  lineage::add_merge(*g, d);
}

}  // namespace aiot::cli
