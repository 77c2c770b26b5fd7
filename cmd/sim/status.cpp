// aiot sim status
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/simulator.hpp"
#include "cli/common.hpp"
#include "sim/verbs.hpp"

namespace aiot::cli::sim {

namespace {

int run_status(Context& ctx) {
  auto st = aiot::sim::Simulator::open(local_hub(ctx)).status();
  nlohmann::json summary = {
      {"simTime", format_rfc3339(st.sim_time)},
      {"seed", st.seed},
      {"profile", st.profile_source},
      {"devices", st.devices},
      {"offline", st.offline},
      {"installing", st.installing},
      {"byVersion", st.by_version},    // reported aiot.model.version -> devices
      {"byOtaState", st.by_ota_state}, // reported aiot.ota.state -> devices
  };
  output::print_object(ctx.io, summary, render_options(ctx));
  return 0;
}

}  // namespace

void add_status(CLI::App& group, Dispatch& d) {
  auto* c = group.add_subcommand("status", "Sim time and device counts by running version and OTA state");
  d.on(c, [](Context& ctx) { return run_status(ctx); });
}

}  // namespace aiot::cli::sim
