// aiot rollout apply -f rollout.yaml [--wait [--timeout D]] [--detach] [--steal-lease] [--allow-underpowered]
//                    [--allow-breaking] [--require-signature]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/rollout_link.hpp"
#include "aiot/context.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/rollout/planner.hpp"
#include "cli/common.hpp"
#include "rollout/common.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

namespace ro = aiot::rollout;

namespace {

struct ApplyOptions {
  std::string file;
  bool wait = false;
  std::string timeout;
  bool detach = false;
  bool steal_lease = false;
  bool allow_underpowered = false;
  bool allow_breaking = false;
  bool require_signature = false;
};

int run_apply(const ApplyOptions& o, Context& ctx) {
  std::filesystem::path path = o.file;
  if (path.is_relative()) path = ctx.cwd / path;
  std::string yaml = fs::read_file(path);
  auto spec = ro::parse_spec(yaml, o.file);
  // Before the digest is compared: a registry artifact's digest covers what it resolved to.
  auto artifacts = artifact::open_and_resolve(ctx, spec, {o.require_signature});
  auto driver = make_driver(ctx);
  auto& controller = *driver.controller;

  std::optional<std::chrono::milliseconds> timeout;
  if (!o.timeout.empty()) {
    timeout = parse_duration(o.timeout);
    if (!timeout) throw Error::usage(fmt::format("--timeout: '{}' is not a duration (90s, 15m, 4h, 7d)", o.timeout));
  }

  if (!driver.backend->read(spec.name)) {
    auto cohort = ctx.hub().registry().list({.where = ro::cohort_condition(spec)});
    ro::PlanOptions popt;
    if (auto ex = ro::excluded_condition(spec); !ex.empty()) popt.excluded = ctx.hub().registry().list({.where = ex}).size();
    auto plan = ro::make_plan(spec, cohort, popt);
    for (const auto& w : plan.warnings) warn(ctx, w);
    if (artifacts) {
      for (const auto& w : artifact::check_compatibility(spec, *artifacts, plan.baseline_version, o.allow_breaking)) {
        warn(ctx, w);
      }
    }
    if (!plan.underpowered.empty() && !o.allow_underpowered)
      throw Error::usage(fmt::format("{} critical gate(s) cannot detect what they are set to catch; nothing was dispatched",
                                     plan.underpowered.size()),
                         "Make the waves larger or the thresholds wider, or pass --allow-underpowered.");
    if (controller.start(spec, yaml, plan, plan.baseline_model))
      say(ctx, fmt::format("Started rollout {}: {} -> {} on {} devices in {} waves", spec.name, plan.baseline_version,
                           spec.artifact.version, plan.cohort_size, plan.waves.size()));
  } else {
    controller.start(spec, yaml, ro::Plan{}, nlohmann::json::object());  // same digest: resume; other digest: refused
    say(ctx, fmt::format("Resuming rollout {}", spec.name));
  }

  // Drive: one step at a time. Without --wait, stop at the first point where nothing happens by
  // itself (the first wave dispatched and baking); with --wait, go on to a final state.
  TimePoint started = ctx.hub().now();
  ro::StepResult r{ro::Phase::planned};
  for (int guard = 0; guard < 1'000'000; ++guard) {
    r = controller.step(spec.name, o.steal_lease);
    if (r.changed) say(ctx, r.summary);
    if (ro::is_final(r.phase) || r.phase == ro::Phase::awaiting_approval || r.phase == ro::Phase::paused) break;
    if (r.changed) continue;
    if (!o.wait || o.detach) break;
    if (timeout && ctx.hub().now() - started >= *timeout) {
      say(ctx, fmt::format("--timeout {} reached", o.timeout));
      break;
    }
    // Without --timeout, a rollout that has not moved in 30 days of hub time is stuck, not slow.
    if (!timeout && ctx.hub().now() - started >= std::chrono::hours(24 * 30)) {
      warn(ctx, "no final state after 30 days of hub time; stopping (pass --timeout to wait longer)");
      break;
    }
    if (!let_time_pass(ctx, spec.analysis.interval)) break;
  }

  auto status = controller.status(spec.name);
  auto opt = render_options(ctx);
  if (opt.format == output::Format::table) ctx.io.out() << render_status_tree(status, ctx.io.color_out());
  else output::print_object(ctx.io, status, opt);
  if (!o.wait || o.detach) return 0;
  return ro::exit_code_for(r.phase);
}

}  // namespace

void add_apply(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<ApplyOptions>();
  auto* c = group.add_subcommand("apply", "Start or resume a rollout (idempotent by name and spec digest)");
  c->add_option("-f,--file", o->file, "The rollout spec (rollout.yaml)")->required();
  c->add_flag("--wait", o->wait, "Follow the rollout to a final state: exit 0 succeeded, 3 rolled back/aborted, 6 waiting");
  c->add_option("--timeout", o->timeout, "With --wait: give up after this much hub time (exit 6)");
  c->add_flag("--detach", o->detach, "Return once the current wave is dispatched (the default without --wait)");
  c->add_flag("--steal-lease", o->steal_lease, "Take over from another driver (journaled)");
  c->add_flag("--allow-underpowered", o->allow_underpowered, "Start even when a critical gate cannot detect its threshold");
  c->add_flag("--allow-breaking", o->allow_breaking,
              "Start even when a registry artifact's I/O signature breaks the baseline version's");
  c->add_flag("--require-signature", o->require_signature, "Refuse an unsigned artifact whatever the spec says");
  d.on(c, [o](Context& ctx) { return run_apply(*o, ctx); });
}

}  // namespace aiot::cli::rollout
