#pragma once
// The one place a provider is chosen, keyed by the profile's `hub:` value.
#include <filesystem>
#include <memory>
#include <string>

namespace aiot {
class Context;
}

namespace aiot::hub {

class Hub;

// "local" -> the default SQLite file, "local:PATH" -> that file; cloud values arrive with their providers.
std::unique_ptr<Hub> open_hub(Context& ctx);

// Where `local` puts its file: $XDG_DATA_HOME/aiot/hub.db, else ~/.local/share/aiot/hub.db.
std::filesystem::path default_local_path(const Context& ctx);

}  // namespace aiot::hub
