#pragma once
// aiot model / aiot firmware: both groups share these verbs, each told which kind it serves.
#include <filesystem>
#include <memory>
#include <string>

#include "aiot/artifact/artifact.hpp"
#include "aiot/artifact/store.hpp"

namespace CLI {
class App;
}
namespace aiot {
class Context;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::model {

using aiot::artifact::Kind;

void add_add(CLI::App& group, Dispatch& d, Kind kind);
void add_sign(CLI::App& group, Dispatch& d, Kind kind);
void add_verify(CLI::App& group, Dispatch& d, Kind kind);
void add_list(CLI::App& group, Dispatch& d, Kind kind);
void add_show(CLI::App& group, Dispatch& d, Kind kind);
void add_diff(CLI::App& group, Dispatch& d, Kind kind);
void add_card(CLI::App& group, Dispatch& d, Kind kind);
void add_keygen(CLI::App& group, Dispatch& d, Kind kind);

// The registry of the Context's hub (artifact::store_path).
std::unique_ptr<artifact::Store> open_store(Context& ctx);
// A path from the command line, relative to the Context's working directory.
std::filesystem::path from_cwd(Context& ctx, const std::string& path);
// "model" / "firmware" for messages and commands.
std::string kind_name(Kind kind);

}  // namespace aiot::cli::model
