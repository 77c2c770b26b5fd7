// aiot config set KEY VALUE [--profile NAME]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "cli/common.hpp"
#include "config/verbs.hpp"

namespace aiot::cli::config_cmd {

namespace {

struct SetOptions {
  std::string key;
  std::string value;
  std::optional<std::string> profile;  // `config set --profile NAME`: may name a profile that does not exist yet
};

int run_set(const SetOptions& o, Context& ctx) {
  const auto& settings = ctx.settings();
  const auto* spec = config::find_key(o.key);
  if (!spec) {
    if (o.key == "profile") {
      throw Error::usage("the active profile is chosen with 'aiot config use PROFILE'");
    }
    config::throw_unknown_key(o.key);
  }
  // The section: `config set --profile P`, else the global --profile, else the top level.
  // (A global --profile must name an existing profile; the verb's own flag can create one.)
  std::optional<std::string> profile = o.profile;
  if (profile && profile->empty()) {
    throw Error::usage("--profile: a profile name must not be empty");
  }
  if (!profile && settings.profile_origin() == "flag --profile") {
    profile = settings.profile();
  }
  // A relative path means relative to where it was typed, not to the settings file; "~/" is
  // kept, the file reader expands it.
  std::string value = o.value;
  if (!value.starts_with("~")) {
    value = config::anchor_value(*spec, value, ctx.cwd, ctx.env);
  }

  const auto& file = settings.paths().user_file;
  config::set_in_file(file, o.key, value, profile);

  const std::string section = profile ? fmt::format(" (profile {})", *profile) : std::string();
  say(ctx, fmt::format("Set {} = {} in {}{}", o.key, spec->secret ? "(secret)" : value, file.string(), section));
  // Writing into a profile that is not the active one cannot be shadowed here.
  if (!profile || *profile == settings.profile()) {
    warn_if_shadowed(ctx, o.key, file.string() + section);
  }
  return 0;
}

}  // namespace

void warn_if_shadowed(Context& ctx, const std::string& key, const std::string& expected_origin) {
  const auto& before = ctx.settings();
  auto after = config::Settings::resolve(ctx.env, ctx.cwd, before.flags());
  const bool is_profile = key == "profile";
  const std::string& origin = is_profile ? after.profile_origin() : after.get_with_origin(key).origin;
  if (origin == expected_origin) {
    return;
  }
  const std::string& value = is_profile ? after.profile() : after.get(key);
  const auto* spec = config::find_key(key);
  warn(ctx, fmt::format("{} is still '{}' here: {} takes precedence", key, spec && spec->secret ? "(secret)" : value,
                        origin));
}

void add_set(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<SetOptions>();
  auto* c = group.add_subcommand("set", "Set a setting in the user settings file");
  c->add_option("key", o->key, "Setting name, e.g. hub, output, aws.region")->required();
  c->add_option("value", o->value, "New value (checked before anything is written)")->required();
  auto* profile = c->add_option("--profile", "Write into this profile's section, creating it if needed (default: the "
                                "global --profile, else the top level)");
  profile->type_name("NAME");
  c->footer(
      "Writes $XDG_CONFIG_HOME/aiot/config.yaml (or the --config FILE). Comments in that file are not kept.");
  d.on(c, [o, profile](Context& ctx) {
    // Read after parsing: a given-but-empty --profile must not mean "no profile".
    if (profile->count() > 0) {
      o->profile = profile->as<std::string>();
    }
    return run_set(*o, ctx);
  });
}

}  // namespace aiot::cli::config_cmd
