// aiot help [exit-codes|environment|COMMAND...]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/proc/plugin.hpp"
#include "cli/common.hpp"
#include "docs/manpage.hpp"
#include "groups.hpp"

namespace aiot::cli {

namespace {

void print_exit_codes(Context& ctx) {
  auto& out = ctx.io.out();
  out << "Exit codes (the same for every command):\n";
  for (const auto& e : exit_code_table()) out << fmt::format("  {:>3}  {:<12} {}\n", to_int(e.code), e.name, e.meaning);
}

void print_environment(Context& ctx) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& k : config::key_table())
    rows.emplace_back(k.env, fmt::format("{} (setting '{}')", k.description, k.key));
  for (const auto& v : docs::fixed_environment()) rows.emplace_back(v.name, v.meaning);
  size_t width = 0;
  for (const auto& [name, text] : rows) width = std::max(width, name.size());
  auto& out = ctx.io.out();
  out << "Environment:\n";
  for (const auto& [name, text] : rows) out << fmt::format("  {:<{}}  {}\n", name, width, text);
}

}  // namespace

void add_help_group(CLI::App& root, Dispatch& d) {
  auto topics = std::make_shared<std::vector<std::string>>();
  auto* c = root.add_subcommand("help", "Help on a command or topic: exit-codes, environment");
  c->add_option("topic", *topics, "exit-codes, environment, or a command path such as 'device list'");
  CLI::App* root_ptr = &root;
  d.on(c, [topics, root_ptr](Context& ctx) -> int {
    if (topics->empty()) {
      ctx.io.out() << root_ptr->help();
      auto plugins = proc::list_plugins(ctx.env.get_or("PATH", ""));
      if (!plugins.empty()) {
        ctx.io.out() << "\nPlugins (aiot-NAME on PATH):\n";
        for (const auto& [name, path] : plugins) ctx.io.out() << fmt::format("  {:<16} {}\n", name, path.string());
      }
      return 0;
    }
    if (topics->size() == 1 && (*topics)[0] == "exit-codes") {
      print_exit_codes(ctx);
      return 0;
    }
    if (topics->size() == 1 && (*topics)[0] == "environment") {
      print_environment(ctx);
      return 0;
    }
    CLI::App* at = root_ptr;
    for (const auto& word : *topics) {
      CLI::App* next = nullptr;
      for (auto* sub : at->get_subcommands({}))
        if (sub->get_name() == word) next = sub;
      if (!next)
        throw Error::usage(fmt::format("no help topic or command '{}'", word),
                           "Topics: exit-codes, environment; or a command such as 'aiot help device list'.");
      at = next;
    }
    ctx.io.out() << at->help();
    return 0;
  });
}

}  // namespace aiot::cli
