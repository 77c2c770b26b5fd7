// aiot rollout resume NAME [--remark TEXT]
#include "rollout/decision.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_resume(CLI::App& group, Dispatch& d) {
  add_decision(group, d, "resume", "Resume a paused rollout (an inconclusive wave gets a fresh bake window)", std::make_shared<DecisionArgs>(),
               [](aiot::rollout::Controller& c, const DecisionArgs& a) { c.resume(a.name, a.remark); });
}

}  // namespace aiot::cli::rollout
