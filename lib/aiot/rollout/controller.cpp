#include "aiot/rollout/controller.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "aiot/core/error.hpp"
#include "aiot/rollout/gate_inputs.hpp"
#include "aiot/rollout/gates.hpp"

namespace aiot::rollout {

namespace {

const char* const k_phases[] = {"PLANNED",      "AWAITING_APPROVAL", "RUNNING", "PAUSED", "SUCCEEDED",
                                "ROLLING_BACK", "ROLLED_BACK",       "ABORTED", "DENIED"};

std::string ts(TimePoint t) { return format_rfc3339(t); }

// Journal events up to this size (canonical JSON) ride in the hub record ahead of the file.
constexpr std::size_t k_tail_inline_limit = 1024;
TimePoint parse_ts(const json& v) {
  if (!v.is_string()) return {};
  return parse_rfc3339(v.get<std::string>()).value_or(TimePoint{});
}

}  // namespace

std::string_view to_string(Phase p) { return k_phases[static_cast<int>(p)]; }

Phase parse_phase(std::string_view s) {
  for (int i = 0; i < 9; ++i)
    if (s == k_phases[i]) return static_cast<Phase>(i);
  throw Error::failure(fmt::format("the rollout record has an unknown phase '{}'", s));
}

bool is_final(Phase p) {
  return p == Phase::succeeded || p == Phase::rolled_back || p == Phase::aborted || p == Phase::denied;
}

int exit_code_for(Phase p) {
  switch (p) {
    case Phase::succeeded: return 0;
    case Phase::rolled_back:
    case Phase::aborted:
    case Phase::denied: return to_int(ExitCode::verdict);
    default: return to_int(ExitCode::pending);
  }
}

struct Controller::Loaded {
  std::string name;
  Record record;
  json& s() { return record.state; }
  RolloutSpec spec;
  TimePoint now;
};

Controller::Controller(ControllerDeps deps) : deps_(std::move(deps)) {}

std::filesystem::path Controller::journal_path(const std::string& rollout) const {
  return deps_.journal_dir / (rollout + ".jsonl");
}

Controller::Loaded Controller::load(const std::string& rollout) {
  if (!valid_rollout_name(rollout))
    throw Error::usage(fmt::format("'{}' is not a rollout name", rollout),
                       "Names start with a lower-case letter and hold lower-case letters, digits and '-'.");
  auto rec = deps_.backend.read(rollout);
  if (!rec)
    throw Error::not_found(fmt::format("no rollout '{}' in this hub", rollout), "List them with 'aiot rollout list'.");
  Loaded l{rollout, std::move(*rec), {}, deps_.hub_now()};
  l.spec = parse_spec(l.s().value("specYaml", std::string()), rollout + " (stored spec)");
  ensure_journal(l);
  return l;
}

// The record carries the last event (journalTail) written ahead of the journal file: a driver that
// died between the hub write and the file append is completed here.
void Controller::ensure_journal(const Loaded& l) {
  const auto& st = l.record.state;
  if (!st.contains("journalTail") || st["journalTail"].is_null()) return;
  auto path = journal_path(l.name);
  auto head = drop_incomplete_tail(path);
  auto hub_head = JournalHead::from_json(st.value("journalHead", json::object()));
  // A large event goes to the file before the hub (commit): when the hub write never happened,
  // the file is ahead of the hub and that event did not take place.
  if (head.seq > hub_head.seq) head = drop_events_after(path, hub_head.seq);
  const auto& tail = st["journalTail"];
  if (!tail.contains("op")) return;  // only {seq, hash}: the event went to the file first
  auto tail_seq = tail.value("seq", std::int64_t{0});
  if (head.seq + 1 == tail_seq) append_event(path, tail);
}

void Controller::commit(Loaded& l, json event) {
  auto head = JournalHead::from_json(l.s().value("journalHead", json::object()));
  event["ts"] = ts(l.now);
  event["actor"] = deps_.actor;
  event["rollout"] = l.name;
  auto next = chain(event, head);
  // The record lives in device tags (8 KB on IoT Hub). A small event rides in it (journalTail)
  // ahead of the file; a large one (gate evaluations) goes to the file first and the record keeps
  // only its seq and hash, so the record stays small however long the rollout bakes.
  bool file_first = canonical(event).size() > k_tail_inline_limit;
  auto path = journal_path(l.name);
  if (file_first) {
    append_event(path, event);
    l.s()["journalTail"] = next.to_json();
  } else {
    l.s()["journalTail"] = event;
  }
  l.s()["journalHead"] = next.to_json();
  l.s()["updatedAt"] = ts(l.now);
  try {
    l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
  } catch (...) {
    if (file_first) drop_events_after(path, head.seq);  // the transition did not happen
    throw;
  }
  if (!file_first) append_event(path, event);
}

void Controller::take_lease(Loaded& l, bool steal) {
  auto& lease = l.s()["lease"];
  std::string holder = lease.is_object() ? lease.value("holder", std::string()) : "";
  TimePoint until = lease.is_object() ? parse_ts(lease.value("until", json())) : TimePoint{};
  bool gone = !holder.empty() && holder != deps_.actor && until > l.now && deps_.holder_gone(holder);
  if (gone) until = l.now;  // the holder died: its lease ends now
  if (!holder.empty() && holder != deps_.actor && until > l.now && !steal)
    throw Error(ExitCode::pending,
                fmt::format("rollout {} is being driven by {} until {}", l.name, holder, ts(until)),
                "Wait for it, or take over with --steal-lease.");
  bool taking = holder != deps_.actor;
  lease = {{"holder", deps_.actor}, {"until", ts(l.now + deps_.lease)}};
  if (taking && !holder.empty() && (until > l.now || gone))
    commit(l, {{"op", "LEASE_TAKEN"}, {"from", holder}, {"why", gone ? "the holder's process is gone" : "--steal-lease"}});
}

bool Controller::start(const RolloutSpec& spec, const std::string& spec_yaml, const Plan& plan,
                       const json& baseline_model) {
  if (!valid_rollout_name(spec.name))
    throw Error::usage(fmt::format("'{}' is not a valid rollout name", spec.name),
                       "Names start with a lower-case letter and hold lower-case letters, digits and '-' (at most 48).");
  if (auto existing = deps_.backend.read(spec.name)) {
    if (existing->state.value("specDigest", std::string()) == spec.digest) return false;
    throw Error::usage(fmt::format("rollout {} exists with a different spec (digest {} != {})", spec.name,
                                   existing->state.value("specDigest", std::string()).substr(0, 12),
                                   spec.digest.substr(0, 12)),
                       "Completed waves are immutable: give the changed rollout a new name.");
  }
  // Membership first: if the driver dies here, the next apply sees no record and assigns again (idempotent).
  std::map<std::string, Assignment> by_device;
  for (std::size_t k = 0; k < plan.waves.size(); ++k) {
    for (const auto& d : plan.waves[k].devices) {
      auto& a = by_device[d];
      a.device = d;
      a.wave = plan.waves[k].name;
    }
    for (const auto& d : plan.waves[k].control) {
      auto& a = by_device[d];
      a.device = d;
      a.control_for.push_back(k);
    }
  }
  std::vector<Assignment> assignments;
  assignments.reserve(by_device.size());
  for (auto& [id, a] : by_device) assignments.push_back(std::move(a));
  deps_.backend.assign(spec.name, assignments);

  TimePoint now = deps_.hub_now();
  json waves = json::array();
  for (const auto& w : plan.waves)
    waves.push_back({{"name", w.name},
                     {"state", "PENDING"},
                     {"canary", w.devices.size()},
                     {"control", w.control.size()},
                     {"approved", false},
                     {"gates", json::object()}});
  Loaded l{spec.name, Record{json::object(), ""}, spec, now};
  l.s() = {{"rollout", spec.name},
           {"specDigest", spec.digest},
           {"planDigest", plan.digest},
           {"specYaml", spec_yaml},
           {"phase", "PLANNED"},
           {"wave", 0},
           {"waves", waves},
           {"artifact", spec.artifact.to_desired()},
           {"baseline", {{"version", plan.baseline_version}, {"model", baseline_model}}},
           {"createdAt", ts(now)},
           {"lease", {{"holder", deps_.actor}, {"until", ts(now + deps_.lease)}}},
           {"journalHead", JournalHead{}.to_json()}};
  // The first write creates the record (if_etag empty): two racing applies cannot both create it.
  auto head = JournalHead{};
  json event = {{"op", "PLANNED"},
                {"specDigest", spec.digest},
                {"planDigest", plan.digest},
                {"baseline", plan.baseline_version},
                {"target", spec.artifact.version},
                {"waves", waves},
                {"cohort", plan.cohort_size}};
  event["ts"] = ts(now);
  event["actor"] = deps_.actor;
  event["rollout"] = spec.name;
  auto next = chain(event, head);
  l.s()["journalHead"] = next.to_json();
  l.s()["journalTail"] = event;
  // A stale journal from an earlier rollout of the same name on another hub must not be chained onto.
  std::filesystem::remove(journal_path(spec.name));
  l.record.etag = deps_.backend.write(spec.name, l.s(), "");
  append_event(journal_path(spec.name), event);
  return true;
}

StepResult Controller::step(const std::string& rollout, bool steal_lease) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s().value("phase", "PLANNED"));
  if (is_final(phase)) return {phase, false, "final"};
  take_lease(l, steal_lease);

  // A write-ahead operation that a dead driver left unfinished is redone first (it is idempotent).
  if (l.s().contains("pendingOp") && !l.s()["pendingOp"].is_null()) {
    auto op = l.s()["pendingOp"];
    std::size_t w = op.value("wave", std::size_t{0});
    if (op.value("op", "") == "dispatch") {
      // The batch is chosen again from the hub: devices that already hold the version are not
      // written twice, and the limits count them as given.
      l.s()["pendingOp"] = nullptr;
      auto r = dispatch_wave(l, w, true);
      r.summary += " (after a restart)";
      return r;
    }
    if (op.value("op", "") == "rollback") {
      l.s()["pendingOp"] = nullptr;
      begin_rollback(l, op.value("reason", std::string("resumed")));
      return {Phase::rolling_back, true, "rollback dispatch completed after a restart"};
    }
  }

  switch (phase) {
    case Phase::planned: {
      bool needs = l.spec.approval_start;
      l.s()["phase"] = needs ? "AWAITING_APPROVAL" : "RUNNING";
      if (needs) l.s()["waitingFor"] = "start";
      commit(l, {{"op", needs ? "APPROVAL_REQUIRED" : "STARTED"}, {"for", "start"}});
      return {needs ? Phase::awaiting_approval : Phase::running, true,
              needs ? "waiting for approval to start" : "started"};
    }
    case Phase::running: return run_wave(l);
    case Phase::rolling_back: return run_rollback(l);
    default: {
      // Keep the lease fresh while waiting (approval, pause).
      l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
      return {phase, false, std::string("waiting: ") + std::string(to_string(phase))};
    }
  }
}

namespace {

// Threshold looks kept in the record per gate; older looks are folded into counts.
constexpr std::size_t k_kept_looks = 12;

// A look as the record keeps it: {agg, n} replays as n copies of its aggregate (the same look
// result); {} had no values; null was a failed query.
ThresholdLook stored_look(const json& past) {
  ThresholdLook pl;
  if (past.is_null()) {
    pl.query_error = true;
  } else if (past.is_object()) {
    pl.values.assign(past.value("n", std::size_t{0}), past.value("agg", 0.0));
  }
  return pl;
}

// The install timeout the controller applies itself. A hub that times installs out natively (AWS:
// the job's in-progress timeout makes an execution TIMED_OUT, read as failed) is left to it: a
// device whose execution is still queued there was not asked to install yet, so time since the
// dispatch says nothing about it (bake.max still bounds the wave).
std::chrono::milliseconds outcome_timeout(const Backend& backend, const RolloutSpec& spec) {
  if (backend.times_out_natively()) return std::chrono::hours(24 * 365 * 100);
  return spec.install_timeout;
}

// Gates that compare the canary with the wave's control devices.
bool compares_with_baseline(GateType type) {
  return type == GateType::proportion_vs_baseline || type == GateType::distribution_vs_baseline;
}

std::int64_t looks_in_wave(const RolloutSpec& spec, const WaveSpec& w) {
  if (!spec.analysis.bonferroni) return 1;
  auto span = w.bake_max.count() > 0 ? w.bake_max : std::max(w.bake_min, spec.analysis.interval);
  auto looks = span.count() / std::max<std::int64_t>(1, spec.analysis.interval.count());
  return std::max<std::int64_t>(1, looks);
}
}  // namespace

// What a look judges, read from the hub either way (members or grouped counts).
struct Controller::LookInputs {
  OutcomeCounts outcome;  // the canary's installs
  bool has_control = false;
  // Per gate, the per-device values of the devices that report health for their arm's version,
  // sorted (the two ways read devices in different orders; sums then agree to the bit).
  std::vector<std::vector<double>> canary_values;
  std::vector<std::vector<double>> control_values;
};

namespace {

// Which gates read per-device values from an arm (outcome gates read none; the control arm
// is read only by the baseline comparisons).
std::vector<bool> gates_reading(const RolloutSpec& spec, bool control_arm) {
  std::vector<bool> wanted(spec.gates.size());
  for (std::size_t k = 0; k < spec.gates.size(); ++k) {
    const auto type = spec.gates[k].type;
    wanted[k] = type != GateType::outcome && (!control_arm || compares_with_baseline(type));
  }
  return wanted;
}
}  // namespace

// Every member's twin: reports_health_for and GateReading per device.
Controller::LookInputs Controller::member_inputs(Loaded& l, std::size_t w, const std::vector<GateReading>& readings,
                                                 const std::string& target, const std::string& baseline,
                                                 TimePoint dispatched) {
  const auto& wave_name = l.s()["waves"][w]["name"].get<std::string>();
  LookInputs in;
  // Gates judge reports only: the hub may leave the members' tags and desired state out.
  auto canary = deps_.backend.members(l.name, MemberSelector::wave_of(w, wave_name).reports());
  // The control arm: this wave's matched control devices, still on the baseline.
  auto control = deps_.backend.members(l.name, MemberSelector::control_of(w).reports());
  in.has_control = !control.empty();
  in.outcome = count_outcomes(canary, target, dispatched, l.now, outcome_timeout(deps_.backend, l.spec));
  // Which devices report health for their arm's version: decided once per look, not once per gate
  // (two timestamp parses per device, for every gate, were a seventh of a look over 9,500 devices).
  auto reporting = [](const std::vector<hub::Device>& arm, const std::string& version) {
    std::vector<const hub::Device*> out;
    out.reserve(arm.size());
    for (const auto& d : arm)
      if (reports_health_for(d, version)) out.push_back(&d);
    return out;
  };
  // Every gate's per-device values, reading each device once for all gates (device-major: a
  // twin is visited while it is in cache instead of once per gate, a fifth of a big look).
  auto read_arm = [&](const std::vector<const hub::Device*>& arm, bool control_arm) {
    std::vector<std::vector<double>> values(l.spec.gates.size());
    const auto wanted = gates_reading(l.spec, control_arm);
    for (std::size_t k = 0; k < wanted.size(); ++k)
      if (wanted[k]) values[k].reserve(arm.size());
    for (const auto* d : arm)
      for (std::size_t k = 0; k < readings.size(); ++k)
        if (wanted[k])
          if (auto v = readings[k](*d)) values[k].push_back(*v);
    for (auto& v : values) std::sort(v.begin(), v.end());
    return values;
  };
  in.canary_values = read_arm(reporting(canary, target), false);
  in.control_values = read_arm(reporting(control, baseline), true);
  return in;
}

// Counts instead of twins (Backend::count_arm): per arm its members' installs and the frequency
// tables of each metric among the members that report health for the arm's version. The
// requests stay the same whatever the wave size (the groups are versions, states and distinct
// metric values). nullopt when the backend cannot count an arm (then the twins are read).
std::optional<Controller::LookInputs> Controller::counted_inputs(Loaded& l, std::size_t w,
                                                                 const std::vector<GateReading>& readings,
                                                                 const std::string& target, const std::string& baseline,
                                                                 TimePoint dispatched) {
  const auto& wave_name = l.s()["waves"][w]["name"].get<std::string>();
  // The distinct metrics an arm's gates read, and which of them each gate reads.
  auto query_for = [&](MemberSelector arm, const std::string& version, bool control_arm) {
    ArmQuery q{std::move(arm), version, !control_arm, {}};
    const auto wanted = gates_reading(l.spec, control_arm);
    std::vector<std::optional<std::size_t>> metric_of(wanted.size());
    for (std::size_t k = 0; k < wanted.size(); ++k) {
      if (!wanted[k]) continue;
      const std::string path = readings[k].metric_path();
      auto it = std::find(q.metrics.begin(), q.metrics.end(), path);
      metric_of[k] = static_cast<std::size_t>(it - q.metrics.begin());
      if (it == q.metrics.end()) q.metrics.push_back(path);
    }
    return std::pair{std::move(q), std::move(metric_of)};
  };
  auto values_of = [&](const ArmCounts& counts, const std::vector<std::optional<std::size_t>>& metric_of) {
    std::vector<std::vector<double>> values(metric_of.size());
    for (std::size_t k = 0; k < metric_of.size(); ++k) {
      if (!metric_of[k]) continue;
      for (const auto& g : counts.values.at(*metric_of[k])) {
        auto v = readings[k].of(g.keys[0] ? &*g.keys[0] : nullptr);
        if (v) values[k].insert(values[k].end(), static_cast<std::size_t>(g.count), *v);
      }
      std::sort(values[k].begin(), values[k].end());
    }
    return values;
  };

  auto [canary_query, canary_metrics] = query_for(MemberSelector::wave_of(w, wave_name), target, false);
  auto canary = deps_.backend.count_arm(l.name, canary_query);
  if (!canary) return std::nullopt;
  auto [control_query, control_metrics] = query_for(MemberSelector::control_of(w), baseline, true);
  auto control = deps_.backend.count_arm(l.name, control_query);
  if (!control) return std::nullopt;

  LookInputs in;
  const auto timeout = outcome_timeout(deps_.backend, l.spec);
  for (const auto& g : canary->installs) {
    in.outcome.assigned += g.count;
    switch (outcome_of(g.version, g.state, target, dispatched, l.now, timeout)) {
      case DeviceOutcome::succeeded: in.outcome.succeeded += g.count; break;
      case DeviceOutcome::failed: in.outcome.failed += g.count; break;
      case DeviceOutcome::timed_out: in.outcome.timed_out += g.count; break;
      case DeviceOutcome::in_progress: in.outcome.in_progress += g.count; break;
    }
  }
  in.has_control = control->members > 0;
  in.canary_values = values_of(*canary, canary_metrics);
  in.control_values = values_of(*control, control_metrics);
  return in;
}

json Controller::evaluate_gates(Loaded& l, std::size_t w) {
  const auto& spec_wave = l.spec.waves.at(w);
  std::string target = l.s()["artifact"].value("version", std::string());
  std::string baseline = l.s()["baseline"].value("version", std::string());
  TimePoint dispatched = parse_ts(l.s()["waves"][w]["dispatchedAt"]);
  std::vector<GateReading> readings;
  for (const auto& g : l.spec.gates) readings.emplace_back(g);
  auto counted = counted_inputs(l, w, readings, target, baseline, dispatched);
  const LookInputs in = counted ? std::move(*counted) : member_inputs(l, w, readings, target, baseline, dispatched);
  const auto& canary_values = in.canary_values;
  const auto& control_values = in.control_values;
  std::int64_t looks = looks_in_wave(l.spec, spec_wave);
  json results = json::object();
  auto& history = l.s()["waves"][w]["gates"];
  for (std::size_t gate_index = 0; gate_index < l.spec.gates.size(); ++gate_index) {
    const auto& g = l.spec.gates[gate_index];
    if (compares_with_baseline(g.type) && !in.has_control) {
      // A wave without control devices (a 100% last wave) has nothing to compare against: the
      // gate does not apply there (plan shows it as "n/a: no control").
      results[g.name] = {{"verdict", "SKIPPED"}, {"effective", "PASS"}, {"critical", g.critical}, {"dryRun", g.dry_run},
                         {"reason", "no control devices in this wave"}};
      continue;
    }
    GateResult r;
    switch (g.type) {
      case GateType::outcome:
        r = outcome_gate(in.outcome, outcome_params(g, looks));
        break;
      case GateType::threshold: {
        ThresholdLook look;
        look.values = canary_values[gate_index];
        // Argo semantics count looks over the whole wave: each past look is kept as {aggregate, n}
        // and replayed as n copies of its aggregate, which evaluates to the same look result.
        auto params = threshold_params(g);
        auto& gate_history = history[g.name];
        if (!gate_history.is_object()) gate_history = json::object();
        std::vector<ThresholdLook> seq;
        for (const auto& past : gate_history.value("looks", json::array())) seq.push_back(stored_look(past));
        seq.push_back(look);
        json stored = json::object();
        if (!look.values.empty())
          stored = {{"agg", aggregate_values(look.values, params.aggregate)}, {"n", look.values.size()}};
        gate_history["looks"].push_back(stored);
        // The record lives in the hub's device tags (8 KB on IoT Hub): only the latest looks are
        // kept; older ones are folded into counts that decide the same way (the journal has them all).
        ThresholdCarry carry = ThresholdCarry::from_json(gate_history.value("folded", json::object()));
        auto& kept = gate_history["looks"];
        while (kept.size() > k_kept_looks) {
          carry = fold_look(carry, stored_look(kept.front()), params);
          kept.erase(kept.begin());
          seq.erase(seq.begin());
        }
        if (carry.looks > 0) gate_history["folded"] = carry.to_json();
        r = threshold_gate(seq, params, carry);
        break;
      }
      case GateType::proportion_vs_baseline: {
        ProportionCounts c;
        for (double e : canary_values[gate_index]) {
          ++c.canary_devices;
          c.canary_events += e > 0 ? 1 : 0;
        }
        for (double e : control_values[gate_index]) {
          ++c.baseline_devices;
          c.baseline_events += e > 0 ? 1 : 0;
        }
        r = proportion_gate(c, proportion_params(g, looks));
        break;
      }
      case GateType::distribution_vs_baseline: {
        // One value per device (the unit of analysis) from its samples, by perDevice; devices with
        // fewer than minPerDevice samples do not count (GateReading).
        r = distribution_gate(canary_values[gate_index], control_values[gate_index], distribution_params(g, looks));
        break;
      }
    }
    results[g.name] = r.record;
    results[g.name]["verdict"] = to_string(r.verdict);
    results[g.name]["effective"] = to_string(effective_verdict(r));
    results[g.name]["critical"] = g.critical;
    results[g.name]["dryRun"] = g.dry_run;
    history[g.name]["last"] = to_string(r.verdict);
  }
  return results;
}

namespace {
bool wave_touched(const json& wv) { return wv.contains("dispatchedAt") || wv.contains("dispatchStartedAt"); }

bool holds_model(const hub::Device& d, const json& model) {
  if (!d.desired.contains("aiot") || !d.desired["aiot"].is_object()) return false;
  const auto& a = d.desired["aiot"];
  return a.contains("model") && a["model"] == model;
}

// The device reached a final install state for this version (succeeded, failed, or timed out by the hub).
bool ota_final_for(const hub::Device& d, const std::string& version) {
  if (!d.reported.contains("aiot") || !d.reported["aiot"].is_object()) return false;
  const auto& a = d.reported["aiot"];
  if (!a.contains("ota") || !a["ota"].is_object()) return false;
  const auto& ota = a["ota"];
  auto state = ota.value("state", std::string());
  return ota.value("version", std::string()) == version && (state == "succeeded" || state == "failed" || state == "timed_out");
}
// What both dispatch paths hand the backend for wave w of the rollout's state.
WaveDispatch wave_dispatch(const std::string& rollout, const json& state, std::size_t w, const std::string& op_id,
                           std::size_t wave_size) {
  WaveDispatch request;
  request.rollout = rollout;
  request.wave_index = w;
  request.wave = state["waves"][w]["name"].get<std::string>();
  request.op_id = op_id;
  request.salt = state.value("createdAt", std::string());
  request.model = state["artifact"];
  request.wave_size = wave_size;
  return request;
}
}  // namespace

// Gives the version to the wave's next devices (in id order), within rate.maxInFlight (devices
// that hold the version and have not reached a final install state; after timeouts.install since
// the last batch they stop counting) and rate.perMinute (since the last batch). The batch is chosen
// from the hub and written ahead, so a restarted driver picks the same devices or, once written,
// counts them as given. The wave bakes once every device holds the version.
StepResult Controller::dispatch_wave(Loaded& l, std::size_t w, bool resumed) {
  if (deps_.backend.paces_natively()) return dispatch_wave_whole(l, w, resumed);
  auto& wave = l.s()["waves"][w];
  const std::string wave_name = wave["name"];
  const json artifact = l.s()["artifact"];
  const std::string target = artifact.value("version", std::string());
  // Desired (who holds the version) is read, tags are not, reports (who is still installing) only
  // under an in-flight limit: parsing 5,500 devices' reports was a tenth of a big dispatch.
  const bool limits_flights = l.spec.rate.max_in_flight > 0;
  auto selector = MemberSelector::wave_of(w, wave_name).without_tags();
  if (!limits_flights) selector = std::move(selector).without_reports();
  auto devices = deps_.backend.members(l.name, selector);
  std::sort(devices.begin(), devices.end(), [](const hub::Device& a, const hub::Device& b) { return a.id < b.id; });
  const std::size_t total = devices.size();
  TimePoint last_batch = parse_ts(wave.value("lastBatchAt", json()));
  bool flights_expired = last_batch != TimePoint{} && l.now - last_batch >= l.spec.install_timeout;
  std::vector<hub::Device> next;
  std::size_t given = 0, in_flight = 0;
  for (auto& d : devices) {
    if (holds_model(d, artifact)) {
      ++given;
      if (limits_flights && !flights_expired && !ota_final_for(d, target)) ++in_flight;
    } else {
      next.push_back(std::move(d));
    }
  }
  std::size_t allowed = next.size();
  if (l.spec.rate.max_in_flight > 0)
    allowed = std::min(allowed, l.spec.rate.max_in_flight > in_flight ? l.spec.rate.max_in_flight - in_flight : 0);
  if (l.spec.rate.per_minute > 0) {
    double minutes = last_batch == TimePoint{} ? 1.0 : std::chrono::duration<double>(l.now - last_batch).count() / 60.0;
    auto budget = static_cast<std::size_t>(std::floor(l.spec.rate.per_minute * minutes));
    if (last_batch == TimePoint{}) budget = std::max<std::size_t>(budget, 1);
    allowed = std::min(allowed, budget);
  }
  next.resize(allowed);
  if (next.empty() && given < total) {
    // Nothing may go out now: keep the lease fresh and wait for installs to finish or time to pass.
    l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
    return {Phase::running, false,
            fmt::format("wave {}: {} of {} devices given {}, {} installing (maxInFlight {})", wave_name, given, total, target,
                        in_flight, l.spec.rate.max_in_flight)};
  }
  // Write ahead: the operation and its id go into the hub before the devices are touched.
  int batch = wave.value("batches", 0) + 1;
  std::string op_id = fmt::format("aiot-{}-w{}-a{}", l.name.substr(0, 8), w, batch);
  bool first = !wave.contains("dispatchStartedAt");
  if (first) wave["dispatchStartedAt"] = ts(l.now);
  l.s()["pendingOp"] = {{"op", "dispatch"}, {"wave", w}, {"id", op_id}, {"at", ts(l.now)}};
  l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
  WaveDispatch request = wave_dispatch(l.name, l.s(), w, op_id, total);
  request.devices = std::move(next);
  const std::size_t batch_size = request.devices.size();
  std::size_t changed = deps_.backend.dispatch_wave(request).changed;
  given += batch_size;
  bool complete = given >= total;
  wave["batches"] = batch;
  wave["dispatched"] = given;
  wave["lastBatchAt"] = ts(l.now);
  if (complete) {
    wave["state"] = "BAKING";
    wave["dispatchedAt"] = ts(l.now);  // the bake and the install timeout run from the last batch
  } else {
    wave["state"] = "DISPATCHING";
  }
  l.s()["pendingOp"] = nullptr;
  json event = {{"op", first ? "WAVE_DISPATCHED" : "WAVE_BATCH_DISPATCHED"},
                {"wave", wave_name},
                {"opId", op_id},
                {"devices", batch_size},
                {"changed", changed},
                {"given", given},
                {"total", total},
                {"complete", complete}};
  if (resumed) event["resumed"] = true;
  commit(l, event);
  return {Phase::running, true,
          complete && first ? fmt::format("wave {}: dispatched {} to {} devices", wave_name, target, total)
                            : fmt::format("wave {}: dispatched {} to {} more devices ({} of {})", wave_name, target,
                                          batch_size, given, total)};
}

namespace {
// The outcome gate's limits as a backstop the hub applies by itself (AWS abortConfig): the first
// critical outcome gate that can fail (dry-run gates never stop anything).
std::optional<AbortBackstop> abort_backstop(const RolloutSpec& spec) {
  for (const auto& g : spec.gates) {
    if (g.type != GateType::outcome || !g.critical || g.dry_run) continue;
    auto p = outcome_params(g, 1);
    return AbortBackstop{p.failure_above, std::max<std::int64_t>(1, p.min_samples)};
  }
  return std::nullopt;
}
}  // namespace

// A hub that paces a wave itself (AWS IoT Jobs) gets the whole wave in one dispatch, with the rate,
// the install timeout and the outcome gate as a backstop. The hub then notifies the devices over
// some minutes (DispatchResult::notify_span), so the bake runs from when the last device is due to
// be notified, as it runs from the last batch when aiot paces.
StepResult Controller::dispatch_wave_whole(Loaded& l, std::size_t w, bool resumed) {
  auto& wave = l.s()["waves"][w];
  const std::string wave_name = wave["name"];
  const json artifact = l.s()["artifact"];
  const std::string target = artifact.value("version", std::string());
  const std::size_t total = wave.value("canary", std::size_t{0});
  std::string op_id = fmt::format("aiot-{}-w{}-a1", l.name.substr(0, 8), w);
  if (!wave.contains("dispatchStartedAt")) wave["dispatchStartedAt"] = ts(l.now);
  l.s()["pendingOp"] = {{"op", "dispatch"}, {"wave", w}, {"id", op_id}, {"at", ts(l.now)}};
  l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
  WaveDispatch request = wave_dispatch(l.name, l.s(), w, op_id, total);
  request.per_minute = l.spec.rate.per_minute;
  request.install_timeout = l.spec.install_timeout;
  request.abort = abort_backstop(l.spec);
  auto result = deps_.backend.dispatch_wave(request);
  TimePoint started = parse_ts(wave["dispatchStartedAt"]);
  const auto pacing = result.notify_span;
  wave["batches"] = 1;
  wave["dispatched"] = total;
  wave["lastBatchAt"] = ts(started);
  wave["state"] = "BAKING";
  wave["dispatchedAt"] = ts(started + pacing);
  if (!result.provider_ids.empty()) wave["jobs"] = result.provider_ids;
  l.s()["pendingOp"] = nullptr;
  json event = {{"op", "WAVE_DISPATCHED"}, {"wave", wave_name},  {"opId", op_id},  {"devices", total},
                {"changed", result.changed}, {"given", total}, {"total", total}, {"complete", true},
                {"providerIds", result.provider_ids}};
  if (pacing.count() > 0) event["pacedUntil"] = wave["dispatchedAt"];
  if (resumed) event["resumed"] = true;
  commit(l, event);
  return {Phase::running, true,
          fmt::format("wave {}: handed {} to the hub for {} devices ({})", wave_name, target, total,
                      result.provider_ids.empty() ? std::string("no new job") : "job " + result.provider_ids.front())};
}

StepResult Controller::run_wave(Loaded& l) {
  std::size_t w = l.s().value("wave", std::size_t{0});
  auto& wave = l.s()["waves"][w];
  const std::string wave_name = wave["name"];
  const auto& spec_wave = l.spec.waves.at(w);
  std::string state = wave.value("state", "PENDING");

  if (state == "PENDING") {
    bool needs_approval = spec_wave.approval_before && !wave.value("approved", false);
    if (needs_approval) {
      l.s()["phase"] = "AWAITING_APPROVAL";
      l.s()["waitingFor"] = wave_name;
      commit(l, {{"op", "APPROVAL_REQUIRED"}, {"for", wave_name}});
      return {Phase::awaiting_approval, true, fmt::format("wave {} waits for approval", wave_name)};
    }
    return dispatch_wave(l, w, false);
  }
  if (state == "DISPATCHING") {
    return dispatch_wave(l, w, false);
  }

  if (state == "BAKING" && wave.value("skipGates", false)) {
    wave["state"] = "PASSED";
    return act_on_verdict(l, w);
  }
  if (state == "BAKING") {
    TimePoint dispatched = parse_ts(wave["dispatchedAt"]);
    TimePoint last_look = parse_ts(wave.value("lastLookAt", json()));
    if (l.now - dispatched < l.spec.analysis.warmup) {
      l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
      return {Phase::running, false, fmt::format("wave {}: warming up", wave_name)};
    }
    if (last_look != TimePoint{} && l.now - last_look < l.spec.analysis.interval) {
      l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
      return {Phase::running, false, fmt::format("wave {}: baking, next look at {}", wave_name,
                                                 ts(last_look + l.spec.analysis.interval))};
    }
    auto results = evaluate_gates(l, w);
    wave["lastLookAt"] = ts(l.now);
    wave["looks"] = wave.value("looks", 0) + 1;
    wave["lastResults"] = json::object();
    // Critical gates decide; non-critical ones are advisory: recorded, shown, never blocking.
    bool critical_fail = false, all_pass = true;
    std::vector<std::string> failed;
    for (auto& [name, r] : results.items()) {
      wave["lastResults"][name] = {{"verdict", r["verdict"]}, {"reason", r.value("reason", "")}};
      std::string eff = r["effective"];
      bool critical = r["critical"].get<bool>();
      if (critical && eff != "PASS") all_pass = false;
      if (critical && eff == "FAIL") {
        failed.push_back(name);
        critical_fail = true;
      }
    }
    bool bake_done = l.now - dispatched >= spec_wave.bake_min;
    bool bake_expired = spec_wave.bake_max.count() > 0 && l.now - dispatched >= spec_wave.bake_max;
    json event = {{"op", "GATES_EVALUATED"}, {"wave", wave_name}, {"look", wave["looks"]}, {"gates", results}};
    if (critical_fail) {
      wave["state"] = "FAILED";
      std::string names;
      for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
      wave["failedGates"] = names;
      commit(l, event);
      return act_on_verdict(l, w);
    }
    if (all_pass && bake_done) {
      wave["state"] = "PASSED";
      commit(l, event);
      return act_on_verdict(l, w);
    }
    if (bake_expired) {
      wave["state"] = "INCONCLUSIVE";
      commit(l, event);
      return act_on_verdict(l, w);
    }
    commit(l, event);
    return {Phase::running, true, fmt::format("wave {}: look {}: {}", wave_name, wave["looks"].get<int>(),
                                              all_pass ? "all gates pass, baking" : "evaluating")};
  }
  // A verdict recorded by a driver that died before acting on it: act now.
  if (state == "PASSED" || state == "FAILED" || state == "INCONCLUSIVE") return act_on_verdict(l, w);
  return {Phase::running, false, "nothing to do"};
}

// What a wave's verdict leads to. Each path ends in its own commit, so a driver killed in between
// leaves the verdict recorded and the next step lands here again.
StepResult Controller::act_on_verdict(Loaded& l, std::size_t w) {
  auto& wave = l.s()["waves"][w];
  const std::string wave_name = wave["name"];
  const std::string state = wave.value("state", "");
  if (state == "PASSED") return promote_next(l, w, wave.value("skipGates", false) ? "gates skipped (promote --full)" : "gates passed");
  if (state == "FAILED") {
    std::string why = fmt::format("wave {}: gate {} failed", wave_name, wave.value("failedGates", std::string("?")));
    switch (l.spec.on_failure.action) {
      case FailureAction::rollback: begin_rollback(l, why); return {Phase::rolling_back, true, why + ", rolling back"};
      case FailureAction::pause:
        l.s()["phase"] = "PAUSED";
        l.s()["reason"] = why;
        commit(l, {{"op", "PAUSED"}, {"reason", why}});
        return {Phase::paused, true, why + ", paused"};
      case FailureAction::abort_keep:
        l.s()["phase"] = "ABORTED";
        l.s()["reason"] = why;
        commit(l, {{"op", "ABORTED"}, {"reason", why}, {"revert", false}});
        return {Phase::aborted, true, why + ", aborted (devices keep what they run)"};
    }
  }
  std::string why = fmt::format("wave {}: gates inconclusive after bake.max", wave_name);
  switch (l.spec.analysis.on_inconclusive) {
    case InconclusiveAction::promote: return promote_next(l, w, "inconclusive, promoted by policy");
    case InconclusiveAction::fail: begin_rollback(l, why); return {Phase::rolling_back, true, why + ", rolling back"};
    case InconclusiveAction::pause: break;
  }
  l.s()["phase"] = "PAUSED";
  l.s()["reason"] = why;
  commit(l, {{"op", "PAUSED"}, {"reason", why}});
  return {Phase::paused, true, why + ", paused"};
}

}  // namespace aiot::rollout

namespace aiot::rollout {

StepResult Controller::promote_next(Loaded& l, std::size_t w, const std::string& why) {
  std::string wave_name = l.s()["waves"][w]["name"];
  if (w + 1 >= l.s()["waves"].size()) {
    l.s()["phase"] = "SUCCEEDED";
    l.s()["lease"] = nullptr;
    commit(l, {{"op", "SUCCEEDED"}, {"lastWave", wave_name}, {"why", why}});
    return {Phase::succeeded, true, fmt::format("wave {}: {}; rollout succeeded", wave_name, why)};
  }
  l.s()["wave"] = w + 1;
  std::string next = l.s()["waves"][w + 1]["name"];
  commit(l, {{"op", "PROMOTED"}, {"from", wave_name}, {"to", next}, {"why", why}});
  return {Phase::running, true, fmt::format("wave {}: {}; promoted to {}", wave_name, why, next)};
}

void Controller::begin_rollback(Loaded& l, const std::string& why) {
  // Scope: every wave that was dispatched (all), or only the current one (wave).
  std::size_t current = l.s().value("wave", std::size_t{0});
  std::vector<std::string> waves;
  for (std::size_t i = 0; i < l.s()["waves"].size(); ++i) {
    const auto& wv = l.s()["waves"][i];
    if (!wave_touched(wv)) continue;
    if (!l.spec.on_failure.scope_all && i != current) continue;
    waves.push_back(wv["name"]);
  }
  std::string op_id = fmt::format("aiot-{}-rb", l.name.substr(0, 8));
  l.s()["phase"] = "ROLLING_BACK";
  l.s()["reason"] = why;
  l.s()["rollback"] = {{"waves", waves}, {"startedAt", ts(l.now)}, {"id", op_id}};
  l.s()["pendingOp"] = {{"op", "rollback"}, {"id", op_id}, {"reason", why}, {"at", ts(l.now)}};
  l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
  RevertRequest request;
  request.rollout = l.name;
  for (std::size_t i = 0; i < l.s()["waves"].size(); ++i) {
    const auto& wv = l.s()["waves"][i];
    if (std::find(waves.begin(), waves.end(), wv["name"].get<std::string>()) == waves.end()) continue;
    request.waves.emplace_back(i, wv["name"].get<std::string>());
    request.wave_devices += wv.value("canary", std::size_t{0});
  }
  request.baseline_model = l.s()["baseline"]["model"];
  request.baseline_version = l.s()["baseline"].value("version", std::string());
  request.op_id = op_id;
  request.salt = l.s().value("createdAt", std::string());
  auto reverted = deps_.backend.revert(request);
  l.s()["pendingOp"] = nullptr;
  l.s()["rollback"]["devices"] = reverted.devices;
  json event = {{"op", "ROLLBACK_STARTED"}, {"reason", why},         {"waves", waves}, {"devices", reverted.devices},
                {"changed", reverted.changed}, {"to", l.s()["baseline"]["version"]}};
  if (!reverted.provider_ids.empty()) event["providerIds"] = reverted.provider_ids;
  if (!reverted.canceled.empty()) event["canceled"] = reverted.canceled;
  commit(l, event);
}

StepResult Controller::run_rollback(Loaded& l) {
  std::string baseline = l.s()["baseline"].value("version", std::string());
  std::vector<std::string> waves = l.s()["rollback"].value("waves", std::vector<std::string>{});
  std::size_t total = 0, verified = 0;
  std::vector<std::string> pending;
  for (std::size_t i = 0; i < l.s()["waves"].size(); ++i) {
    const std::string wname = l.s()["waves"][i]["name"];
    if (std::find(waves.begin(), waves.end(), wname) == waves.end()) continue;
    for (const auto& d : deps_.backend.members(l.name, MemberSelector::wave_of(i, wname))) {
      ++total;
      const auto& ota = d.reported.contains("aiot") ? d.reported["aiot"].value("ota", json::object()) : json::object();
      if (ota.value("version", "") == baseline && ota.value("state", "") == "succeeded") ++verified;
      else if (pending.size() < 20) pending.push_back(d.id);
    }
  }
  TimePoint started = parse_ts(l.s()["rollback"]["startedAt"]);
  bool expired = l.now - started >= l.spec.install_timeout;
  if (verified == total || expired) {
    l.s()["phase"] = "ROLLED_BACK";
    l.s()["lease"] = nullptr;
    l.s()["rollback"]["verified"] = verified;
    l.s()["rollback"]["unverified"] = total - verified;
    commit(l, {{"op", "ROLLBACK_DONE"}, {"verified", verified}, {"devices", total}, {"unverified", pending},
               {"to", baseline}});
    return {Phase::rolled_back, true,
            verified == total ? fmt::format("rolled back: all {} devices report {}", total, baseline)
                              : fmt::format("rolled back: {} of {} devices confirmed {}; not confirmed: {}", verified, total,
                                            baseline, pending.empty() ? "" : pending.front() + (pending.size() > 1 ? ", ..." : ""))};
  }
  l.record.etag = deps_.backend.write(l.name, l.s(), l.record.etag);
  return {Phase::rolling_back, false, fmt::format("rolling back: {} of {} devices report {}", verified, total, baseline)};
}

namespace {
void require(bool ok, const std::string& what, Phase phase) {
  if (!ok) throw Error::usage(fmt::format("cannot {} a rollout that is {}", what, to_string(phase)));
}
}  // namespace

void Controller::approve(const std::string& rollout, const std::string& remark) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s()["phase"].get<std::string>());
  require(phase == Phase::awaiting_approval, "approve", phase);
  std::string what = l.s().value("waitingFor", std::string("start"));
  if (what != "start") {
    for (auto& wv : l.s()["waves"])
      if (wv["name"] == what) wv["approved"] = true;
  }
  l.s()["phase"] = "RUNNING";
  l.s()["waitingFor"] = nullptr;
  commit(l, {{"op", "APPROVED"}, {"for", what}, {"remark", remark}});
}

void Controller::deny(const std::string& rollout, const std::string& remark) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s()["phase"].get<std::string>());
  require(phase == Phase::awaiting_approval, "deny", phase);
  std::string what = l.s().value("waitingFor", std::string("start"));
  bool dispatched = false;
  for (const auto& wv : l.s()["waves"]) dispatched |= wave_touched(wv);
  commit(l, {{"op", "DENIED"}, {"for", what}, {"remark", remark}});
  if (dispatched) {
    begin_rollback(l, "approval denied for " + what + ": " + remark);
  } else {
    l.s()["phase"] = "DENIED";
    l.s()["lease"] = nullptr;
    commit(l, {{"op", "FINISHED"}, {"phase", "DENIED"}});
  }
}

void Controller::pause(const std::string& rollout, const std::string& remark) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s()["phase"].get<std::string>());
  require(phase == Phase::running || phase == Phase::planned, "pause", phase);
  l.s()["phase"] = "PAUSED";
  l.s()["reason"] = "manual: " + remark;
  commit(l, {{"op", "PAUSED"}, {"reason", "manual"}, {"remark", remark}});
}

void Controller::resume(const std::string& rollout, const std::string& remark) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s()["phase"].get<std::string>());
  require(phase == Phase::paused, "resume", phase);
  l.s()["phase"] = "RUNNING";
  l.s()["reason"] = nullptr;
  std::size_t w = l.s().value("wave", std::size_t{0});
  auto& wave = l.s()["waves"][w];
  // A wave paused as inconclusive gets a fresh bake window when resumed.
  if (wave.value("state", "") == "INCONCLUSIVE") {
    wave["state"] = "BAKING";
    wave["dispatchedAt"] = ts(l.now);
    wave["lastLookAt"] = nullptr;
  }
  commit(l, {{"op", "RESUMED"}, {"remark", remark}});
}

void Controller::promote(const std::string& rollout, bool full, const std::string& remark) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s()["phase"].get<std::string>());
  require(phase == Phase::running || phase == Phase::paused, "promote", phase);
  std::size_t w = l.s().value("wave", std::size_t{0});
  auto& wave = l.s()["waves"][w];
  if (!wave.contains("dispatchedAt"))
    throw Error::usage(fmt::format("wave {} has not been dispatched yet: nothing to promote", wave["name"].get<std::string>()));
  l.s()["phase"] = "RUNNING";
  wave["state"] = "PASSED";
  wave["promotedBy"] = deps_.actor;
  commit(l, {{"op", "MANUAL_PROMOTE"}, {"wave", wave["name"]}, {"full", full}, {"remark", remark}});
  if (full) {
    // Skip the remaining gates: every later wave is approved and passes as soon as it is dispatched.
    for (auto& wv : l.s()["waves"]) {
      wv["approved"] = true;
      wv["skipGates"] = true;
    }
  }
  promote_next(l, w, full ? "promoted by hand (--full)" : "promoted by hand");
}

void Controller::abort(const std::string& rollout, bool revert, const std::string& remark) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s()["phase"].get<std::string>());
  require(!is_final(phase) && phase != Phase::rolling_back, "abort", phase);
  if (revert) {
    begin_rollback(l, "aborted by hand: " + remark);
    return;
  }
  l.s()["phase"] = "ABORTED";
  l.s()["lease"] = nullptr;
  commit(l, {{"op", "ABORTED"}, {"revert", false}, {"remark", remark}});
}

void Controller::rollback(const std::string& rollout, const std::string& remark) {
  auto l = load(rollout);
  Phase phase = parse_phase(l.s()["phase"].get<std::string>());
  require(phase != Phase::rolling_back && phase != Phase::rolled_back && phase != Phase::denied, "roll back", phase);
  begin_rollback(l, "rolled back by hand: " + remark);
}

std::vector<std::string> Controller::list() { return deps_.backend.rollouts(); }

std::optional<JournalHead> Controller::hub_head(const std::string& rollout) {
  auto rec = deps_.backend.read(rollout);
  if (!rec) return std::nullopt;
  return JournalHead::from_json(rec->state.value("journalHead", json::object()));
}

json Controller::status(const std::string& rollout) {
  auto rec = deps_.backend.read(rollout);
  if (!rec) throw Error::not_found(fmt::format("no rollout '{}' in this hub", rollout), "List them with 'aiot rollout list'.");
  json st = rec->state;
  auto spec = parse_spec(st.value("specYaml", std::string()), rollout + " (stored spec)");
  std::string target = st["artifact"].value("version", std::string());
  TimePoint now = deps_.hub_now();
  json out = {{"rollout", rollout},
              {"phase", st["phase"]},
              {"reason", st.value("reason", json())},
              {"target", target},
              {"baseline", st["baseline"]["version"]},
              {"createdAt", st.value("createdAt", json())},
              {"updatedAt", st.value("updatedAt", json())},
              {"currentWave", st["waves"][st.value("wave", std::size_t{0})]["name"]},
              {"journalHead", st.value("journalHead", json::object())},
              {"waves", json::array()}};
  if (st.contains("waitingFor") && !st["waitingFor"].is_null()) out["waitingFor"] = st["waitingFor"];
  for (std::size_t wave_index = 0; wave_index < st["waves"].size(); ++wave_index) {
    const auto& wv = st["waves"][wave_index];
    json w = {{"name", wv["name"]},
              {"state", wv["state"]},
              {"canary", wv["canary"]},
              {"control", wv["control"]},
              {"looks", wv.value("looks", 0)},
              {"gates", wv.value("lastResults", json::object())}};
    if (wave_touched(wv)) {
      if (wv.contains("dispatchedAt")) w["dispatchedAt"] = wv["dispatchedAt"];
      if (wv.contains("dispatched")) w["dispatched"] = wv["dispatched"];
      // Device state counts, recomputed from the hub with one query for the wave.
      json counts = json::object();
      TimePoint dispatched = parse_ts(wv.contains("dispatchedAt") ? wv["dispatchedAt"] : wv["dispatchStartedAt"]);
      std::string baseline = st["baseline"].value("version", std::string());
      bool rolled = st.contains("rollback") &&
                    std::find(st["rollback"]["waves"].begin(), st["rollback"]["waves"].end(), wv["name"]) !=
                        st["rollback"]["waves"].end();
      for (const auto& d : deps_.backend.members(rollout, MemberSelector::wave_of(wave_index, wv["name"].get<std::string>()))) {
        const char* k = "in_progress";
        if (rolled) {
          const auto& ota = d.reported.contains("aiot") ? d.reported["aiot"].value("ota", json::object()) : json::object();
          k = ota.value("version", "") == baseline && ota.value("state", "") == "succeeded" ? "rolled_back" : "rolling_back";
          counts[k] = counts.value(k, 0) + 1;
          continue;
        }
        switch (device_outcome(d, target, dispatched, now, outcome_timeout(deps_.backend, spec))) {
          case DeviceOutcome::succeeded: k = "succeeded"; break;
          case DeviceOutcome::failed: k = "failed"; break;
          case DeviceOutcome::timed_out: k = "timed_out"; break;
          case DeviceOutcome::in_progress: k = "in_progress"; break;
        }
        counts[k] = counts.value(k, 0) + 1;
      }
      w["devices"] = counts;
    }
    out["waves"].push_back(std::move(w));
  }
  if (st.contains("rollback")) out["rollback"] = st["rollback"];
  return out;
}

}  // namespace aiot::rollout
