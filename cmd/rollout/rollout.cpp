// aiot rollout: canary rollouts with health gates, automatic rollback and a hash-chained journal.
#include <CLI/CLI.hpp>

#include "groups.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli {

void add_rollout_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("rollout", "Canary rollouts of models and firmware with health gates and rollback");
  g->require_subcommand(1);
  rollout::add_plan(*g, d);
  rollout::add_apply(*g, d);
  rollout::add_status(*g, d);
  rollout::add_list(*g, d);
  rollout::add_approve(*g, d);
  rollout::add_deny(*g, d);
  rollout::add_pause(*g, d);
  rollout::add_resume(*g, d);
  rollout::add_promote(*g, d);
  rollout::add_abort(*g, d);
  rollout::add_rollback(*g, d);
  rollout::add_reconcile(*g, d);
  rollout::add_history(*g, d);
  rollout::add_audit(*g, d);
}

}  // namespace aiot::cli
