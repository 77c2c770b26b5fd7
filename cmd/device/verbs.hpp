#pragma once
namespace CLI {
class App;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::device {

void add_register(CLI::App& group, Dispatch& d);
void add_import(CLI::App& group, Dispatch& d);
void add_list(CLI::App& group, Dispatch& d);
void add_show(CLI::App& group, Dispatch& d);
void add_update(CLI::App& group, Dispatch& d);
void add_delete(CLI::App& group, Dispatch& d);
void add_export(CLI::App& group, Dispatch& d);

}  // namespace aiot::cli::device
