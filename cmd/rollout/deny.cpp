// aiot rollout deny NAME [--remark TEXT]
#include "rollout/decision.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_deny(CLI::App& group, Dispatch& d) {
  add_decision(group, d, "deny", "Deny a waiting approval (a rollout that dispatched devices rolls back)", std::make_shared<DecisionArgs>(),
               [](aiot::rollout::Controller& c, const DecisionArgs& a) { c.deny(a.name, a.remark); });
}

}  // namespace aiot::cli::rollout
