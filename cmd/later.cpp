// Groups whose verbs arrive with later work; each says so and exits 1 rather than pretending.
#include "cli/common.hpp"
#include "groups.hpp"

namespace aiot::cli {

void add_later_groups(CLI::App& root, Dispatch& d) {
  add_later_group(root, d, "lineage", "Audit the lineage and health of device telemetry", "the lineage audit");
  add_later_group(root, d, "report", "Governance reports", "governance reports");
}

}  // namespace aiot::cli
