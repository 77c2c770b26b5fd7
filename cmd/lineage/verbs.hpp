#pragma once
// The verbs of `aiot lineage`, one file each.
namespace CLI {
class App;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::lineage {

void add_audit(CLI::App& group, Dispatch& d);  // audit.cpp
void add_merge(CLI::App& group, Dispatch& d);  // merge.cpp

}  // namespace aiot::cli::lineage
