// aiot device export [--format csv|jsonl] [--out FILE] [--where QUERY]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "aiot/context.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/fleet/device_file.hpp"
#include "aiot/hub/hub.hpp"
#include "cli/common.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct ExportOptions {
  std::string format = "csv";
  std::string out;
  std::string where;
};

int run_export(const ExportOptions& o, Context& ctx) {
  auto devices = ctx.hub().registry().list({.where = o.where});
  std::string text = o.format == "csv" ? fleet::to_csv(devices) : fleet::to_jsonl(devices);
  if (o.out.empty() || o.out == "-") {
    ctx.io.out() << text;
  } else {
    std::filesystem::path p = o.out;
    if (p.is_relative()) p = ctx.cwd / p;
    fs::write_atomic(p, text);
    say(ctx, fmt::format("Exported {} devices to {}", devices.size(), p.string()));
  }
  return 0;
}

}  // namespace

void add_export(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<ExportOptions>();
  auto* c = group.add_subcommand("export", "Export devices as CSV or JSON Lines (never secrets), re-importable");
  c->add_option("--format", o->format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl", "json"}))->capture_default_str();
  c->add_option("--out", o->out, "Write to FILE atomically instead of stdout");
  c->add_option("-w,--where", o->where, "Only devices matching this query condition");
  d.on(c, [o](Context& ctx) { return run_export(*o, ctx); });
}

}  // namespace aiot::cli::device
