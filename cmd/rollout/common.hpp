#pragma once
// What the rollout verbs share: a controller over the Context's hub, where journals live, and how
// a driver waits (a simulated local hub moves its own clock instead of sleeping).
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "aiot/rollout/controller.hpp"

namespace aiot {
class Context;
}

namespace aiot::cli::rollout {

struct Driver {
  std::unique_ptr<aiot::rollout::Backend> backend;
  std::unique_ptr<aiot::rollout::Controller> controller;
};

Driver make_driver(Context& ctx);

// <hub file>.journal/ for a local hub at a path; <data dir>/journal/<hub kind>/ otherwise.
std::filesystem::path journal_dir(Context& ctx);

// Lets up to `duration` of hub time pass: on a simulated local hub the simulator advances by it
// (devices act), elsewhere the process sleeps (at most 30 s, then the caller looks again).
// Returns false when time cannot pass (a pinned clock: nothing will change by waiting).
bool let_time_pass(Context& ctx, std::chrono::milliseconds duration);

// The status tree for a TTY / plain text (rollout > waves > gates > device counts).
std::string render_status_tree(const nlohmann::json& status, bool color);

}  // namespace aiot::cli::rollout
