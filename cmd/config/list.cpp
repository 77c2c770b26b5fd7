// aiot config list [--show-origin]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "cli/common.hpp"
#include "config/verbs.hpp"

namespace aiot::cli::config_cmd {

namespace {

struct ListOptions {
  bool show_origin = false;
};

int run_list(const ListOptions& o, Context& ctx) {
  const auto& settings = ctx.settings();
  auto rows = nlohmann::json::array();
  auto add = [&](const std::string& key, const std::string& value, const std::string& origin) {
    nlohmann::json row{{"key", key}, {"value", value}};
    if (o.show_origin) {
      row["origin"] = origin;
    }
    rows.push_back(std::move(row));
  };
  // The profile first: it decides where the values below come from.
  add("profile", settings.profile(), settings.profile_origin());
  for (const auto& spec : config::key_table()) {
    const auto& v = settings.get_with_origin(spec.key);
    add(spec.key, spec.secret && !v.value.empty() ? "(secret)" : v.value, v.origin);
  }
  std::vector<output::Column> columns{{"KEY", "key"}, {"VALUE", "value"}};
  if (o.show_origin) {
    columns.push_back({"ORIGIN", "origin"});
  }
  output::print_list(ctx.io, rows, columns, render_options(ctx));
  return 0;
}

}  // namespace

void add_list(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<ListOptions>();
  auto* c = group.add_subcommand("list", "List every setting with its value")->alias("ls");
  c->add_flag("--show-origin", o->show_origin, "Say where each value comes from (file, environment, flag, default)");
  d.on(c, [o](Context& ctx) { return run_list(*o, ctx); });
}

}  // namespace aiot::cli::config_cmd
