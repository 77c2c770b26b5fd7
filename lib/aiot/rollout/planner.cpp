// The planner (planner.hpp): cohort -> hash-ordered, stratified, cumulative waves with matched
// controls, an ETA and a power check per wave and gate. O(N log N) in the cohort size.
#include "aiot/rollout/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/core/time.hpp"
#include "aiot/output/output.hpp"
#include "aiot/rollout/backend.hpp"
#include "aiot/rollout/gates.hpp"
#include "aiot/rollout/stats.hpp"

namespace aiot::rollout {

namespace {

constexpr const char* k_no_version = "(none reported)";
constexpr const char* k_no_tag = "(none)";
constexpr const char* k_all = "all";

// 5.8%, 2%, 0.5%: three significant digits, no trailing zeros.
std::string pct(double fraction) { return fmt::format("{:.3g}%", fraction * 100.0); }
std::string pp(double fraction) { return fmt::format("{:.3g}pp", fraction * 100.0); }

std::string counts_text(const std::map<std::string, std::size_t>& counts) {
  std::vector<std::pair<std::string, std::size_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> parts;
  for (const auto& [k, n] : sorted) {
    parts.push_back(fmt::format("{}: {}", k, n));
  }
  return str::join(parts, ", ");
}

std::string stratum_key(const hub::Device& d, const std::vector<std::string>& tags) {
  if (tags.empty()) {
    return k_all;
  }
  std::string key;
  for (const auto& tag : tags) {
    const json* v = output::find_path(d.tags, tag);
    std::string value = !v || v->is_null() ? k_no_tag : v->is_string() ? v->get<std::string>() : v->dump();
    key += (key.empty() ? "" : ",") + tag + "=" + value;
  }
  return key;
}

struct Member {
  std::string hash;
  const hub::Device* device;
  std::size_t stratum = 0;
  std::string stratum_key;
};

// Cumulative allocation of `target` devices over strata of `sizes` (Σ sizes = n): largest
// remainder of target·size/n, but never below `at_least` (what earlier waves already took),
// which avoids the Alabama paradox of plain largest remainder. Integer arithmetic throughout.
std::vector<std::size_t> allocate(std::size_t target, const std::vector<std::size_t>& sizes,
                                  const std::vector<std::size_t>& at_least, std::size_t n) {
  std::vector<std::size_t> alloc(sizes.size());
  std::vector<std::uint64_t> remainder(sizes.size());
  std::size_t sum = 0;
  for (std::size_t s = 0; s < sizes.size(); ++s) {
    std::uint64_t q = static_cast<std::uint64_t>(target) * sizes[s];
    alloc[s] = std::max<std::size_t>(q / n, at_least[s]);
    remainder[s] = alloc[s] == q / n ? q % n : 0;  // a stratum kept above its quota gets no more
    sum += alloc[s];
  }
  if (sum >= target) {
    return alloc;
  }
  std::vector<std::size_t> order(sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return remainder[a] > remainder[b]; });
  for (std::size_t s : order) {
    if (sum == target) {
      break;
    }
    if (remainder[s] > 0 && alloc[s] < sizes[s]) {
      ++alloc[s];
      ++sum;
    }
  }
  // Only reachable after a stratum was held above its quota: fill wherever there is room.
  for (std::size_t s = 0; sum < target && s < sizes.size(); ++s) {
    std::size_t room = std::min(sizes[s] - alloc[s], target - sum);
    alloc[s] += room;
    sum += room;
  }
  return alloc;
}

std::size_t wave_target(const WaveSpec& w, std::size_t n) {
  if (w.size_kind == WaveSpec::Size::count) {
    return std::min(static_cast<std::size_t>(w.size), n);
  }
  // The small slack keeps 5% of 1000 at 50 despite binary floating point.
  return std::min(n, static_cast<std::size_t>(std::ceil(w.size * static_cast<double>(n) / 100.0 - 1e-9)));
}

std::string size_text(const WaveSpec& w) {
  return w.size_kind == WaveSpec::Size::count ? fmt::format("{} devices", static_cast<std::int64_t>(w.size))
                                              : fmt::format("{}%", w.size);
}

// What the cohort reports now, for the power check of the baseline gates. Each gate's numbers
// are computed once, not once per wave.

struct CohortStats {
  const std::vector<Member>& members;
  std::map<std::string, std::pair<std::size_t, std::size_t>> event_counts;  // event -> (events, reporting)
  std::map<std::string, std::vector<double>> metric_values;                 // twin path -> values

  // (devices with the event, devices reporting the metric) for a normalised event
  // "properties.reported.PATH OP NUMBER", judged as the controller judges it per device.
  std::pair<std::size_t, std::size_t> count_events(const std::string& event) {
    if (auto it = event_counts.find(event); it != event_counts.end()) {
      return it->second;
    }
    auto space = event.find(' ');
    std::string_view path = std::string_view(event).substr(0, space);
    path.remove_prefix(std::string_view("properties.reported.").size());
    auto condition = parse_condition(event.substr(space + 1));
    std::size_t x = 0, n = 0;
    for (const auto& m : members) {
      const json* v = output::find_path(m.device->reported, path);
      if (v && v->is_number()) {
        ++n;
        x += condition.holds(v->get<double>()) ? 1 : 0;
      }
    }
    return event_counts[event] = {x, n};
  }

  const std::vector<double>& values(const std::string& twin_path) {
    if (auto it = metric_values.find(twin_path); it != metric_values.end()) {
      return it->second;
    }
    std::string_view rel = twin_path;
    rel.remove_prefix(std::string_view("properties.reported.").size());
    std::vector<double> out;
    for (const auto& m : members) {
      const json* v = output::find_path(m.device->reported, rel);
      if (v && v->is_number()) {
        double d = v->get<double>();
        if (std::isfinite(d)) {
          out.push_back(d);
        }
      }
    }
    return metric_values[twin_path] = std::move(out);
  }
};

double sample_sd(const std::vector<double>& v) {
  double m = mean(v);
  double ss = 0;
  for (double x : v) {
    ss += (x - m) * (x - m);
  }
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

struct GatePower {
  json record;
  bool underpowered = false;
  std::string why;  // the warning text when underpowered
};

GatePower outcome_power(const GateSpec& g, const WavePlan& w, double alpha) {
  GatePower out;
  auto n = static_cast<std::int64_t>(w.devices.size());
  double failure_above = g.params.value("failureAbove", 0.02);
  auto min_samples = g.params.value("minSamples", std::int64_t{0});
  double detectable = min_detectable_failure_rate(n, alpha);
  out.record = {{"n", n}, {"alpha", alpha}, {"detectableRate", detectable}, {"failureAbove", failure_above},
                {"minSamples", min_samples}};
  std::vector<std::string> why;
  if (failure_above <= 0) {
    why.push_back("failureAbove 0% can never be shown to hold, whatever the number of devices");
  } else if (failure_above < 1) {
    auto needed = zero_failure_sample_size(failure_above, alpha);
    out.record["devicesNeeded"] = needed;
    if (detectable > failure_above) {
      why.push_back(fmt::format("detects failure rates ≥ {} but failureAbove is {} (needs {} devices)", pct(detectable),
                                pct(failure_above), needed));
    }
  }
  if (n < min_samples) {
    why.push_back(fmt::format("has {} devices but minSamples is {}", n, min_samples));
  }
  out.underpowered = !why.empty();
  out.why = str::join(why, "; ");
  return out;
}

GatePower proportion_power(const GateSpec& g, const WavePlan& w, double alpha, double power, CohortStats& cohort,
                           std::vector<std::string>& notes) {
  GatePower out;
  auto nc = static_cast<std::int64_t>(w.devices.size());
  auto nb = static_cast<std::int64_t>(w.control.size());
  double max_increase = g.params.value("maxIncrease", 0.0);
  auto ms_c = g.params["minSamples"].value("canary", std::int64_t{100});
  auto ms_b = g.params["minSamples"].value("baseline", std::int64_t{100});
  std::string event = g.params.value("event", std::string());
  auto [events, reporting] = cohort.count_events(event);
  out.record = {{"canary", nc},
                {"control", nb},
                {"alpha", alpha / 2},
                {"power", power},
                {"maxIncrease", max_increase},
                {"baselineEvents", events},
                {"baselineReporting", reporting},
                {"minSamples", {{"canary", ms_c}, {"baseline", ms_b}}}};
  if (nb == 0) {
    out.record["applicable"] = false;
    out.record["note"] = "no control devices in this wave: the gate has nothing to compare with";
    return out;
  }
  std::vector<std::string> why;
  if (nc < ms_c || nb < ms_b) {
    why.push_back(fmt::format("minSamples is {} canary / {} control, the wave has {} / {}", ms_c, ms_b, nc, nb));
  }
  if (reporting == 0) {
    out.record["known"] = false;
    out.record["note"] = fmt::format("power unknown: no device of the cohort reports the metric of {}", event);
    notes.push_back(fmt::format("gate {}: power unknown in wave {}: no device of the cohort reports the metric of \"{}\"",
                                g.name, w.name, event));
    out.underpowered = !why.empty();
    out.why = str::join(why, "; ");
    return out;
  }
  auto n_sample = static_cast<double>(reporting);
  double rate = static_cast<double>(events) / n_sample;
  out.record["baselineRate"] = rate;
  // Half an event keeps a rate of 0 (or 1) usable by the normal approximation.
  double p1 = std::clamp(rate, 0.5 / n_sample, 1 - 0.5 / n_sample);
  double p2 = std::min(p1 + max_increase, 1 - 0.5 / n_sample);
  if (p2 <= p1) {
    why.push_back(fmt::format("maxIncrease {} leaves no room to show that the rate did not rise", pp(max_increase)));
  } else {
    // The gate's interval is two-sided at 1 − α', so each side gets α'/2.
    auto needed = two_proportion_sample_size(p1, p2, alpha / 2, power);
    out.record["devicesPerArmNeeded"] = needed;
    if (std::min(nc, nb) < needed) {
      why.insert(why.begin(), fmt::format("has {} canary and {} control devices, but telling a {} rise from {} needs {} per arm",
                                          nc, nb, pp(max_increase), pct(rate), needed));
    }
  }
  out.underpowered = !why.empty();
  out.why = str::join(why, "; ");
  return out;
}

GatePower distribution_power(const GateSpec& g, const WavePlan& w, double alpha, double power, CohortStats& cohort,
                             std::vector<std::string>& notes) {
  GatePower out;
  auto nc = static_cast<std::int64_t>(w.devices.size());
  auto nb = static_cast<std::int64_t>(w.control.size());
  double tolerance = g.params.value("tolerance", 0.10);
  auto min_samples = g.params.value("minSamples", std::int64_t{30});
  std::string metric = g.params.value("metric", std::string());
  out.record = {{"canary", nc}, {"control", nb}, {"alpha", alpha / 2}, {"power", power}, {"tolerance", tolerance},
                {"minSamples", min_samples}};
  if (nb == 0) {
    out.record["applicable"] = false;
    out.record["note"] = "no control devices in this wave: the gate has nothing to compare with";
    return out;
  }
  std::vector<std::string> why;
  const auto& values = cohort.values(metric);
  double sd = values.size() >= 2 ? sample_sd(values) : 0.0;
  double med = values.empty() ? 0.0 : median(values);
  out.record["sampleValues"] = values.size();
  if (sd > 0 && med != 0 && tolerance > 0) {
    double shift_sd = tolerance * std::abs(med) / sd;
    auto needed = mann_whitney_sample_size(shift_sd, alpha / 2, power);
    out.record["median"] = med;
    out.record["sd"] = sd;
    out.record["shiftSd"] = shift_sd;
    out.record["devicesPerArmNeeded"] = needed;
    if (std::min(nc, nb) < needed) {
      why.push_back(fmt::format("has {} canary and {} control devices, but a {} shift ({:.2f} SD) needs {} per arm", nc,
                                nb, pct(tolerance), shift_sd, needed));
    }
  } else {
    out.record["known"] = false;
    out.record["note"] = fmt::format("power unknown: the cohort reports no spread of {} ({} values)", metric, values.size());
    notes.push_back(fmt::format("gate {}: power unknown in wave {}: the cohort reports no spread of {} to size the "
                                "{} tolerance against",
                                g.name, w.name, metric, pct(tolerance)));
  }
  if (std::min(nc, nb) < min_samples) {
    why.push_back(fmt::format("minSamples is {} per arm, the wave has {} canary / {} control", min_samples, nc, nb));
  }
  out.underpowered = !why.empty();
  out.why = str::join(why, "; ");
  return out;
}

GatePower threshold_power(const GateSpec& g, const WavePlan& w) {
  GatePower out;
  auto n = static_cast<std::int64_t>(w.devices.size());
  auto min_samples = g.params.value("minSamples", std::int64_t{1});
  out.record = {{"n", n}, {"minSamples", min_samples}};
  if (n < min_samples) {
    out.underpowered = true;
    out.why = fmt::format("has {} devices but minSamples is {}", n, min_samples);
  }
  return out;
}

json wave_json(const WavePlan& w) {
  return {{"name", w.name},
          {"cumulative", w.cumulative},
          {"size", w.devices.size()},
          {"controlSize", w.control.size()},
          {"devices", w.devices},
          {"control", w.control},
          {"strata", w.strata},
          {"controlStrata", w.control_strata},
          {"looks", w.looks},
          {"power", w.power}};
}

json plan_body(const Plan& p) {
  json waves = json::array();
  for (const auto& w : p.waves) {
    waves.push_back(wave_json(w));
  }
  return {{"apiVersion", "aiot.dev/v1"},
          {"kind", "RolloutPlan"},
          {"rollout", p.rollout},
          {"specDigest", p.spec_digest},
          {"artifactVersion", p.artifact_version},
          {"baselineVersion", p.baseline_version},
          {"baselineModel", p.baseline_model},
          {"cohort",
           {{"size", p.cohort_size},
            {"excluded", p.excluded},
            {"offBaseline", p.off_baseline},
            {"disabled", p.disabled},
            {"strata", p.strata}}},
          {"waves", waves},
          {"eta",
           {{"min", format_duration(p.eta_min)},
            {"max", p.eta_max_unbounded ? json(nullptr) : json(format_duration(p.eta_max))}}},
          {"warnings", p.warnings},
          {"underpowered", p.underpowered}};
}

std::string digest_of(const Plan& p) { return crypto::sha256_hex(plan_body(p).dump()); }

// The desired model most of the baseline devices were given: what a rollback writes back.
json common_baseline_model(const std::vector<Member>& members, const std::string& baseline) {
  std::map<std::string, std::pair<std::size_t, json>> seen;
  for (const auto& m : members) {
    const json* model = output::find_path(m.device->desired, "aiot.model");
    if (model && model->is_object() && model->value("version", json()) == baseline) {
      auto& entry = seen[model->dump()];
      entry.first++;
      entry.second = *model;
    }
  }
  json best = nullptr;
  std::size_t best_count = 0;
  for (const auto& [text, entry] : seen) {
    if (entry.first > best_count) {
      best = entry.second;
      best_count = entry.first;
    }
  }
  return best;
}

}  // namespace

std::string cohort_condition(const RolloutSpec& spec) {
  std::string cond = k_not_controller;
  if (!spec.target_query.empty()) {
    cond = "(" + spec.target_query + ") AND " + cond;
  }
  if (!spec.exclude_query.empty()) {
    cond += " AND NOT (" + spec.exclude_query + ")";
  }
  return cond;
}

std::string excluded_condition(const RolloutSpec& spec) {
  if (spec.exclude_query.empty()) {
    return {};
  }
  std::string cond = "(" + spec.exclude_query + ") AND " + k_not_controller;
  if (!spec.target_query.empty()) {
    cond = "(" + spec.target_query + ") AND " + cond;
  }
  return cond;
}

std::string membership_hash(const std::string& rollout, const std::string& device_id) {
  return crypto::sha256_hex(rollout + "/" + device_id);
}

std::string reported_version(const hub::Device& device) {
  const json* v = output::find_path(device.reported, "aiot.ota.version");
  if (!v || v->is_null()) {
    return {};
  }
  return v->is_string() ? v->get<std::string>() : v->dump();
}

Plan make_plan(const RolloutSpec& spec, const std::vector<hub::Device>& cohort, const PlanOptions& options) {
  if (!spec.artifact.resolved()) {
    throw Error::usage(fmt::format("{}: spec.artifact: {{{}: {}, version: {}}} has not been resolved from the artifact "
                                   "registry",
                                   spec.source, spec.artifact.kind, spec.artifact.registry_model, spec.artifact.version),
                       "aiot rollout plan and apply resolve it (artifact::resolve_artifact).");
  }
  Plan plan;
  plan.rollout = spec.name;
  plan.spec_digest = spec.digest;
  plan.artifact_version = spec.artifact.version;
  plan.excluded = options.excluded;

  // Who takes part: enabled devices on the baseline version.
  std::vector<std::pair<const hub::Device*, std::string>> enabled;  // with its reported version
  enabled.reserve(cohort.size());
  std::map<std::string, std::size_t> versions;
  for (const auto& d : cohort) {
    if (!d.enabled) {
      ++plan.disabled;
      continue;
    }
    auto v = reported_version(d);
    ++versions[v.empty() ? k_no_version : v];
    enabled.emplace_back(&d, std::move(v));
  }
  if (plan.disabled > 0) {
    plan.warnings.push_back(fmt::format("{} disabled device{} left out: they could never report", plan.disabled,
                                        plan.disabled == 1 ? "" : "s"));
  }
  if (enabled.empty()) {
    throw Error::usage(fmt::format("{}: the cohort is empty: no enabled device matches {}", spec.source,
                                   cohort_condition(spec)),
                       "Check spec.targets.query and spec.exclude with `aiot device list --where ...`.");
  }
  if (spec.baseline.version == "auto") {
    if (versions.size() > 1) {
      throw Error::usage(fmt::format("{}: spec.baseline.version: auto needs the cohort to run one version, it runs "
                                     "several ({})",
                                     spec.source, counts_text(versions)),
                         "Name the baseline (baseline.version: V) to leave devices on other versions out, or narrow "
                         "targets/exclude.");
    }
    plan.baseline_version = versions.begin()->first;
    if (plan.baseline_version == k_no_version) {
      throw Error::usage(fmt::format("{}: spec.baseline.version: auto, but no device of the cohort reports "
                                     "properties.reported.aiot.ota.version",
                                     spec.source),
                         "Name the baseline version (baseline.version: V) once the devices report one.");
    }
    if (plan.baseline_version == spec.artifact.version) {
      throw Error::usage(fmt::format("{}: the whole cohort ({} devices) already runs {}", spec.source, enabled.size(),
                                     spec.artifact.version));
    }
  } else {
    plan.baseline_version = spec.baseline.version;
  }
  std::vector<Member> members;
  members.reserve(enabled.size());
  std::map<std::string, std::size_t> others;
  for (const auto& [d, v] : enabled) {
    if (v != plan.baseline_version) {
      ++others[v.empty() ? k_no_version : v];
      ++plan.off_baseline;
      continue;
    }
    members.push_back({membership_hash(spec.name, d->id), d, 0, stratum_key(*d, spec.baseline.stratify_by)});
  }
  if (plan.off_baseline > 0) {
    plan.warnings.push_back(fmt::format("{} device{} left out: {} not on the baseline {} ({})", plan.off_baseline,
                                        plan.off_baseline == 1 ? "" : "s", plan.off_baseline == 1 ? "it is" : "they are",
                                        plan.baseline_version, counts_text(others)));
  }
  if (members.empty()) {
    throw Error::usage(fmt::format("{}: no device of the cohort runs the baseline {} ({})", spec.source,
                                   plan.baseline_version, counts_text(versions)));
  }
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.device->id < b.device->id;
  });
  plan.cohort_size = members.size();
  plan.baseline_model = common_baseline_model(members, plan.baseline_version);

  // Strata, each a list of positions in hash order.
  std::map<std::string, std::size_t> stratum_index;
  for (auto& m : members) {
    stratum_index.emplace(m.stratum_key, 0);
  }
  std::vector<std::string> stratum_names;
  for (auto& [key, index] : stratum_index) {
    index = stratum_names.size();
    stratum_names.push_back(key);
  }
  std::vector<std::vector<std::size_t>> strata(stratum_names.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto& m = members[i];
    m.stratum = stratum_index[m.stratum_key];
    strata[m.stratum].push_back(i);
  }
  std::vector<std::size_t> sizes;
  for (std::size_t s = 0; s < strata.size(); ++s) {
    sizes.push_back(strata[s].size());
    plan.strata[stratum_names[s]] = strata[s].size();
  }

  // Waves.
  const std::size_t n = members.size();
  std::vector<std::size_t> taken(strata.size(), 0);
  std::size_t taken_total = 0;
  auto ids_of = [&](std::vector<std::size_t>& positions) {
    std::sort(positions.begin(), positions.end());  // member positions are hash order
    std::vector<std::string> ids;
    ids.reserve(positions.size());
    for (auto p : positions) {
      ids.push_back(members[p].device->id);
    }
    return ids;
  };
  for (std::size_t k = 0; k < spec.waves.size(); ++k) {
    const auto& ws = spec.waves[k];
    std::size_t target = wave_target(ws, n);
    if (ws.size_kind == WaveSpec::Size::count && static_cast<std::size_t>(ws.size) > n) {
      plan.warnings.push_back(fmt::format("wave {} asks for {} devices but the cohort has {}", ws.name,
                                          static_cast<std::int64_t>(ws.size), n));
    }
    auto alloc = allocate(target, sizes, taken, n);
    std::size_t total = std::accumulate(alloc.begin(), alloc.end(), std::size_t{0});
    if (total <= taken_total) {
      throw Error::usage(fmt::format("{}:{}: spec.waves[{}].size: wave '{}' adds no devices: {} of a {}-device cohort "
                                     "is {}, and the waves before it already reach {}",
                                     spec.source, ws.line, k, ws.name, size_text(ws), n, target, taken_total),
                         "Make the wave larger, or remove it.");
    }
    WavePlan wp;
    wp.name = ws.name;
    wp.cumulative = total;
    wp.looks = planned_looks(spec, ws);
    std::vector<std::size_t> treated, control;
    for (std::size_t s = 0; s < strata.size(); ++s) {
      std::size_t added = alloc[s] - taken[s];
      for (std::size_t i = taken[s]; i < alloc[s]; ++i) {
        treated.push_back(strata[s][i]);
      }
      if (added > 0) {
        wp.strata[stratum_names[s]] = added;
      }
      if (spec.baseline.matched_control && added > 0) {
        std::size_t end = std::min(alloc[s] + added, strata[s].size());
        for (std::size_t i = alloc[s]; i < end; ++i) {
          control.push_back(strata[s][i]);
        }
        if (end > alloc[s]) {
          wp.control_strata[stratum_names[s]] = end - alloc[s];
        }
        bool last_full = k + 1 == spec.waves.size() && alloc[s] == strata[s].size();
        if (end - alloc[s] < added && !last_full) {
          plan.warnings.push_back(fmt::format("wave {}: control in stratum {} is short: {} of {} devices", ws.name,
                                              stratum_names[s], end - alloc[s], added));
        }
      }
    }
    wp.devices = ids_of(treated);
    wp.control = ids_of(control);
    taken = alloc;
    taken_total = total;
    plan.waves.push_back(std::move(wp));
  }
  if (taken_total < n) {
    plan.warnings.push_back(fmt::format("the last wave '{}' reaches {} of {} devices: the other {} stay on the baseline "
                                        "{} when the rollout succeeds",
                                        spec.waves.back().name, taken_total, n, n - taken_total, plan.baseline_version));
  }

  // ETA.
  for (std::size_t k = 0; k < spec.waves.size(); ++k) {
    const auto& ws = spec.waves[k];
    milliseconds dispatch{0};
    if (spec.rate.per_minute > 0) {
      dispatch = milliseconds(static_cast<std::int64_t>(
          std::ceil(static_cast<double>(plan.waves[k].devices.size()) / spec.rate.per_minute * 60'000.0)));
    }
    plan.eta_min += ws.bake_min + dispatch;
    plan.eta_max += ws.bake_max + dispatch;
    if (ws.bake_max.count() == 0) {
      plan.eta_max_unbounded = true;
    }
  }
  if (plan.eta_max_unbounded) {
    plan.eta_max = milliseconds(0);
  }

  // Power.
  if (spec.gates.empty()) {
    plan.warnings.push_back("no gates: every wave is promoted once its bake.min has passed");
  }
  CohortStats stats{members, {}, {}};
  std::vector<std::string> notes;
  for (auto& wp : plan.waves) {
    for (const auto& g : spec.gates) {
      double alpha = bonferroni_alpha(1.0 - g.params.value("confidence", 0.95), wp.looks);
      GatePower gp;
      switch (g.type) {
        case GateType::outcome: gp = outcome_power(g, wp, alpha); break;
        case GateType::threshold: gp = threshold_power(g, wp); break;
        case GateType::proportion_vs_baseline:
          gp = proportion_power(g, wp, alpha, options.power, stats, notes);
          break;
        case GateType::distribution_vs_baseline:
          gp = distribution_power(g, wp, alpha, options.power, stats, notes);
          break;
      }
      gp.record["type"] = std::string(to_string(g.type));
      gp.record["looks"] = wp.looks;
      gp.record["critical"] = g.critical;
      gp.record["dryRun"] = g.dry_run;
      gp.record["underpowered"] = gp.underpowered;
      if (gp.underpowered) {
        auto text = fmt::format("gate {} is underpowered in wave {}: it {}", g.name, wp.name, gp.why);
        gp.record["warning"] = text;
        plan.warnings.push_back(text);
        if (g.critical && !g.dry_run) {
          plan.underpowered.push_back(text);
        }
      }
      wp.power[g.name] = std::move(gp.record);
    }
  }
  for (auto& note : notes) {
    plan.warnings.push_back(std::move(note));
  }
  plan.digest = digest_of(plan);
  return plan;
}

json Plan::to_json() const {
  json j = plan_body(*this);
  j["digest"] = digest;
  return j;
}

Plan plan_from_json(const json& j) {
  try {
    if (j.value("kind", "") != "RolloutPlan") {
      throw Error::usage("not a rollout plan (kind is not RolloutPlan)");
    }
    Plan p;
    p.rollout = j.at("rollout").get<std::string>();
    p.spec_digest = j.at("specDigest").get<std::string>();
    p.artifact_version = j.at("artifactVersion").get<std::string>();
    p.baseline_version = j.at("baselineVersion").get<std::string>();
    p.baseline_model = j.value("baselineModel", json());
    const json& c = j.at("cohort");
    p.cohort_size = c.at("size").get<std::size_t>();
    p.excluded = c.at("excluded").get<std::size_t>();
    p.off_baseline = c.at("offBaseline").get<std::size_t>();
    p.disabled = c.at("disabled").get<std::size_t>();
    p.strata = c.at("strata");
    for (const auto& w : j.at("waves")) {
      WavePlan wp;
      wp.name = w.at("name").get<std::string>();
      wp.cumulative = w.at("cumulative").get<std::size_t>();
      wp.devices = w.at("devices").get<std::vector<std::string>>();
      wp.control = w.at("control").get<std::vector<std::string>>();
      wp.strata = w.at("strata");
      wp.control_strata = w.at("controlStrata");
      wp.looks = w.at("looks").get<std::int64_t>();
      wp.power = w.at("power");
      p.waves.push_back(std::move(wp));
    }
    const json& eta = j.at("eta");
    auto min = parse_duration(eta.at("min").get<std::string>());
    if (!min) {
      throw Error::usage("eta.min is not a duration");
    }
    p.eta_min = *min;
    if (eta.at("max").is_null()) {
      p.eta_max_unbounded = true;
    } else {
      auto max = parse_duration(eta.at("max").get<std::string>());
      if (!max) {
        throw Error::usage("eta.max is not a duration");
      }
      p.eta_max = *max;
    }
    p.warnings = j.at("warnings").get<std::vector<std::string>>();
    p.underpowered = j.at("underpowered").get<std::vector<std::string>>();
    p.digest = j.at("digest").get<std::string>();
    if (digest_of(p) != p.digest) {
      throw Error::usage("the plan's digest does not match its content: it was edited after `aiot rollout plan`",
                         "Make a new plan with `aiot rollout plan -f SPEC --out plan.json`.");
    }
    return p;
  } catch (const json::exception& e) {
    throw Error::usage(fmt::format("not a valid rollout plan: {}", e.what()));
  }
}

}  // namespace aiot::rollout
