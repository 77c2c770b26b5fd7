// aiot device show ID [--show-secrets]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/hub/hub.hpp"
#include "cli/common.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct ShowOptions {
  std::string id;
  bool show_secrets = false;
};

int run_show(const ShowOptions& o, Context& ctx) {
  auto dev = ctx.hub().registry().get(o.id);
  output::print_object(ctx.io, hub::to_twin_json(dev, o.show_secrets), render_options(ctx));
  return 0;
}

}  // namespace

void add_show(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<ShowOptions>();
  auto* c = group.add_subcommand("show", "Show a device's identity and twin");
  c->add_option("id", o->id, "Device id")->required();
  c->add_flag("--show-secrets", o->show_secrets, "Include the SAS keys");
  d.on(c, [o](Context& ctx) { return run_show(*o, ctx); });
}

}  // namespace aiot::cli::device
