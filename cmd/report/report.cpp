// aiot report: the group wires its verbs, one line each.
#include "cli/common.hpp"
#include "groups.hpp"

namespace aiot::cli {

void add_report_group(CLI::App& root, Dispatch& d) {
  add_later_group(root, d, "report", "Governance reports", "governance reports");
}

}  // namespace aiot::cli
