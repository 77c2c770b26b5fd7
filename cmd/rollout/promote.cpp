// aiot rollout promote NAME [--full] [--remark TEXT]
#include <CLI/CLI.hpp>

#include "rollout/decision.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_promote(CLI::App& group, Dispatch& d) {
  auto full = std::make_shared<bool>(false);
  auto* c = add_decision(group, d, "promote", "Promote the current wave by hand, skipping its gates",
                         std::make_shared<DecisionArgs>(),
                         [full](aiot::rollout::Controller& ctl, const DecisionArgs& a) { ctl.promote(a.name, *full, a.remark); });
  c->add_flag("--full", *full, "Skip the gates and approvals of every remaining wave too");
}

}  // namespace aiot::cli::rollout
