// aiot device list [--where QUERY] [--tag k=v]... [--limit N]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/hub/query.hpp"
#include "cli/common.hpp"
#include "device/columns.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct ListOptions {
  std::string where;
  std::vector<std::string> tags;
  std::size_t limit = 0;
};

int run_list(const ListOptions& o, Context& ctx) {
  auto devices = ctx.hub().registry().list({.where = tag_condition(o.where, o.tags), .limit = o.limit});
  auto rows = nlohmann::json::array();
  for (auto& dev : devices) rows.push_back(hub::to_twin_json(std::move(dev)));
  output::print_list(ctx.io, rows, device_columns(), render_options(ctx));
  return 0;
}

}  // namespace

// --tag k=v filters join the --where condition with AND.
std::string tag_condition(const std::string& where, const std::vector<std::string>& tag_flags) {
  std::string cond = where;
  auto tags = parse_tags(tag_flags, "--tag");
  for (auto& [k, v] : tags.items()) {
    std::string term = "tags." + k + " = " + hub::query::quote_literal(v.get<std::string>());
    cond = cond.empty() ? term : "(" + cond + ") AND " + term;
  }
  return cond;
}

void add_list(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<ListOptions>();
  auto* c = group.add_subcommand("list", "List devices, optionally filtered by a query")->alias("ls");
  c->add_option("-w,--where", o->where,
                "Query condition, e.g. \"tags.site = 'berlin' AND properties.reported.aiot.ota.version != '2.0'\"");
  c->add_option("--tag", o->tags, "Only devices with this tag KEY=VALUE (repeatable)");
  c->add_option("-n,--limit", o->limit, "At most N devices (0 = all)");
  d.on(c, [o](Context& ctx) { return run_list(*o, ctx); });
}

}  // namespace aiot::cli::device
