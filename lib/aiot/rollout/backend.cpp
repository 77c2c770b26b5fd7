#include "aiot/rollout/backend.hpp"

#include <fmt/format.h>

#include <map>

#include "aiot/core/error.hpp"
#include "aiot/hub/query.hpp"
#include "aiot/hub/aws/aws_provider.hpp"
#include "aiot/rollout/aws_backend.hpp"

namespace aiot::rollout {

std::string controller_device_id(const std::string& rollout) { return "aiot-ctl-" + rollout; }

std::string wave_condition(const std::string& rollout, const std::string& wave) {
  return fmt::format("tags.aiot.rollouts.{}.wave = '{}'", rollout, wave);
}

std::string control_condition(const std::string& rollout, std::size_t wave_index) {
  return fmt::format("tags.aiot.rollouts.{}.control.w{} = true", rollout, wave_index);
}

std::string selector_condition(const std::string& rollout, const MemberSelector& selector) {
  switch (selector.kind) {
    case MemberSelector::Kind::wave: return wave_condition(rollout, selector.wave);
    case MemberSelector::Kind::control: return control_condition(rollout, selector.wave_index);
    case MemberSelector::Kind::all: break;
  }
  return {};
}

bool valid_rollout_name(const std::string& name) {
  if (name.empty() || name.size() > 48 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

namespace {

// A JSON merge patch that turns `from` into `to` (RFC 7386): keys missing in `to` become null.
json merge_patch_between(const json& from, const json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  json patch = json::object();
  for (auto& [k, v] : from.items())
    if (!to.contains(k)) patch[k] = nullptr;
  for (auto& [k, v] : to.items()) {
    if (!from.contains(k)) {
      patch[k] = v;
    } else if (from[k] != v) {
      patch[k] = (from[k].is_object() && v.is_object()) ? merge_patch_between(from[k], v) : v;
    }
  }
  return patch;
}

class RegistryBackend final : public Backend {
 public:
  explicit RegistryBackend(hub::Hub& hub) : hub_(hub) {}

  std::optional<Record> read(const std::string& rollout) override {
    try {
      auto d = hub_.registry().get(controller_device_id(rollout));
      if (!d.tags.contains("aiotController")) return std::nullopt;
      return Record{d.tags["aiotController"], d.twin_etag};
    } catch (const Error& e) {
      if (e.reason() == Reason::not_found) return std::nullopt;
      throw;
    }
  }

  std::string write(const std::string& rollout, const json& state, const std::string& if_etag) override {
    auto& reg = hub_.registry();
    if (if_etag.empty()) {
      hub::Device d;
      d.id = controller_device_id(rollout);
      d.auth.type = hub::AuthType::none;
      d.enabled = false;  // a record, not a device: it never connects
      d.tags = {{"aiotController", state}};
      return reg.create(d).twin_etag;
    }
    auto current = reg.get(controller_device_id(rollout));
    if (current.twin_etag != if_etag)
      throw Error::precondition(fmt::format("rollout {} was changed by another driver", rollout),
                                "Another aiot is driving it; see 'aiot rollout status'.");
    hub::DeviceUpdate u;
    u.id = current.id;
    u.if_match = if_etag;
    u.tags_patch = {{"aiotController", merge_patch_between(current.tags.value("aiotController", json::object()), state)}};
    return reg.update(u).twin_etag;
  }

  std::vector<std::string> rollouts() override {
    std::vector<std::string> names;
    for (const auto& d : hub_.registry().list({.where = "IS_DEFINED(tags.aiotController)"})) {
      // A controller thing written through AWS IoT carries aiotController = "true" (an attribute), not a record.
      if (!d.tags["aiotController"].is_object()) continue;
      auto name = d.tags["aiotController"].value("rollout", std::string());
      if (!name.empty()) names.push_back(name);
    }
    return names;
  }

  void assign(const std::string& rollout, const std::vector<Assignment>& assignments) override {
    std::vector<hub::DeviceUpdate> updates;
    updates.reserve(assignments.size());
    for (const auto& a : assignments) {
      hub::DeviceUpdate u;
      u.id = a.device;
      json membership = json::object();
      if (!a.wave.empty()) membership["wave"] = a.wave;
      for (auto k : a.control_for) membership["control"]["w" + std::to_string(k)] = true;
      u.tags_patch = {{"aiot", {{"rollouts", {{rollout, membership}}}}}};
      updates.push_back(std::move(u));
    }
    check(hub_.registry().update_many(updates), "assign devices to the rollout");
  }

  DispatchResult dispatch_wave(const WaveDispatch& dispatch) override {
    return {dispatch_read(dispatch.devices, dispatch.model), {}};
  }

  RevertResult revert(const RevertRequest& request) override {
    std::vector<std::string> ids;
    for (const auto& [index, name] : request.waves)
      for (const auto& d : members(request.rollout, MemberSelector::wave_of(index, name))) ids.push_back(d.id);
    RevertResult r;
    r.devices = ids.size();
    r.changed = dispatch_read(current(ids), request.baseline_model);
    return r;
  }

  std::vector<hub::Device> members(const std::string& rollout, const MemberSelector& selector) override {
    return hub_.registry().list(
        {.where = member_condition(rollout, selector),
         .with_tags = selector.with_tags,
         .with_desired = selector.with_desired,
         .with_reported = selector.with_reported});
  }

  // Grouped counts (hub::Registry::count_by: one IoT Hub aggregation query, one SQL query): the
  // members by (ota.version, ota.state, health.version), then per metric the reporting members
  // by the metric's value.
  std::optional<ArmCounts> count_arm(const std::string& rollout, const ArmQuery& q) override {
    static const std::string k_ota_version = "properties.reported.aiot.ota.version";
    static const std::string k_ota_state = "properties.reported.aiot.ota.state";
    static const std::string k_health = "properties.reported.aiot.health";
    static const std::string k_health_version = "properties.reported.aiot.health.version";
    auto& registry = hub_.registry();
    if (!registry.prefers_counts()) return std::nullopt;  // the local engine: reading members is faster
    const std::string members = member_condition(rollout, q.arm);
    const std::string version = hub::query::quote_literal(q.version);
    ArmCounts out;
    std::int64_t unnamed = 0;  // run the version, installed, health without a version (or no health)
    std::map<std::pair<std::string, std::string>, std::int64_t> installs;
    for (const auto& g : registry.count_by(members, {k_ota_version, k_ota_state, k_health_version})) {
      out.members += g.count;
      const std::string v = g.keys[0] && g.keys[0]->is_string() ? g.keys[0]->get<std::string>() : std::string();
      const std::string state = g.keys[1] && g.keys[1]->is_string() ? g.keys[1]->get<std::string>() : std::string();
      installs[{v, state}] += g.count;
      if (v != q.version || state != "succeeded") continue;
      if (!g.keys[2]) unnamed += g.count;
      else if (*g.keys[2] == q.version) out.reporting += g.count;
    }
    if (q.installs)
      for (const auto& [key, n] : installs) out.installs.push_back({key.first, key.second, n});
    // Members that run the version and report the install succeeded.
    const std::string installed = fmt::format("({}) AND {} = {} AND {} = 'succeeded'", members, k_ota_version, version, k_ota_state);
    if (unnamed > 0) {
      // No health at all is fine; health from an agent that does not name its version is judged
      // by its timestamps, which only the twins have.
      auto legacy = registry.count_by(
          fmt::format("{} AND IS_OBJECT({}) AND NOT IS_DEFINED({})", installed, k_health, k_health_version), {});
      for (const auto& g : legacy)
        if (g.count > 0) return std::nullopt;
    }
    const std::string reporting = fmt::format("{} AND {} = {}", installed, k_health_version, version);
    for (const auto& metric : q.metrics)
      out.values.push_back(out.reporting == 0 ? std::vector<hub::GroupCount>{} : registry.count_by(reporting, {metric}));
    return out;
  }

  void release(const std::string& rollout) override {
    std::vector<hub::DeviceUpdate> updates;
    for (const auto& d : members(rollout, MemberSelector::everyone())) {
      hub::DeviceUpdate u;
      u.id = d.id;
      u.tags_patch = {{"aiot", {{"rollouts", {{rollout, nullptr}}}}}};
      updates.push_back(std::move(u));
    }
    check(hub_.registry().update_many(updates), "release the rollout's devices");
  }

 private:
  static std::string member_condition(const std::string& rollout, const MemberSelector& selector) {
    std::string cond = fmt::format("IS_DEFINED(tags.aiot.rollouts.{})", rollout);
    if (auto where = selector_condition(rollout, selector); !where.empty()) cond += " AND (" + where + ")";
    return cond;
  }

  // Only devices whose desired model differs are written: a re-run after a crash dispatches nothing twice.
  std::size_t dispatch_read(const std::vector<hub::Device>& devices, const json& desired_model) {
    std::vector<hub::DeviceUpdate> updates;
    for (const auto& d : devices) {
      const json* have = nullptr;
      if (d.desired.contains("aiot") && d.desired["aiot"].contains("model")) have = &d.desired["aiot"]["model"];
      if (have && *have == desired_model) continue;
      hub::DeviceUpdate u;
      u.id = d.id;
      u.desired_patch = {{"aiot", {{"model", have ? merge_patch_between(*have, desired_model) : desired_model}}}};
      updates.push_back(std::move(u));
    }
    check(hub_.registry().update_many(updates), "dispatch");
    return updates.size();
  }

  std::vector<hub::Device> current(const std::vector<std::string>& ids) {
    std::vector<hub::Device> out;
    // One query per chunk of ids: requests do not grow one per device.
    constexpr std::size_t k_chunk = 500;
    for (std::size_t i = 0; i < ids.size(); i += k_chunk) {
      std::string cond = "deviceId IN [";
      for (std::size_t j = i; j < std::min(ids.size(), i + k_chunk); ++j) {
        if (j > i) cond += ", ";
        cond += quoted(ids[j]);
      }
      cond += "]";
      auto part = hub_.registry().list({.where = cond});
      out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    return out;
  }

  // Device ids may contain a quote ('), which IoT Hub allows: doubled inside the literal.
  static std::string quoted(const std::string& id) {
    std::string out = "'";
    for (char c : id) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

  static void check(const std::vector<hub::ImportResult>& results, const char* what) {
    for (const auto& r : results)
      if (r.error) throw Error::failure(fmt::format("could not {}: {}", what, r.error->message()));
  }

  hub::Hub& hub_;
};

}  // namespace

std::unique_ptr<Backend> make_registry_backend(hub::Hub& hub) { return std::make_unique<RegistryBackend>(hub); }

std::unique_ptr<Backend> make_backend(hub::Hub& hub) {
  // Thing attributes cannot hold the record (3 or 50 short strings): AWS gets its own mapping.
  if (auto* aws = hub::aws::aws_hub_of(hub)) return make_aws_backend(aws->client());
  return make_registry_backend(hub);
}

}  // namespace aiot::rollout
