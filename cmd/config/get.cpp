// aiot config get KEY
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "cli/common.hpp"
#include "config/verbs.hpp"

namespace aiot::cli::config_cmd {

namespace {

struct GetOptions {
  std::string key;
};

int run_get(const GetOptions& o, Context& ctx) {
  const auto& settings = ctx.settings();
  config::Value value;
  if (o.key == "profile") {
    value = {settings.profile(), settings.profile_origin()};
  } else {
    const auto* spec = config::find_key(o.key);
    if (!spec) {
      config::throw_unknown_key(o.key);
    }
    if (spec->secret) {
      throw Error::usage(fmt::format("'{}' is a secret and is never printed", o.key));
    }
    value = settings.get_with_origin(o.key);
  }
  // The bare value is for scripts: `$(aiot config get hub)`. Only an explicit -o json|yaml|csv
  // (not an `output:` setting, which would break such scripts) asks for a structured answer.
  const bool structured = settings.get_with_origin("output").origin == "flag --output" &&
                          settings.get("output") != "table";
  if (structured) {
    nlohmann::json object{{"key", o.key}, {"value", value.value}, {"origin", value.origin}};
    output::print_object(ctx.io, object, render_options(ctx));
  } else {
    ctx.io.out() << value.value << '\n';
  }
  return 0;
}

}  // namespace

void add_get(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<GetOptions>();
  auto* c = group.add_subcommand("get", "Print the value of one setting (or 'profile', the active profile)");
  c->add_option("key", o->key, "Setting name, e.g. hub, output, aws.region")->required();
  d.on(c, [o](Context& ctx) { return run_get(*o, ctx); });
}

}  // namespace aiot::cli::config_cmd
