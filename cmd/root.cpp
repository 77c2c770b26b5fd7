#include "root.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/proc/plugin.hpp"
#include "cli/common.hpp"
#include "docs/docs.hpp"
#include "demo/demo.hpp"
#include "groups.hpp"

namespace aiot::cli {

namespace {

void add_global_flags(CLI::App& root, GlobalOptions& g) {
  root.add_option("--profile", g.profile, "Use the settings of this configuration profile")->group("Global options");
  root.add_option("--hub", g.hub, "Hub to use: local, local:PATH, azure, aws (overrides the profile)")
      ->group("Global options");
  root.add_option("-o,--output", g.output, "Output format")
      ->check(CLI::IsMember({"table", "json", "yaml", "csv"}))
      ->group("Global options");
  root.add_option("--config", g.config, "Read and write settings in this file instead of the user config file")
      ->group("Global options");
  root.add_option("--cacert", g.cacert, "Trust this CA bundle too for TLS to the clouds (verification stays on)")
      ->group("Global options");
  root.add_flag("--no-color", g.no_color, "Never colour the output (NO_COLOR is honoured too)")->group("Global options");
  root.add_flag("-q,--quiet", g.quiet, "Print no progress or confirmations, only data and errors")
      ->group("Global options");
  root.add_flag("-v,--verbose", g.verbose, "More detail on stderr (repeatable)")->group("Global options");
  root.add_flag("--debug", g.debug, "Trace requests and decisions on stderr, secrets redacted")->group("Global options");
  root.add_flag("-y,--yes", g.yes, "Answer yes to confirmations (needed when not on a terminal)")
      ->group("Global options");
  root.add_flag("--version", g.version, "Print the version and exit")->group("Global options");
}

// The deepest command that was parsed: the verb the user asked for.
CLI::App* chosen_command(CLI::App& root) {
  CLI::App* cur = &root;
  while (true) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.front();
  }
}

std::string command_path(CLI::App* app) {
  std::vector<std::string> parts;
  for (CLI::App* a = app; a; a = a->get_parent()) {
    if (!a->get_name().empty()) parts.push_back(a->get_name());
  }
  std::reverse(parts.begin(), parts.end());
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out.empty() ? "aiot" : out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// "Did you mean 'device'?" for a mistyped command name.
std::string suggestion(CLI::App* at, const std::string& word) {
  std::string best;
  size_t best_d = 3;
  for (auto* sub : at->get_subcommands({})) {
    const auto& name = sub->get_name();
    if (name.empty()) continue;
    size_t d = edit_distance(word, name);
    if (name.rfind(word, 0) == 0) d = std::min<size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = name;
    }
  }
  return best;
}

void print_error(Context& ctx, const std::string& message, const std::string& hint) {
  auto& err = ctx.io.err();
  err << output::red("error:", ctx.io.color_err()) << ' ' << message << '\n';
  if (!hint.empty()) err << hint << '\n';
  err.flush();
}

}  // namespace

void build_tree(CLI::App& root, Dispatch& d, GlobalOptions& g) {
  root.name("aiot");
  root.description(
      "aiot operates AIoT fleets: registers devices (X.509 or SAS), rolls out models and firmware in\n"
      "canary waves with health gates and automatic rollback, audits telemetry lineage, and writes\n"
      "governance reports, against Azure IoT Hub, AWS IoT Core or an embedded local hub.");
  root.footer("Run 'aiot <group> --help' for a group's verbs, 'aiot help exit-codes' for exit codes.");
  root.fallthrough(true);  // global flags are accepted after the verb too
  root.require_subcommand(0, 1);
  add_global_flags(root, g);
  add_device_group(root, d);
  add_ca_group(root, d);
  add_config_group(root, d);
  add_rollout_group(root, d);
  add_sim_group(root, d);
  add_hub_group(root, d);
  add_help_group(root, d);
  add_completion_group(root, d);
  add_docs_group(root, d);
  add_lineage_group(root, d);
  add_report_group(root, d);
  add_artifact_groups(root, d);
  add_demo(root, d);
}

namespace {

// `aiot NAME ...` where NAME is no built-in command: run aiot-NAME from PATH (git-style plugins).
std::optional<int> try_plugin(CLI::App& root, const std::vector<std::string>& args, Context& ctx) {
  if (args.empty() || args[0].empty() || args[0][0] == '-') return std::nullopt;
  for (auto* sub : root.get_subcommands({}))
    if (sub->get_name() == args[0] || sub->check_name(args[0])) return std::nullopt;
  auto exe = proc::find_plugin(args[0], ctx.env.get_or("PATH", ""));
  if (!exe) return std::nullopt;
  ctx.set_settings(config::Settings::resolve(ctx.env, ctx.cwd, {}));
  auto env = ctx.env.all();
  env["AIOT_PROFILE"] = ctx.settings().profile();
  env["AIOT_HUB"] = ctx.settings().get("hub");
  env["AIOT_OUTPUT"] = ctx.settings().get("output");
  ctx.io.out().flush();
  ctx.io.err().flush();
  return proc::run_plugin(*exe, std::vector<std::string>(args.begin() + 1, args.end()), env);
}

}  // namespace

int run(const std::vector<std::string>& args, Context& ctx) {
  CLI::App root;
  Dispatch dispatch;
  GlobalOptions g;
  build_tree(root, dispatch, g);
  try {
    if (auto code = try_plugin(root, args, ctx)) return *code;
  } catch (const Error& e) {
    print_error(ctx, e.message(), e.hint());
    return to_int(e.code());
  }

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pitfall 1
  try {
    root.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    ctx.io.out() << chosen_command(root)->help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    ctx.io.out() << root.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    ctx.io.decide_color(ctx.env, g.no_color);
    CLI::App* at = chosen_command(root);
    std::string message = e.what();
    // An unexpected first word where a verb is expected: say which command it is not.
    if (!at->get_subcommands({}).empty() && !root.remaining().empty()) {
      const std::string word = root.remaining().front();
      if (!word.empty() && word[0] != '-') {
        message = fmt::format("unknown command '{}' for '{}'", word, command_path(at));
        if (auto s = suggestion(at, word); !s.empty()) message += fmt::format(". Did you mean '{}'?", s);
      }
    }
    print_error(ctx, message, fmt::format("Run '{} --help' for usage.", command_path(at)));
    return to_int(ExitCode::usage);
  }

  ctx.io.set_quiet(g.quiet);
  ctx.io.set_verbosity(g.debug ? 2 : g.verbose);
  if (g.version) {
    ctx.io.out() << "aiot " << AIOT_VERSION << '\n';
    return 0;
  }

  try {
    config::FlagValues flags;
    if (!g.profile.empty()) flags.profile = g.profile;
    if (!g.config.empty()) flags.config_file = g.config;
    if (!g.hub.empty()) flags.values["hub"] = g.hub;
    if (!g.output.empty()) flags.values["output"] = g.output;
    if (!g.cacert.empty()) flags.values["cacert"] = g.cacert;
    if (g.no_color) flags.values["color"] = "never";
    ctx.set_settings(config::Settings::resolve(ctx.env, ctx.cwd, flags));
    const auto& color = ctx.settings().get("color");
    if (color == "always") ctx.env.set("CLICOLOR_FORCE", "1");
    ctx.io.decide_color(ctx.env, color == "never");

    CLI::App* cmd = chosen_command(root);
    const RunFn* fn = dispatch.find(cmd);
    if (!fn) {
      ctx.io.out() << cmd->help();
      return 0;
    }
    return (*fn)(ctx);
  } catch (const Error& e) {
    ctx.io.decide_color(ctx.env, g.no_color);
    print_error(ctx, e.message(), e.hint());
    return to_int(e.code());
  } catch (const std::exception& e) {
    print_error(ctx, fmt::format("unexpected failure: {}", e.what()), "");
    return to_int(ExitCode::failure);
  }
}

}  // namespace aiot::cli
