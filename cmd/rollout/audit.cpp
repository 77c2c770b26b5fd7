// aiot rollout audit verify NAME [--journal FILE]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/rollout/journal.hpp"
#include "cli/common.hpp"
#include "rollout/common.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

namespace {

struct VerifyOptions {
  std::string name;
  std::string journal;
};

int run_verify(const VerifyOptions& o, Context& ctx) {
  auto driver = make_driver(ctx);
  auto head = driver.controller->hub_head(o.name);
  if (!head) throw Error::not_found(fmt::format("no rollout '{}' in this hub", o.name));
  std::filesystem::path path = o.journal.empty() ? driver.controller->journal_path(o.name) : std::filesystem::path(o.journal);
  if (path.is_relative()) path = ctx.cwd / path;
  auto r = aiot::rollout::verify_journal(path, *head);
  nlohmann::json out = {{"rollout", o.name},     {"journal", path.string()}, {"ok", r.ok},
                        {"events", r.events},    {"head", r.head.to_json()}, {"hubHead", head->to_json()}};
  if (!r.ok) {
    out["line"] = r.bad_line;
    out["problem"] = r.problem;
  }
  output::print_object(ctx.io, out, render_options(ctx));
  if (!r.ok) {
    ctx.io.err() << fmt::format("{}:{}: {}\n", path.string(), r.bad_line, r.problem);
    return to_int(ExitCode::verdict);
  }
  say(ctx, fmt::format("Journal verified: {} events, head {} matches the hub", r.events, r.head.hash.substr(0, 16)));
  return 0;
}

}  // namespace

void add_audit(CLI::App& group, Dispatch& d) {
  auto* g = group.add_subcommand("audit", "Check a rollout's journal against the head recorded in the hub");
  g->require_subcommand(1);
  auto o = std::make_shared<VerifyOptions>();
  auto* c = g->add_subcommand("verify", "Verify the hash chain and that the journal reaches the hub's head (exit 3 if not)");
  c->add_option("name", o->name, "Rollout name")->required();
  c->add_option("--journal", o->journal, "Verify this file instead of the default journal");
  d.on(c, [o](Context& ctx) { return run_verify(*o, ctx); });
}

}  // namespace aiot::cli::rollout
