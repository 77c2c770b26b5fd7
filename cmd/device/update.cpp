// aiot device update ID [--tag k=v]... [--untag k]... [--desired path=JSON]... [--disable|--enable] [--if-match ETAG]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/hub.hpp"
#include "cli/common.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct UpdateOptions {
  std::string id;
  std::vector<std::string> tags;
  std::vector<std::string> untags;
  std::vector<std::string> desired;
  bool disable = false;
  bool enable = false;
  std::string if_match;
};

// "aiot.model.version=\"2.0\"" -> {"aiot":{"model":{"version":"2.0"}}}. A value that is not JSON
// is taken as a string, so --desired fan=on works without shell quoting gymnastics.
void add_desired(nlohmann::json& patch, const std::string& item) {
  std::string path, value;
  if (!str::split_kv(item, path, value))
    throw Error::usage(fmt::format("--desired takes PATH=JSON, got '{}'", item));
  auto parsed = nlohmann::json::parse(value, nullptr, false);
  nlohmann::json v = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  nlohmann::json* at = &patch;
  auto parts = str::split(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (p.empty() || p.find_first_of("$ ") != std::string::npos)
      throw Error::usage(fmt::format("--desired: '{}' is not a property path (names without '$' or spaces, joined by '.')", path));
    if (i + 1 == parts.size()) {
      (*at)[p] = v;
    } else {
      if (!at->contains(p) || !(*at)[p].is_object()) (*at)[p] = nlohmann::json::object();
      at = &(*at)[p];
    }
  }
}

int run_update(const UpdateOptions& o, Context& ctx) {
  hub::DeviceUpdate u;
  u.id = o.id;
  u.if_match = o.if_match;
  if (o.disable) u.enabled = false;
  if (o.enable) u.enabled = true;
  u.tags_patch = parse_tags(o.tags, "--tag");
  for (const auto& k : o.untags) {
    if (u.tags_patch.contains(k)) throw Error::usage(fmt::format("tag '{}' is both set and removed", k));
    u.tags_patch[k] = nullptr;
  }
  for (const auto& item : o.desired) add_desired(u.desired_patch, item);
  if (!u.enabled && u.tags_patch.empty() && u.desired_patch.empty())
    throw Error::usage("nothing to update", "Give --tag, --untag, --desired, --enable or --disable.");
  auto dev = ctx.hub().registry().update(u);
  output::print_object(ctx.io, hub::to_twin_json(dev), render_options(ctx));
  say(ctx, fmt::format("Updated {}", dev.id));
  return 0;
}

}  // namespace

void add_update(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<UpdateOptions>();
  auto* c = group.add_subcommand("update", "Change a device's tags, desired properties or status");
  c->add_option("id", o->id, "Device id")->required();
  c->add_option("--tag", o->tags, "Set tag KEY=VALUE (repeatable)");
  c->add_option("--untag", o->untags, "Remove tag KEY (repeatable)");
  c->add_option("--desired", o->desired, "Set desired property PATH=JSON, e.g. aiot.model.version='\"2.0\"' (repeatable)");
  auto* dis = c->add_flag("--disable", o->disable, "Disable the device");
  auto* en = c->add_flag("--enable", o->enable, "Enable the device");
  dis->excludes(en);
  c->add_option("--if-match", o->if_match, "Only if the twin's etag is still ETAG (optimistic concurrency)");
  d.on(c, [o](Context& ctx) { return run_update(*o, ctx); });
}

}  // namespace aiot::cli::device
