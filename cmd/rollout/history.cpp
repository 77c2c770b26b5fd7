// aiot rollout history NAME
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/rollout/journal.hpp"
#include "cli/common.hpp"
#include "rollout/common.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

namespace {

// What an event says, in one line (the JSON carries everything).
std::string summary_of(const nlohmann::json& e) {
  std::string op = e.value("op", "");
  if (op == "GATES_EVALUATED") {
    std::string s = fmt::format("wave {} look {}:", e.value("wave", ""), e.value("look", 0));
    for (auto& [name, g] : e["gates"].items()) s += fmt::format(" {}={} ({})", name, g.value("verdict", ""), g.value("reason", ""));
    return s;
  }
  if (op == "WAVE_DISPATCHED" || op == "WAVE_BATCH_DISPATCHED") {
    std::string s = fmt::format("wave {}: {} devices ({} changed)", e.value("wave", ""), e.value("devices", 0), e.value("changed", 0));
    // A paced wave (rate.maxInFlight / perMinute) goes out in batches.
    if (!e.value("complete", true) || op == "WAVE_BATCH_DISPATCHED")
      s += fmt::format(", {} of {} given", e.value("given", 0), e.value("total", 0));
    return s;
  }
  if (op == "PROMOTED") return fmt::format("{} -> {}: {}", e.value("from", ""), e.value("to", ""), e.value("why", ""));
  if (op == "ROLLBACK_STARTED") return fmt::format("{} devices to {}: {}", e.value("devices", 0), e.value("to", ""), e.value("reason", ""));
  if (op == "ROLLBACK_DONE") return fmt::format("{} of {} devices confirmed {}", e.value("verified", 0), e.value("devices", 0), e.value("to", ""));
  if (op == "PLANNED") return fmt::format("{} -> {} on {} devices", e.value("baseline", ""), e.value("target", ""), e.value("cohort", 0));
  std::string s;
  for (const char* k : {"for", "remark", "reason", "why", "from"})
    if (e.contains(k) && e[k].is_string() && !e[k].get<std::string>().empty()) s += (s.empty() ? "" : "; ") + e[k].get<std::string>();
  return s;
}

int run_history(const std::string& name, Context& ctx) {
  auto driver = make_driver(ctx);
  auto path = driver.controller->journal_path(name);
  auto events = aiot::rollout::read_journal(path);
  if (events.empty() && !driver.controller->hub_head(name))
    throw Error::not_found(fmt::format("no rollout '{}' in this hub", name));
  auto opt = render_options(ctx);
  if (opt.format == output::Format::json || opt.format == output::Format::yaml) {
    output::print_list(ctx.io, events, {}, opt);
    return 0;
  }
  auto rows = nlohmann::json::array();
  for (const auto& e : events)
    rows.push_back({{"seq", e.value("seq", 0)}, {"ts", e.value("ts", "")}, {"op", e.value("op", "")},
                    {"actor", e.value("actor", "")}, {"summary", summary_of(e)}});
  static const output::Column k_columns[] = {{"SEQ", "seq", output::ColumnKind::text},
                                             {"TIME", "ts", output::ColumnKind::text},
                                             {"EVENT", "op", output::ColumnKind::text},
                                             {"WHAT", "summary", output::ColumnKind::text},
                                             {"BY", "actor", output::ColumnKind::text}};
  output::print_list(ctx.io, rows, k_columns, opt);
  return 0;
}

}  // namespace

void add_history(CLI::App& group, Dispatch& d) {
  auto name = std::make_shared<std::string>();
  auto* c = group.add_subcommand("history", "Every transition of a rollout from its journal, with the gate inputs");
  c->add_option("name", *name, "Rollout name")->required();
  d.on(c, [name](Context& ctx) { return run_history(*name, ctx); });
}

}  // namespace aiot::cli::rollout
