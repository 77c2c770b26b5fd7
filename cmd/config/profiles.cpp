// aiot config profiles; aiot config use PROFILE
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "cli/common.hpp"
#include "config/verbs.hpp"

namespace aiot::cli::config_cmd {

namespace {

int run_profiles(Context& ctx) {
  const auto& settings = ctx.settings();
  const auto opt = render_options(ctx);
  // A table marks the active profile with "*"; json, yaml and csv keep a boolean.
  const bool mark = opt.format == output::Format::table;
  auto rows = nlohmann::json::array();
  for (const auto& [name, hub] : settings.profiles()) {
    const bool active = name == settings.profile();
    nlohmann::json row{{"name", name}, {"hub", hub}};
    row["active"] = mark ? nlohmann::json(active ? "*" : "") : nlohmann::json(active);
    rows.push_back(std::move(row));
  }
  static const output::Column k_columns[] = {{"NAME", "name"}, {"HUB", "hub"}, {"ACTIVE", "active"}};
  output::print_list(ctx.io, rows, k_columns, opt);
  return 0;
}

struct UseOptions {
  std::string profile;
};

int run_use(const UseOptions& o, Context& ctx) {
  const auto& settings = ctx.settings();
  if (!settings.profiles().contains(o.profile)) {
    std::vector<std::string> names;
    for (const auto& [name, hub] : settings.profiles()) {
      names.push_back(name);
    }
    throw Error::usage(fmt::format("no profile '{}'; profiles: {}", o.profile, str::join(names, ", ")),
                       fmt::format("Create it first, e.g. 'aiot config set --profile {} hub local'.", o.profile));
  }
  const auto& file = settings.paths().user_file;
  config::set_profile_in_file(file, o.profile);
  say(ctx, fmt::format("Using profile {} (set in {})", o.profile, file.string()));
  warn_if_shadowed(ctx, "profile", file.string());
  return 0;
}

}  // namespace

void add_profiles(CLI::App& group, Dispatch& d) {
  auto* c = group.add_subcommand("profiles", "List the profiles defined in the settings files");
  d.on(c, [](Context& ctx) { return run_profiles(ctx); });
}

void add_use(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<UseOptions>();
  auto* c = group.add_subcommand("use", "Make a profile the active one (written to the user settings file)");
  c->add_option("profile", o->profile, "Profile name, or 'default'")->required();
  d.on(c, [o](Context& ctx) { return run_use(*o, ctx); });
}

}  // namespace aiot::cli::config_cmd
