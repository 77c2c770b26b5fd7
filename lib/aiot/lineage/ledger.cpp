#include "aiot/lineage/ledger.hpp"

#include <algorithm>

#include "aiot/core/time.hpp"

namespace aiot::lineage {

namespace {

using json = nlohmann::json;

struct Transition {
  std::int64_t t = 0;
  std::string from, to, reason;
  std::int64_t installed_at = k_min_time;  // reported install time of `to`, when known
  bool failed = false;                     // the device reports it still runs `from`
  bool settled = false;                    // a reported install answered it
};

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::optional<std::int64_t> json_time(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  auto t = parse_rfc3339(j[key].get<std::string>());
  if (!t) return std::nullopt;
  return to_ms(*t);
}

std::string str_at(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return {};
    cur = &(*cur)[k];
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

bool is_decommissioned(const json& tags) {
  if (!tags.is_object()) return false;
  if (tags.contains("decommissioned") && tags["decommissioned"] == true) return true;
  for (const char* k : {"lifecycle", "state", "status"}) {
    auto v = str_at(tags, {k});
    if (v == "decommissioned" || v == "retired") return true;
  }
  return false;
}

// Transitions of one device from one rollout's journal.
void add_transitions(const hub::Device& d, const std::vector<json>& events, std::vector<Transition>& out) {
  if (events.empty()) return;
  std::string rollout;
  std::string baseline, target;
  for (const auto& e : events) {
    if (e.value("op", "") == "PLANNED") {
      rollout = e.value("rollout", "");
      baseline = e.value("baseline", "");
      target = e.value("target", "");
      break;
    }
  }
  if (rollout.empty() || target.empty()) return;
  auto wave = str_at(d.tags, {"aiot", "rollouts", rollout.c_str(), "wave"});
  if (wave.empty()) return;  // not a member, or only a control device: stays on the baseline
  for (const auto& e : events) {
    auto op = e.value("op", "");
    auto t = json_time(e, "ts");
    if (!t) continue;
    if (op == "WAVE_DISPATCHED" && e.value("wave", "") == wave) {
      out.push_back({*t, baseline, target, "rollout " + rollout + " wave " + wave});
    } else if (op == "ROLLBACK_STARTED" && e.contains("waves") && e["waves"].is_array()) {
      bool mine = std::any_of(e["waves"].begin(), e["waves"].end(), [&](const json& w) { return w == wave; });
      if (mine) out.push_back({*t, target, e.value("to", baseline), "rollback of " + rollout});
    }
  }
}

void finish_intervals(LedgerDevice& ld) {
  for (auto& iv : ld.intervals) iv.accepted = iv.other.empty() ? iv.version : iv.version + " or " + iv.other;
}

}  // namespace

Ledger Ledger::build(const std::vector<hub::Device>& devices, const std::vector<std::vector<json>>& journals,
                     const LedgerOptions& options, const std::vector<ReportedInstall>& installs) {
  Ledger ledger;
  std::unordered_map<std::string, std::vector<const ReportedInstall*>> installs_of;
  for (const auto& i : installs) installs_of[i.device].push_back(&i);
  for (auto& [id, list] : installs_of)
    std::stable_sort(list.begin(), list.end(), [](const auto* a, const auto* b) { return a->done_ms < b->done_ms; });
  for (const auto& events : journals)
    for (const auto& e : events)
      if (e.value("op", "") == "PLANNED" && e.contains("target") && e["target"].is_string()) ledger.add_target(e["target"]);
  for (const auto& d : devices) {
    if (d.tags.is_object() && d.tags.contains("aiotController")) continue;
    LedgerDevice ld;
    ld.id = d.id;
    ld.enabled = d.enabled;
    ld.decommissioned = is_decommissioned(d.tags);
    for (const auto& tag : options.class_tags) {
      auto v = str_at(d.tags, {tag.c_str()});
      if (!v.empty()) {
        ld.device_class = v;
        break;
      }
    }

    std::vector<Transition> tr;
    for (const auto& events : journals) add_transitions(d, events, tr);
    std::stable_sort(tr.begin(), tr.end(), [](const Transition& a, const Transition& b) { return a.t < b.t; });
    if (auto it = installs_of.find(d.id); it != installs_of.end()) {
      for (const auto* e : it->second) {
        Transition* answered = nullptr;
        for (auto x = tr.rbegin(); x != tr.rend(); ++x)
          if (!x->settled && x->to == e->to && x->t <= e->done_ms) {
            answered = &*x;
            break;
          }
        if (!answered) {
          tr.push_back({e->started_ms, e->from, e->to, "reported install"});
          std::stable_sort(tr.begin(), tr.end(), [](const Transition& a, const Transition& b) { return a.t < b.t; });
          for (auto& x : tr)
            if (!x.settled && x.reason == "reported install" && x.t == e->started_ms && x.to == e->to) answered = &x;
        }
        answered->installed_at = e->done_ms;
        answered->failed = !e->succeeded;
        answered->settled = true;
      }
    }

    const auto current = str_at(d.reported, {"aiot", "model", "version"});
    const json ota = d.reported.is_object() && d.reported.contains("aiot") && d.reported["aiot"].is_object()
                         ? d.reported["aiot"].value("ota", json::object())
                         : json::object();
    const auto ota_state = str_at(ota, {"state"});
    const auto ota_version = str_at(ota, {"version"});
    const auto ota_ts = json_time(ota, "ts");

    if (tr.empty()) {
      if (!current.empty()) ld.intervals.push_back({k_min_time, k_max_time, current, {}, "reported version", {}});
    } else {
      // The last OTA report settles the transition it answers: the latest one to that version.
      if (ota_ts && !ota_version.empty()) {
        for (auto it = tr.rbegin(); it != tr.rend(); ++it) {
          if (it->to != ota_version || it->t > *ota_ts) continue;
          if (it->settled) break;
          if (ota_state == "succeeded") it->installed_at = *ota_ts;
          if (ota_state == "failed") {
            it->failed = true;
            it->installed_at = *ota_ts;
          }
          break;
        }
      }
      std::string v_final = tr.front().from;
      for (const auto& x : tr)
        if (!x.failed) v_final = x.to;
      auto& last = tr.back();
      if (!current.empty() && current != v_final) {
        if (!last.failed && current == last.from) {
          last.failed = true;  // an install that never happened: the device kept its version
        } else {
          std::int64_t at = ota_ts && *ota_ts >= last.t ? *ota_ts : last.t;
          tr.push_back({at, v_final, current, "reported install"});
          tr.back().installed_at = at;
        }
      }

      std::string v = tr.front().from;
      std::int64_t t0 = k_min_time;
      std::string reason = "before " + tr.front().reason;
      for (std::size_t i = 0; i < tr.size(); ++i) {
        const auto& x = tr[i];
        if (x.to == v) continue;  // e.g. a rollback of a device whose install had failed: nothing changes
        const std::string from = v;
        if (x.t > t0) ld.intervals.push_back({t0, x.t, v, {}, reason, {}});
        std::int64_t end = x.t + options.install_window_ms;
        if (x.installed_at != k_min_time) end = std::max(end, x.installed_at + 1);
        if (i + 1 < tr.size()) end = std::min(end, std::max(tr[i + 1].t, x.t));
        std::int64_t start = std::max(x.t, t0);
        if (x.failed) {
          if (end > start) ld.intervals.push_back({start, end, from, x.to, x.reason + " (install window; failed)", {}});
          reason = "failed install of " + x.to + " (" + x.reason + ")";
        } else {
          // Before the reported install time the device still ran `from`.
          std::int64_t sw = x.installed_at != k_min_time ? std::clamp(x.installed_at, start, std::max(start, end)) : start;
          if (sw > start) ld.intervals.push_back({start, sw, from, x.to, x.reason + " (install window)", {}});
          if (end > sw) ld.intervals.push_back({sw, end, x.to, from, x.reason + " (install window)", {}});
          v = x.to;
          reason = "after " + x.reason;
        }
        t0 = std::max(end, start);
      }
      ld.intervals.push_back({t0, k_max_time, v, {}, reason, {}});
      // A version some device was moved to: claiming it without having been sent it is a leak.
      for (const auto& x : tr)
        if (std::find(ledger.targets_.begin(), ledger.targets_.end(), x.to) == ledger.targets_.end()) ledger.add_target(x.to);
    }
    finish_intervals(ld);
    ledger.add(std::move(ld));
  }
  return ledger;
}

void Ledger::add(LedgerDevice device) {
  finish_intervals(device);
  auto id = device.id;
  index_[id] = devices_.size();
  devices_.push_back(std::move(device));
}

const LedgerDevice* Ledger::find(std::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &devices_[it->second];
}

Attribution Ledger::attribute(const LedgerDevice& device, std::int64_t t_ms, std::string_view payload_version) const {
  Attribution a;
  const auto& ivs = device.intervals;
  auto it = std::upper_bound(ivs.begin(), ivs.end(), t_ms, [](std::int64_t t, const Interval& iv) { return t < iv.from_ms; });
  if (it == ivs.begin() || t_ms >= std::prev(it)->to_ms) {
    a.status = Attribution::Status::no_interval;
    a.version = payload_version;
    return a;
  }
  const Interval& iv = *std::prev(it);
  a.interval = &iv;
  a.expected = iv.accepted;
  if (payload_version.empty() || payload_version == iv.version) {
    a.status = Attribution::Status::ok;
    a.version = iv.version;
  } else if (!iv.other.empty() && payload_version == iv.other) {
    a.status = Attribution::Status::ok;
    a.version = iv.other;
  } else {
    a.status = Attribution::Status::mismatch;
    a.version = iv.version;  // the ledger's word counts for per-version statistics
    a.leak = std::find(targets_.begin(), targets_.end(), payload_version) != targets_.end();
  }
  return a;
}

json Ledger::to_json() const {
  json out = json::object();
  auto when = [](std::int64_t t) -> json {
    if (t == k_min_time || t == k_max_time) return nullptr;
    return format_rfc3339(TimePoint(std::chrono::milliseconds(t)));
  };
  for (const auto& d : devices_) {
    json list = json::array();
    for (const auto& iv : d.intervals)
      list.push_back({{"from", when(iv.from_ms)}, {"to", when(iv.to_ms)}, {"version", iv.version}, {"other", iv.other},
                      {"reason", iv.reason}});
    out[d.id] = std::move(list);
  }
  return out;
}

}  // namespace aiot::lineage
