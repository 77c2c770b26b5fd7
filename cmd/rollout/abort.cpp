// aiot rollout abort NAME --keep|--revert [--remark TEXT]
#include <CLI/CLI.hpp>

#include "rollout/decision.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_abort(CLI::App& group, Dispatch& d) {
  auto revert = std::make_shared<bool>(false);
  auto keep = std::make_shared<bool>(false);
  auto* c = add_decision(group, d, "abort", "Stop a rollout: --keep leaves devices as they are, --revert rolls back",
                         std::make_shared<DecisionArgs>(),
                         [revert, keep](aiot::rollout::Controller& ctl, const DecisionArgs& a) { (void)keep; ctl.abort(a.name, *revert, a.remark); });
  auto* r = c->add_flag("--revert", *revert, "Roll back the devices that got the new version");
  auto* k = c->add_flag("--keep", *keep, "Leave every device on what it runs now");
  auto* group_opt = c->add_option_group("what to do with devices");
  group_opt->add_option(r);
  group_opt->add_option(k);
  group_opt->require_option(1);
}

}  // namespace aiot::cli::rollout
