// aiot lineage: the group wires its verbs, one line each.
#include "cli/common.hpp"
#include "groups.hpp"

namespace aiot::cli {

void add_lineage_group(CLI::App& root, Dispatch& d) {
  add_later_group(root, d, "lineage", "Audit the lineage and health of device telemetry", "the lineage audit");
}

}  // namespace aiot::cli
