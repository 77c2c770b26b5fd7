#pragma once
#include <string>
#include <vector>

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
void add_count(CLI::App& group, Dispatch& d);

// The --where condition joined with AND to one `tags.K = 'V'` per --tag K=V (list, count).
std::string tag_condition(const std::string& where, const std::vector<std::string>& tag_flags);
void add_show(CLI::App& group, Dispatch& d);
void add_update(CLI::App& group, Dispatch& d);
void add_delete(CLI::App& group, Dispatch& d);
void add_export(CLI::App& group, Dispatch& d);

}  // namespace aiot::cli::device
