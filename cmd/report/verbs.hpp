#pragma once
namespace CLI {
class App;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::report {

void add_governance(CLI::App& group, Dispatch& d);

}  // namespace aiot::cli::report
