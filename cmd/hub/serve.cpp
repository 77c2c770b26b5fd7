// aiot hub serve --api azure|aws [--port N] [--bind ADDR] [--throttle SPEC] [--faults SPEC] [--seed N]
//                [--port-file FILE] [--credentials-out FILE]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/emulator/server.hpp"
#include "aiot/hub/factory.hpp"
#include "cli/common.hpp"
#include "hub/verbs.hpp"

namespace aiot::cli::hub {

namespace {

struct ServeFlags {
  std::string api;
  std::string bind = "127.0.0.1";
  int port = 0;
  std::string port_file;
  std::string credentials_out;
  std::string throttle;
  std::string faults;
  std::uint64_t seed = 1;
  bool any_address = false;
};

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

std::filesystem::path absolute(Context& ctx, const std::string& p) {
  if (p.empty()) return {};
  std::filesystem::path path = p;
  return path.is_relative() ? ctx.cwd / path : path;
}

int run_serve(const ServeFlags& f, Context& ctx) {
  emulator::ServeOptions o;
  o.api = f.api;
  o.bind = f.bind;
  if (o.bind != "127.0.0.1" && o.bind != "::1" && o.bind != "localhost" && !f.any_address)
    throw Error::usage(fmt::format("refusing to listen on {}: the emulator is for loopback use", o.bind),
                       "Pass --allow-non-loopback if you really mean it.");
  o.port = f.port;
  o.port_file = absolute(ctx, f.port_file);
  o.credentials_out = absolute(ctx, f.credentials_out);
  o.throttle = emulator::parse_throttle(f.throttle);
  o.faults = emulator::parse_faults(f.faults);
  o.seed = f.seed;
  o.verbosity = ctx.io.verbosity();
  const std::string& hub = ctx.settings().get("hub");
  if (hub == "local") {
    o.hub_path = aiot::hub::default_local_path(ctx);
  } else if (hub.rfind("local:", 0) == 0) {
    o.hub_path = absolute(ctx, hub.substr(6));
  } else {
    throw Error::usage(fmt::format("hub serve serves a local hub, not '{}'", hub), "Pass --hub local:PATH.");
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto& err = ctx.io.err();
  emulator::LogSink log = [&err](const std::string& line) { err << line << '\n' << std::flush; };
  g_stop = false;
  return f.api == "azure" ? emulator::serve_azure(o, ctx.now, log, g_stop) : emulator::serve_aws(o, ctx.now, log, g_stop);
}

}  // namespace

void add_serve(CLI::App& group, Dispatch& d) {
  auto f = std::make_shared<ServeFlags>();
  auto* c = group.add_subcommand("serve", "Serve the local hub over HTTP in the Azure IoT Hub or AWS IoT dialect");
  c->add_option("--api", f->api, "Dialect: azure (IoT Hub service REST) or aws (IoT control plane + iot-data)")
      ->required()
      ->check(CLI::IsMember({"azure", "aws"}));
  c->add_option("--port", f->port, "TCP port (0 = any free port; see --port-file)")->check(CLI::Range(0, 65535));
  c->add_option("--bind", f->bind, "Address to listen on")->capture_default_str();
  c->add_flag("--allow-non-loopback", f->any_address, "Allow --bind on an address other than loopback");
  c->add_option("--port-file", f->port_file, "Write the port here once listening (for scripts)");
  c->add_option("--credentials-out", f->credentials_out,
                "Write how to connect here, 0600 (Azure: a service connection string; AWS: an access key pair)");
  c->add_option("--throttle", f->throttle, "Rate limits per operation class, e.g. identity=100/s,query=20/min");
  c->add_option("--faults", f->faults, "Injected faults, e.g. 429=0.2,503=0.05,reset=0.02,delay=0.1:200ms");
  c->add_option("--seed", f->seed, "Seed for fault injection")->capture_default_str();
  d.on(c, [f](Context& ctx) { return run_serve(*f, ctx); });
}

}  // namespace aiot::cli::hub
