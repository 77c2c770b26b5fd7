#pragma once
// run(): build a fresh command tree, parse, then run the chosen verb; map aiot::Error to a
// message on stderr and an exit code. main() and the in-process tests both call it.
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace aiot {
class Context;
}

namespace aiot::cli {

class Dispatch;
struct GlobalOptions;

int run(const std::vector<std::string>& args, Context& ctx);

// The whole tree (for run, completions and man pages).
void build_tree(CLI::App& root, Dispatch& dispatch, GlobalOptions& globals);

}  // namespace aiot::cli
