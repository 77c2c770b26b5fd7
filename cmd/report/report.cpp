// aiot report: the group wires its verbs, one line each.
#include <CLI/CLI.hpp>

#include "cli/common.hpp"
#include "groups.hpp"
#include "report/verbs.hpp"

namespace aiot::cli {

void add_report_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("report", "Governance reports: weekly, deterministic, decision-ready");
  g->require_subcommand(1);
  report::add_governance(*g, d);
}

}  // namespace aiot::cli
