// aiot model|firmware diff NAME V1 V2 [--fail-on-breaking]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/artifact.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"

namespace aiot::cli::model {

namespace {

struct DiffOptions {
  std::string name, from, to;
  bool fail_on_breaking = false;
};

int run_diff(const DiffOptions& o, Context& ctx, Kind kind) {
  auto store = open_store(ctx);
  auto a = store->need(kind, o.name, o.from);
  auto b = store->need(kind, o.name, o.to);
  auto changes = artifact::diff(a, b);
  std::size_t breaking = 0;
  auto rows = nlohmann::json::array();
  for (const auto& c : changes) {
    if (c.breaking) ++breaking;
    rows.push_back(c.to_json());
  }
  auto opt = render_options(ctx);
  if (opt.format == output::Format::json || opt.format == output::Format::yaml) {
    output::print_object(ctx.io,
                         {{"name", o.name}, {"from", o.from}, {"to", o.to}, {"breaking", breaking > 0}, {"changes", rows}},
                         opt);
  } else {
    static const output::Column k_columns[] = {{"FIELD", "field"},
                                               {"BEFORE", "before"},
                                               {"AFTER", "after"},
                                               {"BREAKING", "breaking", output::ColumnKind::text}};
    output::print_list(ctx.io, rows, k_columns, opt);
  }
  say(ctx, changes.empty() ? fmt::format("{} {} and {} are identical", o.name, o.from, o.to)
                           : fmt::format("{} change{}, {} breaking the I/O signature", changes.size(),
                                         changes.size() == 1 ? "" : "s", breaking));
  if (breaking > 0 && o.fail_on_breaking) {
    throw Error::verdict(fmt::format("{} {} breaks the I/O signature of {}", o.name, o.to, o.from));
  }
  return 0;
}

}  // namespace

void add_diff(CLI::App& group, Dispatch& d, Kind kind) {
  auto o = std::make_shared<DiffOptions>();
  auto* c = group.add_subcommand("diff", "Compare two versions: digest, metadata and I/O signature (breaking changes flagged)");
  c->add_option("name", o->name, "Artifact name")->required();
  c->add_option("v1", o->from, "The older version")->required();
  c->add_option("v2", o->to, "The newer version")->required();
  c->add_flag("--fail-on-breaking", o->fail_on_breaking, "Exit 3 when a change breaks the I/O signature");
  d.on(c, [o, kind](Context& ctx) { return run_diff(*o, ctx, kind); });
}

}  // namespace aiot::cli::model
