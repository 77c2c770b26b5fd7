// aiot rollout approve NAME [--remark TEXT]
#include "rollout/decision.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_approve(CLI::App& group, Dispatch& d) {
  add_decision(group, d, "approve", "Approve the start or the next wave of a rollout waiting for approval", std::make_shared<DecisionArgs>(),
               [](aiot::rollout::Controller& c, const DecisionArgs& a) { c.approve(a.name, a.remark); });
}

}  // namespace aiot::cli::rollout
