#include "aiot/sim/simulator.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_map>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/device.hpp"
#include "aiot/sim/random.hpp"
#include "aiot/sim/store.hpp"

namespace aiot::sim {

namespace {

using json = nlohmann::json;

constexpr std::size_t k_chunk = 1000;  // devices per hub write transaction: other writers get turns
constexpr std::size_t k_max_devices = 1'000'000;
const char* const k_builtin_source = "<built-in profile>";

const std::string& pick(const std::vector<std::pair<std::string, double>>& weighted, double u) {
  double total = 0;
  for (const auto& [name, w] : weighted) total += w;
  double x = u * total;
  for (const auto& [name, w] : weighted) {
    if (x < w) return name;
    x -= w;
  }
  return weighted.back().first;  // rounding at the very top
}

std::string device_id(const std::string& prefix, std::size_t index, int width) {
  return fmt::format("{}{:0{}}", prefix, index, width);
}

DeviceState new_device(const Profile& p, std::uint64_t seed, std::size_t index, std::string id) {
  auto rng = Rng::keyed(seed, {"device", std::to_string(index)});
  DeviceState d;
  d.id = std::move(id);
  d.index = static_cast<std::int64_t>(index);
  d.site = pick(p.sites, rng.uniform());
  d.region = p.region_of(d.site);
  d.hw = pick(p.hw, rng.uniform());
  d.model_name = p.model_name;
  d.running = p.start_version;
  d.seen_desired = p.start_version;
  return d;
}

json device_tags(const DeviceState& d) {
  return json{{"site", d.site}, {"region", d.region}, {"hw", d.hw}, {"sim", true}};
}

json desired_model(const std::string& name, const std::string& version) {
  return json{{"aiot",
               {{"model",
                 {{"name", name},
                  {"version", version},
                  {"uri", artifact_uri(name, version)},
                  {"sha256", artifact_sha256(name, version)}}}}}};
}

DesiredView desired_view(const TwinView& t) {
  return DesiredView{.version = t.desired_version, .name = t.desired_name, .online = t.enabled};
}

void patch_in_chunks(hub::local::LocalHub& hub, std::vector<std::pair<std::string, json>>& patches) {
  for (std::size_t start = 0; start < patches.size(); start += k_chunk) {
    auto n = std::min(k_chunk, patches.size() - start);
    hub.patch_reported_many(std::span(patches).subspan(start, n));
  }
}

// The install attempt a step ended (it ends at most one): its final report's time and versions.
InstallEvent ended_install(const DeviceState& before, const DeviceState& after, const StepResult& r, TimePoint from) {
  InstallEvent e;
  e.device_id = after.id;
  e.started = r.started ? from : before.started.value_or(from);
  e.from_version = before.running;
  e.succeeded = r.succeeded > 0;
  for (const auto& rep : r.reports) {
    const auto& ota = rep.patch["aiot"].value("ota", json::object());
    auto state = ota.value("state", "");
    if (state == "succeeded" || state == "failed") {
      e.done = rep.ts;
      e.to_version = ota.value("version", "");
    }
  }
  e.model_name = e.succeeded ? after.model_name : before.model_name;
  return e;
}

Profile stored_profile(const SimConfig& c) {
  return c.profile_source == k_builtin_source && c.profile_yaml == Profile::builtin_yaml()
             ? Profile::builtin()
             : Profile::parse(c.profile_yaml, c.profile_source);
}

}  // namespace

std::string artifact_uri(const std::string& name, const std::string& version) {
  return fmt::format("sim://models/{}/{}", name, version);
}

std::string artifact_sha256(const std::string& name, const std::string& version) {
  return crypto::sha256_hex(name + "@" + version);
}

struct Simulator::Impl {
  hub::local::LocalHub& hub;
  Store store;
  SimConfig config;
  Profile profile;

  Impl(hub::local::LocalHub& h, SimConfig c, Profile p)
      : hub(h), store(h.path(), false), config(std::move(c)), profile(std::move(p)) {}

  // Plays (advanced_to, to]. `to` may equal the hub clock: finishing an interrupted advance.
  AdvanceSummary run(TimePoint to) {
    auto fresh = store.config();
    if (!fresh) throw Error::failure("the simulated fleet's records disappeared from " + hub.describe());
    config = std::move(*fresh);
    TimePoint from = config.advanced_to;
    TimePoint hub_time = hub.sim_time().value_or(from);
    if (hub_time < from) {
      throw Error::failure(fmt::format("the hub clock ({}) is behind the simulated fleet ({})", format_rfc3339(hub_time),
                                       format_rfc3339(from)),
                           "Something set the hub's sim time back; only 'aiot sim advance' should move it.");
    }
    AdvanceSummary s;
    s.from = from;
    s.to = to;
    if (to <= from) return s;

    auto states = store.devices();
    std::unordered_map<std::string, DesiredView> desired;
    desired.reserve(states.size());
    for (const auto& t : store.twins()) desired.emplace(t.id, desired_view(t));

    std::vector<DeviceState> changed;
    std::vector<std::string> removed;
    std::vector<InstallEvent> installs;
    std::vector<std::pair<std::string, json>> patches;
    for (auto& state : states) {
      auto it = desired.find(state.id);
      if (it == desired.end()) {
        removed.push_back(state.id);  // deleted from the hub: no longer simulated
        continue;
      }
      DeviceState before = state;
      auto r = step(state, profile, config.seed, from, to, it->second);
      if (!it->second.online) ++s.offline;
      s.installs_started += r.started ? 1 : 0;
      s.downloading += static_cast<std::size_t>(r.downloading);
      s.installing += static_cast<std::size_t>(r.installing);
      s.succeeded += static_cast<std::size_t>(r.succeeded);
      s.failed += static_cast<std::size_t>(r.failed);
      s.health_reports += r.health ? 1 : 0;
      if (r.succeeded + r.failed > 0) installs.push_back(ended_install(before, state, r, from));
      if (!r.patch.empty()) patches.emplace_back(state.id, std::move(r.patch));
      if (!(state == before)) changed.push_back(state);
    }
    s.devices_reported = patches.size();
    s.removed = removed.size();

    // Clock first, reports next, own state last: a crash anywhere is repaired by the next run.
    hub.set_sim_time(std::max(to, hub_time));
    patch_in_chunks(hub, patches);
    store.commit_advance(from, to, changed, removed, installs);
    config.advanced_to = to;
    return s;
  }
};

Simulator::Simulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Simulator::Simulator(Simulator&&) noexcept = default;
Simulator& Simulator::operator=(Simulator&&) noexcept = default;
Simulator::~Simulator() = default;

bool is_simulated(hub::local::LocalHub& hub) { return Store(hub.path(), false).config().has_value(); }

Simulator Simulator::open(hub::local::LocalHub& hub) {
  auto config = Store(hub.path(), false).config();
  if (!config) {
    throw Error::not_found(fmt::format("{} has no simulated fleet", hub.describe()),
                           "Create one with 'aiot sim fleet --devices N'.");
  }
  auto profile = stored_profile(*config);
  return Simulator(std::make_unique<Impl>(hub, std::move(*config), std::move(profile)));
}

AdvanceSummary Simulator::advance(std::chrono::milliseconds by) {
  if (by.count() <= 0) throw Error::usage(fmt::format("the sim clock moves forward only, not by {}", format_duration(by)));
  return impl_->run(impl_->hub.now() + by);
}

AdvanceSummary Simulator::advance_to(TimePoint t) {
  TimePoint now = impl_->hub.now();
  if (t <= now) {
    throw Error::usage(fmt::format("{} is not after the sim time {}", format_rfc3339(t), format_rfc3339(now)),
                       "The sim clock moves forward only.");
  }
  return impl_->run(t);
}

TimePoint Simulator::now() { return impl_->hub.now(); }
const Profile& Simulator::profile() const { return impl_->profile; }
std::uint64_t Simulator::seed() const { return impl_->config.seed; }

FleetStatus Simulator::status() {
  FleetStatus st;
  st.sim_time = impl_->hub.now();
  st.seed = impl_->config.seed;
  st.profile_source = impl_->config.profile_source;
  std::unordered_map<std::string, bool> simulated;
  for (const auto& d : impl_->store.devices()) {
    simulated.emplace(d.id, true);
    st.installing += d.target.empty() ? 0 : 1;
  }
  for (const auto& t : impl_->store.twins()) {
    if (!simulated.count(t.id)) continue;
    ++st.devices;
    st.offline += t.enabled ? 0 : 1;
    ++st.by_version[t.reported_version.empty() ? "-" : t.reported_version];
    ++st.by_ota_state[t.ota_state.empty() ? "-" : t.ota_state];
  }
  return st;
}

AdvanceSummary Simulator::settle() { return impl_->run(impl_->hub.now()); }

AdvanceSummary settle(hub::local::LocalHub& hub) { return Simulator::open(hub).settle(); }

AdvanceSummary advance(hub::local::LocalHub& hub, std::chrono::milliseconds by) {
  return Simulator::open(hub).advance(by);
}

FleetResult Simulator::create_fleet(hub::local::LocalHub& hub, const FleetSpec& spec, const ProgressFn& progress) {
  if (spec.devices == 0) throw Error::usage("a simulated fleet needs at least one device");
  if (spec.devices > k_max_devices) {
    throw Error::usage(fmt::format("a simulated fleet has at most {} devices, not {}", k_max_devices, spec.devices));
  }
  bool builtin = spec.profile_yaml.empty();
  std::string yaml = builtin ? std::string(Profile::builtin_yaml()) : spec.profile_yaml;
  std::string source = builtin ? k_builtin_source : spec.profile_source;
  Profile profile = builtin ? Profile::builtin() : Profile::parse(yaml, source);

  int width = std::max(5, static_cast<int>(std::to_string(spec.devices).size()));
  for (std::size_t index : {std::size_t{1}, spec.devices}) {
    if (auto why = hub::invalid_device_id(device_id(spec.prefix, index, width))) {
      throw Error::usage(fmt::format("prefix '{}' makes invalid device ids: {}", spec.prefix, *why));
    }
  }

  // Everything is checked before anything is written.
  Store store(hub.path(), false);
  auto config = store.config();
  if (config) {
    if (config->seed != spec.seed) {
      throw Error::conflict(fmt::format("the simulated fleet in {} uses seed {}, not {}", hub.describe(), config->seed,
                                        spec.seed),
                            fmt::format("Re-run with --seed {}, or simulate in another hub file (--hub local:PATH).",
                                        config->seed));
    }
    if (!(stored_profile(*config) == profile)) {
      throw Error::conflict(fmt::format("the simulated fleet in {} uses another profile ({})", hub.describe(),
                                        config->profile_source),
                            "Re-run with the same profile, or simulate in another hub file (--hub local:PATH).");
    }
  }

  std::unordered_map<std::string, bool> existing;
  for (const auto& t : store.twins()) existing.emplace(t.id, true);
  std::unordered_map<std::string, bool> simulated;
  for (const auto& d : store.devices()) simulated.emplace(d.id, true);

  FleetResult result;
  struct Planned {
    DeviceState state;
    bool create;
  };
  std::vector<Planned> plan;
  std::vector<std::string> foreign;
  for (std::size_t i = 1; i <= spec.devices; ++i) {
    auto id = device_id(spec.prefix, i, width);
    auto hub_device = existing.find(id);
    if (hub_device != existing.end() && simulated.count(id)) {
      ++result.unchanged;
      continue;
    }
    auto state = new_device(profile, spec.seed, i, id);
    if (hub_device == existing.end()) {
      plan.push_back({std::move(state), true});
    } else if (hub.get(id).tags == device_tags(state)) {
      // Registered by an earlier run that stopped before recording it: take it over.
      plan.push_back({std::move(state), false});
    } else {
      foreign.push_back(id);
    }
  }
  if (!foreign.empty()) {
    std::vector<std::string> shown(foreign.begin(), foreign.begin() + std::min<std::size_t>(3, foreign.size()));
    throw Error::conflict(fmt::format("{} device(s) with the simulator's ids exist and are not simulated: {}{}",
                                      foreign.size(), fmt::join(shown, ", "), foreign.size() > 3 ? ", ..." : ""),
                          "Choose another --prefix, or delete those devices.");
  }

  auto clock = hub.sim_time();
  if (!clock) {
    clock = spec.start.value_or(hub.now());
    hub.set_sim_time(*clock);
    result.clock_started = true;
  } else if (spec.start) {
    // A re-run with the fleet's own --start is not a conflict, whatever the clock says now.
    result.start_ignored = *spec.start != (config ? config->start : *clock);
  }
  if (config && config->advanced_to < *clock) {
    open(hub).impl_->run(*clock);  // an advance was interrupted: finish it before adding devices
  }
  TimePoint now = *clock;
  result.sim_time = now;
  result.first_id = device_id(spec.prefix, 1, width);
  result.last_id = device_id(spec.prefix, spec.devices, width);

  Store writer(hub.path(), true);
  writer.init_config(
      {.seed = spec.seed, .profile_yaml = yaml, .profile_source = source, .start = now, .advanced_to = now});

  std::size_t done = result.unchanged;
  if (progress) progress(done, spec.devices);
  for (std::size_t start = 0; start < plan.size(); start += k_chunk) {
    auto end = std::min(plan.size(), start + k_chunk);
    std::vector<hub::Device> specs;
    for (std::size_t i = start; i < end; ++i) {
      if (!plan[i].create) continue;
      const auto& s = plan[i].state;
      hub::Device d;
      d.id = s.id;
      d.tags = device_tags(s);
      d.desired = desired_model(s.model_name, s.running);
      // The local engine stores a new device's reported properties as given: one write, not two.
      d.reported = initial_reported(spec.seed, s, profile, now);
      specs.push_back(std::move(d));
    }
    std::unordered_map<std::string, bool> reported_on_import;
    for (const auto& r : hub.registry().import(specs, hub::ImportMode::create)) {
      if (r.outcome == hub::RowOutcome::failed) throw *r.error;  // another writer raced us
      result.created += r.outcome == hub::RowOutcome::created ? 1 : 0;
      if (r.outcome == hub::RowOutcome::created && !r.device->reported.empty()) {
        reported_on_import.emplace(r.device->id, true);
      }
    }
    std::vector<std::pair<std::string, json>> patches;
    std::vector<DeviceState> states;
    for (std::size_t i = start; i < end; ++i) {
      const auto& s = plan[i].state;
      if (!reported_on_import.count(s.id)) patches.emplace_back(s.id, initial_reported(spec.seed, s, profile, now));
      states.push_back(s);
      result.unchanged += plan[i].create ? 0 : 1;
    }
    if (!patches.empty()) hub.patch_reported_many(patches);
    writer.upsert_devices(states);
    done += end - start;
    if (progress) progress(done, spec.devices);
  }
  return result;
}

}  // namespace aiot::sim
