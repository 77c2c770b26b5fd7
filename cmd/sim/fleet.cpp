// aiot sim fleet --devices N [--profile FILE] [--seed S] [--prefix P] [--start TIME] | --print-default-profile
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/simulator.hpp"
#include "cli/common.hpp"
#include "sim/verbs.hpp"

namespace aiot::cli::sim {

namespace {

struct FleetOptions {
  std::size_t devices = 0;
  std::string profile;
  std::uint64_t seed = 1;
  std::string prefix = "dev-";
  std::string start;
  bool print_default_profile = false;
};

int run_fleet(const FleetOptions& o, Context& ctx) {
  if (o.print_default_profile) {
    ctx.io.out() << aiot::sim::Profile::builtin_yaml();
    return 0;
  }
  if (o.devices == 0) {
    throw Error::usage("--devices N is required (N >= 1)", "For example: aiot sim fleet --devices 100");
  }
  aiot::sim::FleetSpec spec;
  spec.devices = o.devices;
  spec.seed = o.seed;
  spec.prefix = o.prefix;
  if (!o.profile.empty()) {
    std::filesystem::path path = o.profile;
    spec.profile_yaml = fs::read_file(path.is_relative() ? ctx.cwd / path : path);
    spec.profile_source = o.profile;
    if (spec.profile_yaml.empty()) throw Error::usage(fmt::format("{}: the profile is empty", o.profile));
  }
  if (!o.start.empty()) {
    spec.start = parse_rfc3339(o.start);
    if (!spec.start) {
      throw Error::usage(fmt::format("--start takes an RFC 3339 time, got '{}'", o.start),
                         "For example: --start 2026-11-23T09:00:00Z");
    }
  }

  auto& hub = local_hub(ctx);
  output::Progress progress(ctx.io, "Creating devices", o.devices, ctx.now);
  std::size_t shown = 0;
  auto r = aiot::sim::Simulator::create_fleet(hub, spec, [&](std::size_t done, std::size_t) {
    progress.advance(done - shown);
    shown = done;
  });
  progress.done();
  if (r.start_ignored) {
    warn(ctx, fmt::format("the hub's sim clock is already running ({}); --start is ignored",
                          format_rfc3339(r.sim_time)));
  }

  nlohmann::json summary = {
      {"devices", o.devices},
      {"created", r.created},
      {"unchanged", r.unchanged},
      {"firstId", r.first_id},
      {"lastId", r.last_id},
      {"seed", o.seed},
      {"profile", o.profile.empty() ? "<built-in profile>" : o.profile},
      {"simTime", format_rfc3339(r.sim_time)},
  };
  output::print_object(ctx.io, summary, render_options(ctx));
  say(ctx, fmt::format("✓ Simulated fleet {}..{}: {} created, {} unchanged; sim time {}{}", r.first_id, r.last_id,
                       r.created, r.unchanged, format_rfc3339(r.sim_time),
                       r.clock_started ? " (clock started)" : ""));
  return 0;
}

}  // namespace

void add_fleet(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<FleetOptions>();
  auto* c = group.add_subcommand(
      "fleet", "Register simulated devices on the local hub (idempotent: a re-run changes nothing, a larger N adds)");
  c->add_option("-n,--devices", o->devices, "How many devices (ids PREFIX00001...)")->check(CLI::Range(1, 1'000'000));
  c->add_option("--profile", o->profile, "Simulator profile YAML (default: the built-in one)");
  c->add_option("--seed", o->seed, "Seed of every random draw: the same seed, the same fleet")->capture_default_str();
  c->add_option("--prefix", o->prefix, "Device id prefix")->capture_default_str();
  c->add_option("--start", o->start, "Start the hub's sim clock at this RFC 3339 time (default: now), if it has none");
  c->add_flag("--print-default-profile", o->print_default_profile, "Print the built-in profile, to copy and edit");
  d.on(c, [o](Context& ctx) { return run_fleet(*o, ctx); });
}

}  // namespace aiot::cli::sim
