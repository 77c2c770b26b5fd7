// aiot rollout status NAME [--watch]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <thread>

#include "aiot/context.hpp"
#include "cli/common.hpp"
#include "rollout/common.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

namespace {

struct StatusOptions {
  std::string name;
  bool watch = false;
};

int run_status(const StatusOptions& o, Context& ctx) {
  auto driver = make_driver(ctx);
  auto opt = render_options(ctx);
  while (true) {
    auto status = driver.controller->status(o.name);
    if (opt.format == output::Format::table) {
      if (o.watch && ctx.io.out_tty()) ctx.io.out() << "\x1b[H\x1b[2J";
      ctx.io.out() << render_status_tree(status, ctx.io.color_out());
    } else {
      output::print_object(ctx.io, status, opt);
    }
    ctx.io.out().flush();
    auto phase = aiot::rollout::parse_phase(status["phase"].get<std::string>());
    if (!o.watch || aiot::rollout::is_final(phase)) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

}  // namespace

void add_status(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<StatusOptions>();
  auto* c = group.add_subcommand("status", "Show a rollout: waves, gates (n, estimate, interval, verdict), device states");
  c->add_option("name", o->name, "Rollout name")->required();
  c->add_flag("-w,--watch", o->watch, "Refresh every 2 s until the rollout is final");
  d.on(c, [o](Context& ctx) { return run_status(*o, ctx); });
}

}  // namespace aiot::cli::rollout
