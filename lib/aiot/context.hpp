#pragma once
// Everything a command needs from the outside world, injected (gh's Factory): streams, the
// environment, the clock, settings and a lazily opened hub. main() builds the real one; tests
// build one over string streams, a fixed clock and a temporary local hub.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "aiot/config/settings.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/iostreams.hpp"
#include "aiot/core/time.hpp"

namespace aiot {

namespace hub {
class Hub;
}
namespace http {
class Transport;
}

class Context {
 public:
  using HubFactory = std::function<std::unique_ptr<hub::Hub>(Context&)>;

  Context(IOStreams& io, Env env, std::filesystem::path cwd, Clock now);
  ~Context();

  IOStreams& io;
  Env env;
  std::filesystem::path cwd;
  Clock now;

  // Resolved after the global flags are parsed (cmd/root.cpp); before that, settings() throws.
  const config::Settings& settings() const;
  void set_settings(config::Settings s);

  // Opened on first use from settings().get("hub"); a test may set a factory.
  hub::Hub& hub();
  void set_hub_factory(HubFactory f) { hub_factory_ = std::move(f); }
  void close_hub();

  // The HTTP transport of the cloud providers (libcurl), built on first use; tests may set a fake.
  std::shared_ptr<http::Transport> transport();
  void set_transport(std::shared_ptr<http::Transport> t) { transport_ = std::move(t); }

  // A sink for --debug trace lines (already redacted by the HTTP client), or empty when not debugging.
  std::function<void(const std::string&)> tracer();

 private:
  std::optional<config::Settings> settings_;
  HubFactory hub_factory_;
  std::unique_ptr<hub::Hub> hub_;
  std::shared_ptr<http::Transport> transport_;
};

// The clock of this process: AIOT_NOW (RFC 3339) pins it for scripted demos, else the system clock.
Clock default_clock(const Env& env);

}  // namespace aiot
