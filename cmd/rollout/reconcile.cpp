// aiot rollout reconcile [NAME...] [--all] [--steal-lease]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "cli/common.hpp"
#include "rollout/common.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

namespace {

struct ReconcileOptions {
  std::vector<std::string> names;
  bool all = false;
  bool steal_lease = false;
};

// One step for each rollout and return: for cron or CI, so no long-lived process is needed.
int run_reconcile(const ReconcileOptions& o, Context& ctx) {
  if (o.names.empty() && !o.all) throw Error::usage("name the rollouts to reconcile, or pass --all");
  auto driver = make_driver(ctx);
  auto names = o.all ? driver.controller->list() : o.names;
  auto rows = nlohmann::json::array();
  int worst = 0;
  for (const auto& name : names) {
    nlohmann::json row = {{"rollout", name}};
    try {
      auto r = driver.controller->step(name, o.steal_lease);
      row["phase"] = std::string(aiot::rollout::to_string(r.phase));
      row["changed"] = r.changed;
      row["summary"] = r.summary;
      if (r.changed) say(ctx, fmt::format("{}: {}", name, r.summary));
    } catch (const Error& e) {
      if (!o.all || e.code() == ExitCode::auth || e.code() == ExitCode::unavailable) throw;
      row["phase"] = "ERROR";
      row["summary"] = e.message();
      worst = std::max(worst, to_int(ExitCode::failure));
    }
    rows.push_back(std::move(row));
  }
  static const output::Column k_columns[] = {{"ROLLOUT", "rollout", output::ColumnKind::text},
                                             {"PHASE", "phase", output::ColumnKind::status},
                                             {"SUMMARY", "summary", output::ColumnKind::text}};
  output::print_list(ctx.io, rows, k_columns, render_options(ctx));
  return worst;
}

}  // namespace

void add_reconcile(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<ReconcileOptions>();
  auto* c = group.add_subcommand("reconcile", "Advance rollouts by one step each and return (cron and CI)");
  c->add_option("names", o->names, "Rollouts to advance");
  c->add_flag("--all", o->all, "Every rollout that is not final");
  c->add_flag("--steal-lease", o->steal_lease, "Take over from another driver (journaled)");
  d.on(c, [o](Context& ctx) { return run_reconcile(*o, ctx); });
}

}  // namespace aiot::cli::rollout
