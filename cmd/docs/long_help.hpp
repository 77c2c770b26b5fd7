#pragma once
// Per-command long descriptions and examples for the man pages, keyed by command path
// ("device import"; "" is aiot itself). The one-line summaries stay in the command tree.
#include <span>
#include <string_view>
#include <vector>

namespace aiot::cli::docs {

struct Example {
  std::string_view what;     // one line saying what it does
  std::string_view command;  // one `aiot ...` command line, runnable as written (may end in `| jq ...`)
};

struct LongHelp {
  std::string_view path;
  std::string_view description;  // plain text; paragraphs separated by a blank line
  std::vector<Example> examples;
};

std::span<const LongHelp> long_help_table();
// nullptr when the command has no entry.
const LongHelp* find_long_help(std::string_view path);

}  // namespace aiot::cli::docs
