#pragma once
namespace CLI {
class App;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::ca {

void add_create(CLI::App& group, Dispatch& d);
void add_show(CLI::App& group, Dispatch& d);

}  // namespace aiot::cli::ca
