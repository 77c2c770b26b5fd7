#pragma once
// Shared by every verb: the dispatch table, global options, output rendering and confirmation.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "aiot/output/output.hpp"

namespace CLI {
class App;
}

namespace aiot {
class Context;
}

namespace aiot::cli {

// A verb's body: runs after parsing, throws aiot::Error on failure, returns the exit code.
using RunFn = std::function<int(Context&)>;

// Records which function belongs to which command; nothing runs inside CLI11's parse()
// (CLI11 pitfall 7). After parsing, root.cpp finds the deepest parsed command and runs its fn.
class Dispatch {
 public:
  void on(CLI::App* cmd, RunFn fn) { fns_[cmd] = std::move(fn); }
  const RunFn* find(CLI::App* cmd) const {
    auto it = fns_.find(cmd);
    return it == fns_.end() ? nullptr : &it->second;
  }

 private:
  std::map<CLI::App*, RunFn> fns_;
};

struct GlobalOptions {
  std::string profile;
  std::string hub;
  std::string output;  // table|json|yaml|csv
  std::string config;
  std::string cacert;
  bool no_color = false;
  bool quiet = false;
  bool yes = false;
  bool debug = false;
  int verbose = 0;
  bool version = false;
};

// The global -o value (flag > env > config) and the clock, for output::print_*.
output::RenderOptions render_options(Context& ctx);

// Asks "question [y/N]" on a TTY; without one, --yes is required (exit 2 otherwise).
bool confirm(Context& ctx, const std::string& question, bool yes);

// "k=v" list -> JSON object of strings; throws Error::usage naming the flag on a bad item.
nlohmann::json parse_tags(const std::vector<std::string>& items, const std::string& flag);

// Status and confirmations on stderr ("✓ Registered dev-1"), silenced by -q.
void say(Context& ctx, const std::string& message);
void warn(Context& ctx, const std::string& message);

}  // namespace aiot::cli
