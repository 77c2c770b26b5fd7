#pragma once
namespace CLI {
class App;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::hub {

void add_serve(CLI::App& group, Dispatch& d);

}  // namespace aiot::cli::hub
