#pragma once
namespace CLI {
class App;
}
namespace aiot {
class Context;
}
namespace aiot::hub::local {
class LocalHub;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::sim {

void add_fleet(CLI::App& group, Dispatch& d);
void add_advance(CLI::App& group, Dispatch& d);
void add_status(CLI::App& group, Dispatch& d);
void add_telemetry(CLI::App& group, Dispatch& d);

// The context's hub as the local engine; Error::usage (exit 2) for a cloud hub.
hub::local::LocalHub& local_hub(Context& ctx);

}  // namespace aiot::cli::sim
