// aiot sim advance DURATION | --to TIME
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/simulator.hpp"
#include "cli/common.hpp"
#include "sim/verbs.hpp"

namespace aiot::cli::sim {

namespace {

struct AdvanceOptions {
  std::string duration;
  std::string to;
};

int run_advance(const AdvanceOptions& o, Context& ctx) {
  if (o.duration.empty() == o.to.empty()) {
    throw Error::usage("give either a DURATION (90s, 15m, 4h, 7d) or --to TIME", "For example: aiot sim advance 2h");
  }
  auto simulator = aiot::sim::Simulator::open(local_hub(ctx));
  aiot::sim::AdvanceSummary s;
  if (!o.duration.empty()) {
    auto by = parse_duration(o.duration);
    if (!by) throw Error::usage(fmt::format("'{}' is not a duration", o.duration), "Use 90s, 15m, 4h, 7d or 1h30m.");
    s = simulator.advance(*by);
  } else {
    auto to = parse_rfc3339(o.to);
    if (!to) throw Error::usage(fmt::format("--to takes an RFC 3339 time, got '{}'", o.to));
    s = simulator.advance_to(*to);
  }

  nlohmann::json summary = {
      {"from", format_rfc3339(s.from)},
      {"to", format_rfc3339(s.to)},
      {"installsStarted", s.installs_started},
      {"downloading", s.downloading},
      {"installing", s.installing},
      {"succeeded", s.succeeded},
      {"failed", s.failed},
      {"healthReports", s.health_reports},
      {"devicesReported", s.devices_reported},
      {"offline", s.offline},
      {"removed", s.removed},
  };
  output::print_object(ctx.io, summary, render_options(ctx));
  say(ctx, fmt::format("✓ Sim time {} (+{}): {} installs started, {} succeeded, {} failed; {} devices reported",
                       format_rfc3339(s.to),
                       format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(s.to - s.from)),
                       s.installs_started, s.succeeded, s.failed, s.devices_reported));
  return 0;
}

}  // namespace

void add_advance(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<AdvanceOptions>();
  auto* c = group.add_subcommand("advance", "Move the hub's sim clock forward and play every device event up to it");
  c->add_option("duration", o->duration, "How far: 90s, 15m, 4h, 7d, 1h30m");
  c->add_option("--to", o->to, "Advance to this RFC 3339 time instead");
  d.on(c, [o](Context& ctx) { return run_advance(*o, ctx); });
}

}  // namespace aiot::cli::sim
