#include "rollout/common.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/output/output.hpp"
#include "aiot/sim/simulator.hpp"

namespace aiot::cli::rollout {

namespace {
std::string actor(Context& ctx) {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return fmt::format("{}@{} (pid {})", ctx.env.get_or("USER", "user"), host, ::getpid());
}
// "user@host (pid N)" on this host whose process no longer exists.
bool holder_gone(const std::string& holder) {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  auto at = holder.find('@');
  auto pid_at = holder.find(" (pid ");
  if (at == std::string::npos || pid_at == std::string::npos || holder.substr(at + 1, pid_at - at - 1) != host) return false;
  long pid = std::strtol(holder.c_str() + pid_at + 6, nullptr, 10);
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

std::filesystem::path journal_dir(Context& ctx) {
  const std::string& hub = ctx.settings().get("hub");
  if (hub.rfind("local:", 0) == 0) {
    std::filesystem::path p = hub.substr(6);
    if (p.is_relative()) p = ctx.cwd / p;
    return p.string() + ".journal";
  }
  return std::filesystem::path(ctx.settings().paths().data_dir) / "journal" / (hub == "local" ? "local" : hub);
}

Driver make_driver(Context& ctx) {
  // A simulated fleet whose last advance was killed halfway is made whole before anyone reads
  // device reports as of the hub's clock.
  if (auto* local = dynamic_cast<hub::local::LocalHub*>(&ctx.hub()); local && sim::is_simulated(*local)) sim::settle(*local);
  Driver d;
  // The registry backend (local engine, IoT Hub), or AWS IoT's: a named shadow, thing groups and
  // one job per wave (lib/aiot/rollout/aws_backend.hpp).
  d.backend = aiot::rollout::make_backend(ctx.hub());
  // The hub's clock: a local hub has its own (the simulator's); a cloud hub has none to read, so
  // the CLI's clock stands for it, and AIOT_NOW pins it (how scripts drive a simulated fleet
  // behind `aiot hub serve`: docs/rollouts.md §8).
  bool local = dynamic_cast<hub::local::LocalHub*>(&ctx.hub()) != nullptr;
  std::function<TimePoint()> hub_now = [&ctx] { return ctx.hub().now(); };
  if (!local) hub_now = [&ctx] { return ctx.now(); };
  aiot::rollout::ControllerDeps deps{*d.backend, std::move(hub_now), journal_dir(ctx), actor(ctx)};
  deps.holder_gone = holder_gone;
  d.controller = std::make_unique<aiot::rollout::Controller>(std::move(deps));
  return d;
}

bool let_time_pass(Context& ctx, std::chrono::milliseconds duration) {
  if (auto* local = dynamic_cast<hub::local::LocalHub*>(&ctx.hub())) {
    if (sim::is_simulated(*local)) {
      sim::advance(*local, duration);
      return true;
    }
  }
  if (ctx.env.has("AIOT_NOW")) return false;  // a pinned clock never moves: waiting changes nothing
  // Against a real hub, devices report on their own time: poll at least every 30 s.
  std::this_thread::sleep_for(std::min(duration, std::chrono::milliseconds(30'000)));
  return true;
}

namespace {
std::string verdict_text(const std::string& v, bool color) {
  if (v == "PASS") return output::green(v, color);
  if (v == "FAIL") return output::red(v, color);
  return output::yellow(v, color);
}
std::string state_text(const std::string& s, bool color) {
  if (s == "PASSED" || s == "SUCCEEDED") return output::green(s, color);
  if (s == "FAILED" || s == "ROLLED_BACK" || s == "ROLLING_BACK" || s == "ABORTED" || s == "DENIED")
    return output::red(s, color);
  if (s == "PENDING") return output::dim(s, color);
  return output::yellow(s, color);
}
}  // namespace

std::string render_status_tree(const nlohmann::json& st, bool color) {
  std::string out = fmt::format("{} {}  {} (baseline {})", output::bold(st["rollout"].get<std::string>(), color),
                                state_text(st["phase"].get<std::string>(), color), st["target"].get<std::string>(),
                                st["baseline"].get<std::string>());
  if (st.contains("reason") && st["reason"].is_string()) out += "  — " + st["reason"].get<std::string>();
  if (st.contains("waitingFor")) out += fmt::format("  — waiting for approval: {}", st["waitingFor"].get<std::string>());
  out += '\n';
  const auto& waves = st["waves"];
  for (size_t i = 0; i < waves.size(); ++i) {
    const auto& w = waves[i];
    bool last = i + 1 == waves.size();
    std::string branch = last ? "└─ " : "├─ ";
    std::string pipe = last ? "   " : "│  ";
    out += fmt::format("{}{:<10} {:<12} {} devices", branch, w["name"].get<std::string>(),
                       state_text(w["state"].get<std::string>(), color), w["canary"].get<int>());
    if (w["control"].get<int>() > 0) out += fmt::format(" (+{} control)", w["control"].get<int>());
    if (w.value("looks", 0) > 0) out += fmt::format(", {} looks", w["looks"].get<int>());
    out += '\n';
    std::vector<std::string> lines;
    for (auto& [name, g] : w["gates"].items())
      lines.push_back(fmt::format("gate {:<18} {}  {}", name, verdict_text(g.value("verdict", ""), color), g.value("reason", "")));
    if (w.contains("devices")) {
      std::string counts;
      for (auto& [k, v] : w["devices"].items()) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", k, v.get<int>());
      lines.push_back("devices: " + counts);
    }
    for (size_t j = 0; j < lines.size(); ++j)
      out += pipe + (j + 1 == lines.size() ? "└─ " : "├─ ") + lines[j] + '\n';
  }
  return out;
}

}  // namespace aiot::cli::rollout
