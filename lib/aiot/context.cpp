#include "aiot/context.hpp"

#include "aiot/core/error.hpp"
#include "aiot/hub/factory.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/http/transport.hpp"

namespace aiot {

Context::Context(IOStreams& io_, Env env_, std::filesystem::path cwd_, Clock now_)
    : io(io_), env(std::move(env_)), cwd(std::move(cwd_)), now(std::move(now_)) {}

Context::~Context() = default;

const config::Settings& Context::settings() const {
  if (!settings_) throw Error::failure("internal: settings used before they were resolved");
  return *settings_;
}

void Context::set_settings(config::Settings s) { settings_ = std::move(s); }

hub::Hub& Context::hub() {
  if (!hub_) hub_ = hub_factory_ ? hub_factory_(*this) : hub::open_hub(*this);
  return *hub_;
}

void Context::close_hub() { hub_.reset(); }

std::shared_ptr<http::Transport> Context::transport() {
  if (!transport_) {
    http::TransportOptions options;
    options.user_agent = std::string("aiot/") + AIOT_VERSION;
    // The cacert setting (AIOT_CACERT, a profile, or --cacert) adds a CA bundle; verification stays on.
    if (settings_ && !settings_->get("cacert").empty()) options.ca_file = settings_->get("cacert");
    transport_ = http::make_curl_transport(options);
  }
  return transport_;
}

std::function<void(const std::string&)> Context::tracer() {
  if (io.verbosity() < 2) return {};
  return [this](const std::string& line) { io.err() << line << '\n' << std::flush; };
}

Clock default_clock(const Env& env) {
  if (auto pinned = env.get("AIOT_NOW"); pinned && !pinned->empty()) {
    auto t = parse_rfc3339(*pinned);
    if (!t) throw Error::usage("AIOT_NOW is not an RFC 3339 time: " + *pinned);
    TimePoint fixed = *t;
    return [fixed] { return fixed; };
  }
  return [] { return std::chrono::system_clock::now(); };
}

}  // namespace aiot
