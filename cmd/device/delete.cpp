// aiot device delete ID... [--yes]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "aiot/context.hpp"
#include "aiot/hub/hub.hpp"
#include "cli/common.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct DeleteOptions {
  std::vector<std::string> ids;
  bool yes = false;
  bool missing_ok = false;
};

int run_delete(const DeleteOptions& o, Context& ctx, const bool& global_yes) {
  auto& registry = ctx.hub().registry();
  // Check every id first: a typo in the fifth id must not leave four devices deleted.
  std::vector<std::string> present;
  for (const auto& id : o.ids) {
    try {
      registry.get(id);
      present.push_back(id);
    } catch (const Error& e) {
      if (e.reason() != Reason::not_found || !o.missing_ok) throw;
    }
  }
  if (present.empty()) return 0;
  std::string what = present.size() == 1 ? "device " + present[0] : fmt::format("{} devices", present.size());
  if (!confirm(ctx, fmt::format("Delete {} from {}?", what, ctx.hub().describe()), o.yes || global_yes)) {
    say(ctx, "Nothing deleted.");
    return to_int(ExitCode::failure);
  }
  for (const auto& id : present) {
    registry.remove(id);
    say(ctx, fmt::format("Deleted {}", id));
  }
  return 0;
}

}  // namespace

void add_delete(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<DeleteOptions>();
  auto* c = group.add_subcommand("delete", "Delete devices (asks on a terminal; --yes otherwise)")->alias("rm");
  c->add_option("ids", o->ids, "Device ids")->required();
  c->add_flag("--missing-ok", o->missing_ok, "Succeed when a device does not exist");
  // -y/--yes is a global flag; read it from the root so `device delete x --yes` works.
  auto* root = &group;
  while (root->get_parent()) root = root->get_parent();
  auto* yes_opt = root->get_option("--yes");
  d.on(c, [o, yes_opt](Context& ctx) {
    bool global_yes = yes_opt->count() > 0;
    return run_delete(*o, ctx, global_yes);
  });
}

}  // namespace aiot::cli::device
