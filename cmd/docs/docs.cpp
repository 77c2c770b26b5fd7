// aiot completion SHELL; aiot __docs --man DIR --completions DIR; aiot __complete KIND [PREFIX]
#include "docs/docs.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/hub/factory.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/rollout/backend.hpp"
#include "cli/common.hpp"
#include "docs/completion.hpp"
#include "docs/manpage.hpp"
#include "docs/tree.hpp"
#include "root.hpp"

namespace aiot::cli {

namespace {

namespace stdfs = std::filesystem;

constexpr std::size_t k_max_devices = 200;  // enough to pick from; a shell menu of 100k ids helps nobody

// The generators read a tree built afresh, so `aiot completion`, `aiot __docs` and the staleness
// test all describe exactly the same tree (nothing left over from parsing this command line).
std::map<std::string, std::string> fresh_generated_files() {
  CLI::App root;
  Dispatch dispatch;
  GlobalOptions globals;
  build_tree(root, dispatch, globals);
  return docs::generated_files(root);
}

std::string fresh_completion_script(const std::string& shell) {
  CLI::App root;
  Dispatch dispatch;
  GlobalOptions globals;
  build_tree(root, dispatch, globals);
  return docs::completion_script(docs::describe_tree(root), shell);
}

stdfs::path absolute(const Context& ctx, const std::string& p) {
  stdfs::path path = p;
  return path.is_relative() ? ctx.cwd / path : path;
}

struct DocsOptions {
  std::string man;
  std::string completions;
};

int run_docs(const DocsOptions& o, Context& ctx) {
  if (o.man.empty() && o.completions.empty()) {
    throw Error::usage("nothing to write", "Pass --man DIR, --completions DIR or both.");
  }
  const auto files = fresh_generated_files();
  std::size_t written = 0;
  auto write_area = [&](const std::string& area, const std::string& dir_flag) {
    if (dir_flag.empty()) return;
    const stdfs::path dir = absolute(ctx, dir_flag);
    fs::ensure_dir(dir);
    for (const auto& [rel, text] : files) {
      if (rel.rfind(area + "/", 0) != 0) continue;
      fs::write_atomic(dir / rel.substr(area.size() + 1), text);
      ++written;
    }
    // A page of a group that no longer exists would otherwise stay installed forever.
    if (area == "man") {
      std::vector<stdfs::path> stale;
      for (const auto& entry : stdfs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        const bool ours = name.rfind("aiot", 0) == 0 && entry.path().extension() == ".1";
        if (ours && !files.contains("man/" + name)) stale.push_back(entry.path());
      }
      for (const auto& p : stale) {
        stdfs::remove(p);
        say(ctx, fmt::format("Removed stale {}", p.string()));
      }
    }
    say(ctx, fmt::format("Wrote {} in {}", area == "man" ? "man pages" : "completion scripts", dir.string()));
  };
  write_area("man", o.man);
  write_area("completions", o.completions);
  say(ctx, fmt::format("{} files generated", written));
  return 0;
}

struct CompleteOptions {
  std::string kind;
  std::string prefix;
};

// A query string literal: ' and \ are the lexer's escapes.
std::string query_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += c == '\'' ? '\'' : '\\';
    out += c;
  }
  return out + "'";
}

// A local hub that does not exist has no devices; opening it would create the file.
bool hub_file_missing(Context& ctx) {
  const std::string& hub = ctx.settings().get("hub");
  if (hub == "local") return !stdfs::exists(aiot::hub::default_local_path(ctx));
  if (hub.rfind("local:", 0) == 0) return !stdfs::exists(absolute(ctx, hub.substr(6)));
  return false;
}

std::vector<std::string> candidates(const CompleteOptions& o, Context& ctx) {
  std::vector<std::string> out;
  auto keep = [&](const std::string& value) {
    if (value.rfind(o.prefix, 0) == 0) out.push_back(value);
  };
  if (o.kind == "profiles") {
    for (const auto& [name, hub] : ctx.settings().profiles()) keep(name);
  } else if (o.kind == "devices") {
    if (hub_file_missing(ctx)) return out;
    std::string where = aiot::rollout::k_not_controller;
    if (!o.prefix.empty()) where = fmt::format("STARTSWITH(deviceId, {}) AND {}", query_literal(o.prefix), where);
    for (const auto& dev : ctx.hub().registry().list({.where = where, .limit = k_max_devices})) keep(dev.id);
  } else if (o.kind == "rollouts") {
    if (hub_file_missing(ctx)) return out;
    for (const auto& name : aiot::rollout::make_backend(ctx.hub())->rollouts()) keep(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void add_completion_group(CLI::App& root, Dispatch& d) {
  auto shell = std::make_shared<std::string>();
  auto* c = root.add_subcommand("completion", "Print a shell completion script: bash, zsh or fish");
  c->add_option("shell", *shell, "The shell")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  d.on(c, [shell](Context& ctx) {
    ctx.io.out() << fresh_completion_script(*shell);
    return 0;
  });
}

void add_docs_group(CLI::App& root, Dispatch& d) {
  auto docs_options = std::make_shared<DocsOptions>();
  auto* docs = root.add_subcommand("__docs", "Write the man pages and completion scripts generated from this tree");
  docs->group("");  // hidden: for the build and the release, not for users
  docs->add_option("--man", docs_options->man, "Folder for aiot.1 and aiot-GROUP.1");
  docs->add_option("--completions", docs_options->completions, "Folder for aiot.bash, _aiot and aiot.fish");
  d.on(docs, [docs_options](Context& ctx) { return run_docs(*docs_options, ctx); });

  auto complete_options = std::make_shared<CompleteOptions>();
  auto* complete = root.add_subcommand("__complete", "Print completion candidates, one per line");
  complete->group("");  // hidden: called by the completion scripts
  complete->add_option("kind", complete_options->kind, "profiles, devices or rollouts")
      ->required()
      ->check(CLI::IsMember({"profiles", "devices", "rollouts"}));
  complete->add_option("prefix", complete_options->prefix, "Only candidates starting with this");
  d.on(complete, [complete_options](Context& ctx) {
    for (const auto& value : candidates(*complete_options, ctx)) ctx.io.out() << value << '\n';
    return 0;
  });
}

}  // namespace aiot::cli
