// aiot sim: the group wires its verbs, one line each.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "cli/common.hpp"
#include "groups.hpp"
#include "sim/verbs.hpp"

namespace aiot::cli {

void add_sim_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("sim", "Simulate a device fleet on the local hub, with its own clock");
  g->require_subcommand(1);
  sim::add_fleet(*g, d);
  sim::add_advance(*g, d);
  sim::add_status(*g, d);
  sim::add_telemetry(*g, d);
}

namespace sim {

hub::local::LocalHub& local_hub(Context& ctx) {
  auto& hub = ctx.hub();
  if (auto* local = dynamic_cast<hub::local::LocalHub*>(&hub)) return *local;
  throw Error::usage(fmt::format("'aiot sim' runs on the local hub, and this hub is {}", hub.describe()),
                     "Use --hub local, or --hub local:PATH for another file.");
}

}  // namespace sim

}  // namespace aiot::cli
