#include "rollout/decision.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "cli/common.hpp"
#include "rollout/common.hpp"

namespace aiot::cli::rollout {

CLI::App* add_decision(CLI::App& group, Dispatch& d, const std::string& verb, const std::string& help,
                       std::shared_ptr<DecisionArgs> args, DecisionFn fn) {
  auto* c = group.add_subcommand(verb, help);
  c->add_option("name", args->name, "Rollout name")->required();
  c->add_option("--remark", args->remark, "Why: recorded in the journal with who did it");
  d.on(c, [args, fn, verb](Context& ctx) {
    auto driver = make_driver(ctx);
    fn(*driver.controller, *args);
    say(ctx, fmt::format("{}: done for rollout {}", verb, args->name));
    auto status = driver.controller->status(args->name);
    auto opt = render_options(ctx);
    if (opt.format == output::Format::table) ctx.io.out() << render_status_tree(status, ctx.io.color_out());
    else output::print_object(ctx.io, status, opt);
    return 0;
  });
  return c;
}

}  // namespace aiot::cli::rollout
