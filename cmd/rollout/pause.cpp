// aiot rollout pause NAME [--remark TEXT]
#include "rollout/decision.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_pause(CLI::App& group, Dispatch& d) {
  add_decision(group, d, "pause", "Pause a running rollout: no dispatch, no promotion until resumed", std::make_shared<DecisionArgs>(),
               [](aiot::rollout::Controller& c, const DecisionArgs& a) { c.pause(a.name, a.remark); });
}

}  // namespace aiot::cli::rollout
