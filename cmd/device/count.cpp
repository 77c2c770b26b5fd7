// aiot device count [--where QUERY] [--tag k=v]... [--by PATH]...
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "aiot/context.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/hub/query.hpp"
#include "cli/common.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct CountOptions {
  std::string where;
  std::vector<std::string> tags;
  std::vector<std::string> by;
};

// Output names of the --by paths: the last name ("version"), made unique with the one before it.
std::vector<std::string> names_of(const std::vector<hub::query::PropertyPath>& paths) {
  std::vector<std::string> names;
  std::set<std::string> taken{"count"};
  for (const auto& p : paths) {
    const std::string name = p.last_name();
    std::string unique = name;
    for (int i = 2; taken.count(unique); ++i) unique = fmt::format("{}_{}", name, i);
    taken.insert(unique);
    names.push_back(unique);
  }
  return names;
}

int run_count(const CountOptions& o, Context& ctx) {
  // Parsed first: a bad path is exit 2 before the hub is asked anything.
  std::vector<hub::query::PropertyPath> paths;
  std::vector<std::string> canonical;
  for (const auto& text : o.by) {
    paths.push_back(hub::query::PropertyPath::parse(text));
    canonical.push_back(paths.back().to_string());
  }
  auto groups = ctx.hub().registry().count_by(tag_condition(o.where, o.tags), canonical);
  // Most devices first; ties in key order, so the output is stable.
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    return a.count != b.count ? a.count > b.count : a.keys < b.keys;
  });
  const auto names = names_of(paths);
  auto rows = nlohmann::json::array();
  for (const auto& g : groups) {
    nlohmann::json row = nlohmann::json::object();
    for (std::size_t i = 0; i < names.size(); ++i)
      if (g.keys[i]) row[names[i]] = *g.keys[i];  // undefined on these devices: left out, as IoT Hub does
    row["count"] = g.count;
    rows.push_back(std::move(row));
  }
  std::vector<output::Column> columns;
  for (const auto& n : names) columns.push_back({str::to_upper(n), n, output::ColumnKind::text});
  columns.push_back({"COUNT", "count", output::ColumnKind::text});
  output::print_list(ctx.io, rows, columns, render_options(ctx));
  return 0;
}

}  // namespace

void add_count(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<CountOptions>();
  auto* c = group.add_subcommand("count", "Count devices, optionally grouped by properties (one query, not a listing)");
  c->add_option("-w,--where", o->where, "Query condition: count only the devices it matches");
  c->add_option("--tag", o->tags, "Only devices with this tag KEY=VALUE (repeatable)");
  c->add_option("-b,--by", o->by,
                "Group by this property path, e.g. properties.reported.aiot.ota.version (repeatable)");
  d.on(c, [o](Context& ctx) { return run_count(*o, ctx); });
}

}  // namespace aiot::cli::device
