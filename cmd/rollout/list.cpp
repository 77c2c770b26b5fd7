// aiot rollout list
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "cli/common.hpp"
#include "rollout/common.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

void add_list(CLI::App& group, Dispatch& d) {
  auto* c = group.add_subcommand("list", "List the rollouts in the hub")->alias("ls");
  d.on(c, [](Context& ctx) {
    auto driver = make_driver(ctx);
    auto rows = nlohmann::json::array();
    for (const auto& name : driver.controller->list()) {
      auto st = driver.controller->status(name);
      rows.push_back({{"rollout", name},
                      {"phase", st["phase"]},
                      {"wave", st["currentWave"]},
                      {"target", st["target"]},
                      {"baseline", st["baseline"]},
                      {"updatedAt", st["updatedAt"]}});
    }
    static const output::Column k_columns[] = {
        {"ROLLOUT", "rollout", output::ColumnKind::text}, {"PHASE", "phase", output::ColumnKind::status},
        {"WAVE", "wave", output::ColumnKind::text},       {"TARGET", "target", output::ColumnKind::text},
        {"BASELINE", "baseline", output::ColumnKind::text}, {"UPDATED", "updatedAt", output::ColumnKind::time}};
    output::print_list(ctx.io, rows, k_columns, render_options(ctx));
    return 0;
  });
}

}  // namespace aiot::cli::rollout
