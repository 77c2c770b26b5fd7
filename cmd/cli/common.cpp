#include "cli/common.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::cli {

output::RenderOptions render_options(Context& ctx) {
  output::RenderOptions opt;
  opt.format = output::parse_format(ctx.settings().get("output")).value_or(output::Format::table);
  opt.now = ctx.now();
  return opt;
}

bool confirm(Context& ctx, const std::string& question, bool yes) {
  if (yes) return true;
  if (!ctx.io.can_prompt())
    throw Error::usage("--yes is required when not running interactively",
                       "Add --yes to confirm, after checking what the command will do.");
  ctx.io.err() << question << " [y/N] ";
  ctx.io.err().flush();
  std::string answer;
  if (!std::getline(ctx.io.in(), answer)) return false;
  auto a = str::to_lower(str::trim(answer));
  return a == "y" || a == "yes";
}

nlohmann::json parse_tags(const std::vector<std::string>& items, const std::string& flag) {
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& item : items) {
    std::string k, v;
    if (!str::split_kv(item, k, v))
      throw Error::usage(fmt::format("{} takes KEY=VALUE, got '{}'", flag, item));
    if (k.find_first_of(". $") != std::string::npos)
      throw Error::usage(fmt::format("{}: tag name '{}' must not contain '.', '$' or spaces", flag, k));
    tags[k] = v;
  }
  return tags;
}

void say(Context& ctx, const std::string& message) {
  if (ctx.io.quiet()) return;
  ctx.io.err() << message << '\n';
}

void warn(Context& ctx, const std::string& message) {
  ctx.io.err() << output::yellow("warning:", ctx.io.color_err()) << ' ' << message << '\n';
}

}  // namespace aiot::cli
