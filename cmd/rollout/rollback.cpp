// aiot rollout rollback NAME [--remark TEXT]
#include "rollout/decision.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_rollback(CLI::App& group, Dispatch& d) {
  add_decision(group, d, "rollback", "Roll back every device that got the new version to the baseline", std::make_shared<DecisionArgs>(),
               [](aiot::rollout::Controller& c, const DecisionArgs& a) { c.rollback(a.name, a.remark); });
}

}  // namespace aiot::cli::rollout
