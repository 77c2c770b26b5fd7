#pragma once
// The shape every human decision shares (approve, deny, pause, resume, promote, abort, rollback):
// NAME, --remark, do it through the controller (journaled with the actor), print the status.
#include <functional>
#include <memory>
#include <string>

#include "aiot/rollout/controller.hpp"

namespace CLI {
class App;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::rollout {

struct DecisionArgs {
  std::string name;
  std::string remark;
};

using DecisionFn = std::function<void(aiot::rollout::Controller&, const DecisionArgs&)>;

// Adds the verb with NAME and --remark; returns it so a verb can add its own flags.
CLI::App* add_decision(CLI::App& group, Dispatch& d, const std::string& verb, const std::string& help,
                       std::shared_ptr<DecisionArgs> args, DecisionFn fn);

}  // namespace aiot::cli::rollout
