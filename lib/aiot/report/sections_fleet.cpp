// Sections from the registry and the rollout journal: 3. update compliance, 10. security posture.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "aiot/core/crypto.hpp"
#include "aiot/report/sections.hpp"

namespace aiot::report::detail {

namespace {

std::optional<TimePoint> event_time(const json& e) { return parse_rfc3339(e.value("ts", "")); }

double hours_between(TimePoint a, TimePoint b) {
  return std::chrono::duration<double, std::ratio<3600>>(b - a).count();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::string ota_state(const hub::Device& d) {
  if (d.reported.contains("aiot") && d.reported["aiot"].contains("ota") && d.reported["aiot"]["ota"].is_object())
    return d.reported["aiot"]["ota"].value("state", "");
  return "";
}

std::optional<TimePoint> ota_time(const hub::Device& d) {
  if (d.reported.contains("aiot") && d.reported["aiot"].contains("ota") && d.reported["aiot"]["ota"].is_object())
    return parse_rfc3339(d.reported["aiot"]["ota"].value("ts", ""));
  return std::nullopt;
}

// A rollout as the journal tells it.
struct RolloutFacts {
  std::string name, target, baseline, phase = "RUNNING", last_reason;
  std::optional<TimePoint> planned, first_dispatch, last_wave_dispatch, finished;
  std::vector<std::string> waves;
  int promoted_in_period = 0;
  bool started_in_period = false, rolled_back_in_period = false, succeeded_in_period = false;
  std::int64_t failed_installs = 0;  // from the last gate evaluation per wave in the period
};

RolloutFacts facts_of(const JournalInput& j, const Period& p) {
  RolloutFacts f;
  f.name = j.rollout;
  std::map<std::string, std::int64_t> failed_by_wave;
  for (const auto& e : j.events) {
    std::string op = e.value("op", "");
    auto t = event_time(e);
    bool in = t && p.contains(*t);
    if (op == "PLANNED") {
      f.target = e.value("target", "");
      f.baseline = e.value("baseline", "");
      f.planned = t;
      f.started_in_period = in;
      if (e.contains("waves"))
        for (const auto& w : e["waves"]) f.waves.push_back(w.value("name", ""));
    } else if (op == "WAVE_DISPATCHED") {
      if (!f.first_dispatch) f.first_dispatch = t;
      if (!f.waves.empty() && e.value("wave", "") == f.waves.back()) f.last_wave_dispatch = t;
    } else if (op == "PROMOTED" || op == "MANUAL_PROMOTE") {
      if (in) ++f.promoted_in_period;
    } else if (op == "GATES_EVALUATED" && in && e.contains("gates")) {
      for (const auto& [name, g] : e["gates"].items()) {
        if (g.value("gate", "") == "outcome" && g.contains("inputs"))
          failed_by_wave[e.value("wave", "")] = g["inputs"].value("failed", 0) + g["inputs"].value("timed_out", 0);
      }
    } else if (op == "ROLLBACK_STARTED") {
      f.phase = "ROLLING_BACK";
      f.last_reason = e.value("reason", "");
      if (in) f.rolled_back_in_period = true;
    } else if (op == "ROLLBACK_DONE") {
      f.phase = "ROLLED_BACK";
      f.finished = t;
      if (in) f.rolled_back_in_period = true;
    } else if (op == "SUCCEEDED") {
      f.phase = "SUCCEEDED";
      f.finished = t;
      f.succeeded_in_period = in;
    } else if (op == "ABORTED" || op == "DENIED") {
      f.phase = op;
      f.finished = t;
      f.last_reason = e.value("remark", e.value("reason", ""));
    } else if (op == "PAUSED") {
      f.phase = "PAUSED";
    } else if (op == "RESUMED") {
      f.phase = "RUNNING";
    }
  }
  for (const auto& [wave, n] : failed_by_wave) f.failed_installs += n;
  return f;
}

}  // namespace

json section_compliance(const Inputs& in) {
  json s = make_section("compliance", "Update compliance");
  if (!in.devices && in.journals.empty()) {
    missing_inputs(s, "no registry and no rollout journal were available.");
    return s;
  }
  json data = json::object();
  // ---- per model: share on the approved version ------------------------------------------------
  std::map<std::string, std::vector<const hub::Device*>> by_model;
  if (in.devices) {
    for (const auto& d : *in.devices) {
      std::string m = model_name(d);
      if (!m.empty()) by_model[m].push_back(&d);
    }
  }
  std::vector<RolloutFacts> rollouts;
  for (const auto& j : in.journals) rollouts.push_back(facts_of(j, in.period));
  std::set<std::string> active_targets;
  for (const auto& r : rollouts) {
    if (r.phase == "RUNNING" || r.phase == "PAUSED") active_targets.insert(r.target);
  }
  json models = json::array();
  json model_rows = json::array(), version_rows = json::array(), straggler_rows = json::array();
  json adoption_chart = {{"type", "line"}, {"title", "Share of devices on the approved version"}, {"y_label", "share"},
                         {"y_max", 1}, {"x", json::array()}, {"series", json::array()}};
  for (int day = 0; in.period.from + std::chrono::days(day) <= in.period.to; ++day)
    adoption_chart["x"].push_back(format_date(in.period.from + std::chrono::days(day)).substr(5));
  std::int64_t failed_now = 0, leaks = 0;
  for (const auto& [model, devices] : by_model) {
    std::string approved = approved_version(in, model);
    std::map<std::string, std::int64_t> versions;
    std::int64_t on_approved = 0;
    std::vector<double> adopt_hours;
    std::vector<const hub::Device*> stragglers;
    // When the approved version was rolled out: the first dispatch of its last rollout.
    std::optional<TimePoint> rollout_start;
    for (const auto& r : rollouts) {
      if (r.target == approved && r.first_dispatch) rollout_start = r.first_dispatch;
    }
    for (const auto* d : devices) {
      std::string v = model_version(*d);
      ++versions[v];
      if (ota_state(*d) == "failed") ++failed_now;
      if (!approved.empty() && v == approved) {
        ++on_approved;
        auto t = ota_time(*d);
        if (t && rollout_start && *t >= *rollout_start && in.period.contains(*t)) adopt_hours.push_back(hours_between(*rollout_start, *t));
      } else {
        stragglers.push_back(d);
        if (!approved.empty() && !active_targets.count(v)) ++leaks;
      }
    }
    double share = devices.empty() ? 0 : static_cast<double>(on_approved) / static_cast<double>(devices.size());
    std::string status = approved.empty() ? "n/a"
                         : share < in.policy.adoption_error ? "fail"
                         : share < in.policy.adoption_warn  ? "warn"
                                                            : "pass";
    raise(s, status);
    if (approved.empty()) {
      add_finding(s, "warn", fmt::format("model {}: no approved version in the policy and no rollout that succeeded", model));
    } else if (status != "pass") {
      add_finding(s, status == "fail" ? "error" : "warn",
                  fmt::format("model {}: {} of devices on approved version {} (warn below {}, error below {})", model, pct(share),
                              approved, pct(in.policy.adoption_warn, 0), pct(in.policy.adoption_error, 0)));
    }
    double p50 = quantile(adopt_hours, 0.5), p95 = quantile(adopt_hours, 0.95);
    model_rows.push_back({model, approved.empty() ? "—" : approved, count(static_cast<std::int64_t>(devices.size())),
                          count(on_approved), pct(share), adopt_hours.empty() ? "—" : fixed(p50, 1) + " h",
                          adopt_hours.empty() ? "—" : fixed(p95, 1) + " h", count(static_cast<std::int64_t>(stragglers.size())), status});
    for (const auto& [v, n] : versions) {
      version_rows.push_back({model, v.empty() ? "(unknown)" : v, count(n), pct(static_cast<double>(n) / static_cast<double>(devices.size())),
                              v == approved ? "approved" : active_targets.count(v) ? "in rollout" : "not approved"});
    }
    std::sort(stragglers.begin(), stragglers.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
    for (std::size_t i = 0; i < stragglers.size() && i < 20; ++i) {
      const auto* d = stragglers[i];
      auto seen = last_seen(*d);
      straggler_rows.push_back({d->id, model, model_version(*d), ota_state(*d), tag(*d, "site"), tag(*d, "hw"),
                                seen ? format_rfc3339(*seen) : "never"});
    }
    // Adoption over the period, day by day, from each device's install report time.
    json series = {{"name", fmt::format("{} {}", model, approved)}, {"values", json::array()}};
    for (int day = 0; in.period.from + std::chrono::days(day) <= in.period.to; ++day) {
      TimePoint at = in.period.from + std::chrono::days(day);
      std::int64_t adopted = 0;
      for (const auto* d : devices) {
        auto t = ota_time(*d);
        if (model_version(*d) == approved && (!t || *t <= at)) ++adopted;
      }
      series["values"].push_back(num(devices.empty() ? 0.0 : static_cast<double>(adopted) / static_cast<double>(devices.size()), 4));
    }
    if (!approved.empty()) adoption_chart["series"].push_back(series);
    models.push_back({{"model", model},
                      {"approved", approved},
                      {"devices", devices.size()},
                      {"onApproved", on_approved},
                      {"share", num(share, 4)},
                      {"status", status},
                      {"versions", versions},
                      {"stragglers", stragglers.size()},
                      {"timeToAdoptHours", {{"n", adopt_hours.size()}, {"p50", num(p50, 4)}, {"p95", num(p95, 4)}}}});
  }
  if (in.devices) {
    add_table(s, "Approved version per model", {"Model", "Approved", "Devices", "On approved", "Share", "Time to adopt p50", "p95", "Stragglers", "Status"},
              model_rows);
    add_table(s, "Versions running", {"Model", "Version", "Devices", "Share", "State"}, version_rows);
    if (!straggler_rows.empty())
      add_table(s, "Stragglers (first 20 by id)", {"Device", "Model", "Running", "OTA state", "Site", "HW", "Last seen"}, straggler_rows);
    if (!adoption_chart["series"].empty()) s["charts"].push_back(adoption_chart);
  } else {
    add_note(s, "No registry was read: version shares and stragglers are not shown.");
  }
  // Canary leaks: also from the audits (ATT002: payload version differs from the ledger's).
  std::int64_t att002 = 0;
  for (const auto& a : in.audits) {
    if (a.audit.contains("checks") && a.audit["checks"].is_array()) {
      for (const auto& c : a.audit["checks"]) {
        if (c.value("code", "") == "ATT002") att002 += c.value("count", std::int64_t{0});
      }
    }
  }
  if (leaks > 0) add_finding(s, "warn", fmt::format("{} devices run a version that is neither approved nor in an active rollout (canary leak)", leaks));
  if (att002 > 0) add_finding(s, "warn", fmt::format("{} records carry a model version other than the one the rollout ledger assigns (ATT002)", att002));
  if (failed_now > 0) add_finding(s, "warn", fmt::format("{} devices report a failed install", failed_now));

  // ---- rollouts in the period ---------------------------------------------------------------
  int started = 0, promoted = 0, rolled_back = 0, succeeded = 0;
  std::int64_t failed_installs = 0;
  json rollout_rows = json::array(), rollouts_j = json::array();
  for (const auto& r : rollouts) {
    bool touched = r.started_in_period || r.promoted_in_period > 0 || r.rolled_back_in_period || r.succeeded_in_period;
    started += r.started_in_period;
    promoted += r.promoted_in_period;
    rolled_back += r.rolled_back_in_period;
    succeeded += r.succeeded_in_period;
    failed_installs += r.failed_installs;
    if (r.rolled_back_in_period)
      add_finding(s, "warn", fmt::format("rollout {} ({} → {}) was rolled back: {}", r.name, r.baseline, r.target,
                                         r.last_reason.empty() ? "no reason recorded" : r.last_reason));
    rollout_rows.push_back({r.name, r.baseline, r.target, r.planned ? format_rfc3339(*r.planned) : "—", r.phase,
                            std::to_string(r.promoted_in_period), count(r.failed_installs), touched ? "yes" : "no",
                            r.last_reason.empty() ? "—" : r.last_reason});
    rollouts_j.push_back({{"rollout", r.name}, {"baseline", r.baseline}, {"target", r.target}, {"phase", r.phase},
                          {"planned", r.planned ? format_rfc3339(*r.planned) : ""}, {"promotedInPeriod", r.promoted_in_period},
                          {"rolledBackInPeriod", r.rolled_back_in_period}, {"failedInstalls", r.failed_installs},
                          {"firstDispatch", r.first_dispatch ? format_rfc3339(*r.first_dispatch) : ""},
                          {"lastWaveDispatch", r.last_wave_dispatch ? format_rfc3339(*r.last_wave_dispatch) : ""},
                          {"reason", r.last_reason}});
  }
  if (!rollouts.empty()) {
    add_table(s, "Rollouts", {"Rollout", "From", "To", "Planned", "Phase", "Promotions in period", "Failed installs", "Active in period", "Reason"},
              rollout_rows);
  }
  // ---- journal chains ------------------------------------------------------------------------
  json journal_rows = json::array(), journals_j = json::array();
  bool all_ok = true;
  for (const auto& j : in.journals) {
    bool hub_match = j.hub_head && j.verify.ok;
    all_ok = all_ok && j.verify.ok;
    journal_rows.push_back({j.rollout, std::to_string(j.verify.events), j.verify.head.hash.substr(0, 16),
                            j.hub_head ? (hub_match ? "matches" : "differs") : "not checked", j.verify.ok ? "verified" : "BROKEN: " + j.verify.problem});
    journals_j.push_back({{"rollout", j.rollout}, {"events", j.verify.events}, {"head", j.verify.head.to_json()},
                          {"hubHead", j.hub_head ? j.hub_head->to_json() : json(nullptr)}, {"ok", j.verify.ok},
                          {"problem", j.verify.problem}, {"line", j.verify.bad_line}});
    if (!j.verify.ok) add_finding(s, "error", fmt::format("journal of {} does not verify (line {}): {}", j.rollout, j.verify.bad_line, j.verify.problem));
  }
  if (!in.journals.empty()) add_table(s, "Journal chains (hash-chained, verified)", {"Rollout", "Events", "Head", "Hub head", "Chain"}, journal_rows);
  else add_note(s, "No rollout journal was found: rollouts are not shown.");

  data["models"] = models;
  data["rollouts"] = rollouts_j;
  data["journals"] = journals_j;
  data["period"] = {{"started", started}, {"promoted", promoted}, {"rolledBack", rolled_back}, {"succeeded", succeeded},
                    {"failedInstalls", failed_installs}, {"devicesFailedNow", failed_now}, {"canaryLeaks", leaks}, {"att002", att002}};
  data["journalsVerified"] = all_ok;
  s["data"] = data;
  std::string share_text;
  for (const auto& m : models) {
    if (!m["approved"].get<std::string>().empty())
      share_text += fmt::format("{}{} {} on {}", share_text.empty() ? "" : "; ", pct(m["share"].get<double>()), m["model"].get<std::string>(), m["approved"].get<std::string>());
  }
  s["summary"] = fmt::format("{}. Rollouts in the period: {} started, {} promotions, {} rolled back, {} succeeded; {} failed installs; journals {}.",
                             share_text.empty() ? "No approved version to measure" : share_text, started, promoted, rolled_back, succeeded,
                             count(failed_installs), in.journals.empty() ? "absent" : all_ok ? "verified" : "NOT verified");
  json headline = json::object();
  for (const auto& m : models) headline["share on approved " + m["model"].get<std::string>()] = m["share"];
  headline["rollbacks"] = rolled_back;
  s["headline"] = headline;
  if (status_rank(s["status"]) < 1) s["status"] = "pass";
  return s;
}

// ---- 10. security posture ----------------------------------------------------------------------

json section_security(const Inputs& in) {
  json s = make_section("security", "Fleet security posture");
  if (!in.devices) {
    missing_inputs(s, "no registry was read.");
    return s;
  }
  std::vector<DeviceSecurity> devices;
  for (const auto& d : *in.devices) {
    DeviceSecurity ds;
    ds.device_id = d.id;
    ds.auth_type = std::string(hub::to_string(d.auth.type));
    for (const auto* t : {&d.auth.primary, &d.auth.secondary}) {
      std::string tp = !t->sha256.empty() ? t->sha256 : t->sha1;
      if (!tp.empty()) ds.thumbprints.push_back(tp);
    }
    // Only hashes of SAS keys reach the metrics: the keys themselves never leave the registry.
    for (const auto* k : {&d.auth.primary_key, &d.auth.secondary_key}) {
      if (!k->empty()) ds.key_fingerprints.push_back(crypto::sha256_hex(*k).substr(0, 16));
    }
    ds.enabled = d.enabled;
    ds.last_seen = last_seen(d);
    devices.push_back(ds);
  }
  SecurityOptions opt;
  opt.expiry_days = static_cast<int>(in.policy.cert_expiry_days);
  opt.require_x509 = in.policy.require_x509;
  opt.now = in.period.to;
  opt.period_start = in.period.from;
  SecurityPosture posture = security_posture(devices, opt);
  json rows = json::array();
  for (const auto& [check, n] : posture.counts) rows.push_back({check, count(n)});
  add_table(s, "Checks", {"Check", "Findings"}, rows);
  json finding_rows = json::array();
  std::size_t shown = 0;
  for (const auto& f : posture.findings) {
    if (shown++ < 50) finding_rows.push_back({f.check, f.severity, f.device_id, f.detail});
  }
  if (!finding_rows.empty()) add_table(s, "Findings (first 50)", {"Check", "Severity", "Device", "Detail"}, finding_rows);
  std::map<std::string, std::int64_t> by_check_severity;
  for (const auto& f : posture.findings) {
    std::string sev = f.severity == "high" ? "error" : f.severity == "medium" ? "warn" : "info";
    by_check_severity[f.check + "\t" + sev]++;
  }
  for (const auto& [key, n] : by_check_severity) {
    auto tab = key.find('\t');
    add_finding(s, key.substr(tab + 1), fmt::format("{}: {} devices", key.substr(0, tab), count(n)));
  }
  add_note(s, "Certificate expiry is checked where the registry knows a certificate's end date; IoT Hub and the local hub keep only "
              "thumbprints, so expiry of CA-signed device certificates is checked at issue time by `aiot ca`, not here.");
  s["data"] = {{"devices", posture.devices}, {"x509", posture.x509}, {"sas", posture.sas}, {"counts", posture.counts},
               {"requireX509", in.policy.require_x509}, {"certExpiryDays", in.policy.cert_expiry_days}};
  s["summary"] = fmt::format("{} devices: {} X.509, {} SAS; {} findings.", count(posture.devices), count(posture.x509), count(posture.sas),
                             count(static_cast<std::int64_t>(posture.findings.size())));
  s["headline"] = {{"security findings", posture.findings.size()}};
  if (status_rank(s["status"]) < 1) s["status"] = "pass";
  return s;
}

}  // namespace aiot::report::detail
