// Sections from the audits, profiles and labels: 4. data health, 5. performance and decay,
// 6. drift, 7. bias audit.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include "aiot/lineage/drift.hpp"
#include "aiot/report/sections.hpp"

namespace aiot::report::detail {

namespace {

const json& member(const json& j, std::initializer_list<const char*> keys) {
  static const json k_null;
  for (const char* k : keys) {
    if (j.is_object() && j.contains(k) && !j[k].is_null()) return j[k];
  }
  return k_null;
}

std::string dataset_name(const AuditInput& a) {
  const json& d = member(a.audit, {"dataset", "datasetName"});
  if (d.is_string()) return d.get<std::string>();
  if (d.is_object()) {
    std::string ns = d.value("namespace", ""), name = d.value("name", "");
    if (!name.empty()) return ns.empty() ? name : ns + "/" + name;
  }
  const json& inputs = member(a.audit, {"inputs"});
  if (inputs.is_array() && !inputs.empty()) {
    const json& first = inputs.front();
    std::string name = first.is_string() ? first.get<std::string>() : first.value("name", "");
    if (!name.empty()) return inputs.size() == 1 ? name : fmt::format("{} (+{} inputs)", name, inputs.size() - 1);
  }
  return std::filesystem::path(a.path).parent_path().filename().string() + "/" + std::filesystem::path(a.path).filename().string();
}

std::optional<TimePoint> audit_window_end(const json& a) {
  const json& w = member(a, {"window"});
  if (w.is_object() && w.contains("to") && w["to"].is_string()) return parse_rfc3339(w["to"].get<std::string>());
  const json& st = member(a, {"statistics"});
  if (st.is_object() && st.contains("last_hub_time") && st["last_hub_time"].is_string()) return parse_rfc3339(st["last_hub_time"].get<std::string>());
  return std::nullopt;
}

std::string sev_of(const json& c) {
  std::string sev = c.value("severity", "");
  std::string outcome = c.value("outcome", "");
  if (outcome == "fail" || sev == "error") return "error";
  if (outcome == "warn" || sev == "warn" || sev == "warning") return "warn";
  return "info";
}

}  // namespace

// ---- 4. data health -----------------------------------------------------------------------------

json section_data_health(const Inputs& in) {
  json s = make_section("data_health", "Data health");
  if (in.audits.empty()) {
    missing_inputs(s, in.profile ? "the audits folder holds a profile but no audit.json for the period."
                                 : "no lineage audit for the period (run `aiot lineage audit` and pass --audits DIR).");
    return s;
  }
  json dataset_rows = json::array(), finding_rows = json::array(), class_rows = json::array(), datasets = json::array();
  double worst_freshness = 1.0;
  bool any_freshness = false;
  for (const auto& a : in.audits) {
    const json& stats = member(a.audit, {"statistics", "stats"});
    std::int64_t records = member(stats, {"records", "records_checked"}).is_number() ? member(stats, {"records", "records_checked"}).get<std::int64_t>() : 0;
    std::int64_t devices = member(stats, {"devices"}).is_number() ? member(stats, {"devices"}).get<std::int64_t>() : 0;
    const json& checks = member(a.audit, {"checks", "results"});
    std::optional<double> freshness;
    std::int64_t errors = 0, warnings = 0;
    std::vector<const json*> found;
    if (checks.is_array()) {
      for (const auto& c : checks) {
        std::string code = c.value("code", c.value("check", ""));
        std::int64_t n = c.value("count", std::int64_t{0});
        if (code == "FR001") {
          std::int64_t den = c.value("denominator", devices);
          if (den > 0) freshness = 1.0 - static_cast<double>(n) / static_cast<double>(den);
        }
        if (n > 0) {
          found.push_back(&c);
          std::string sev = sev_of(c);
          errors += sev == "error";
          warnings += sev == "warn";
        }
      }
    }
    if (const json& qc = member(a.audit, {"freshness"}); qc.is_object() && qc.contains("attainment") && qc["attainment"].is_number())
      freshness = qc["attainment"].get<double>();
    std::sort(found.begin(), found.end(), [](const json* x, const json* y) {
      auto rx = status_rank(sev_of(*x) == "error" ? "fail" : sev_of(*x) == "warn" ? "warn" : "pass");
      auto ry = status_rank(sev_of(*y) == "error" ? "fail" : sev_of(*y) == "warn" ? "warn" : "pass");
      if (rx != ry) return rx > ry;
      return x->value("count", std::int64_t{0}) > y->value("count", std::int64_t{0});
    });
    std::string name = dataset_name(a);
    std::string status = "pass";
    if (freshness) {
      any_freshness = true;
      worst_freshness = std::min(worst_freshness, *freshness);
      if (*freshness < in.policy.freshness_error) status = "fail";
      else if (*freshness < in.policy.freshness_warn) status = "warn";
    }
    if (errors > 0) status = "fail";
    else if (warnings > 0 && status == "pass") status = "warn";
    raise(s, status);
    dataset_rows.push_back({name, count(records), count(devices), freshness ? pct(*freshness) : "—", std::to_string(errors),
                            std::to_string(warnings), status});
    for (std::size_t i = 0; i < found.size() && i < 10; ++i) {
      const json& c = *found[i];
      double rate = c.value("rate", 0.0);
      finding_rows.push_back({name, c.value("code", c.value("check", "")), sev_of(c), count(c.value("count", std::int64_t{0})),
                              c.value("unit", "records"), rate > 0 ? pct(rate, 2) : "—", c.value("title", c.value("name", ""))});
    }
    // Per device class, when the audit breaks it down.
    // From the per-device summaries: records, mean QC index and freshness (last record within
    // 1 h of the window's end, FR001's warn line) per device class.
    const json& devs = member(a.audit, {"devices"});
    auto window_to = audit_window_end(a.audit);
    if (devs.is_array() && !devs.empty()) {
      std::map<std::string, std::array<double, 4>> acc;  // devices, records, score sum, fresh
      for (const auto& d : devs) {
        if (!d.value("registered", true)) continue;
        std::string cls = d.value("class", "");
        auto& x = acc[cls.empty() ? "(none)" : cls];
        x[0] += 1;
        x[1] += d.value("records", 0.0);
        x[2] += d.value("score", 0.0);
        auto last = d.contains("last") && d["last"].is_string() ? parse_rfc3339(d["last"].get<std::string>()) : std::nullopt;
        if (last && window_to && *window_to - *last <= std::chrono::hours(1)) x[3] += 1;
      }
      for (const auto& [cls, x] : acc) {
        class_rows.push_back({name, cls, count(static_cast<std::int64_t>(x[1])), window_to ? pct(x[3] / x[0]) : "—", fixed(x[2] / x[0], 3)});
      }
    }
    const json& classes = member(a.audit, {"deviceClasses", "device_classes", "byDeviceClass"});
    if (classes.is_object()) {
      for (const auto& [cls, v] : classes.items()) {
        if (v.is_number()) {
          class_rows.push_back({name, cls, count(v.get<std::int64_t>()), "—", "—"});
        } else if (v.is_object()) {
          auto fr = v.contains("freshness") && v["freshness"].is_number() ? pct(v["freshness"].get<double>()) : "—";
          auto qc = v.contains("score") && v["score"].is_number() ? fixed(v["score"].get<double>(), 3) : "—";
          class_rows.push_back({name, cls, count(v.value("records", std::int64_t{0})), fr, qc});
        }
      }
    }
    datasets.push_back({{"dataset", name}, {"path", a.path}, {"records", records}, {"devices", devices}, {"freshness", num(freshness, 4)},
                        {"errors", errors}, {"warnings", warnings}, {"status", status}});
  }
  if (in.profile && class_rows.empty()) {
    for (const auto& [cls, n] : in.profile->device_classes)
      class_rows.push_back({"(profile)", cls, count(static_cast<std::int64_t>(n)), "—", "—"});
  }
  add_table(s, "Datasets", {"Dataset", "Records", "Devices", "Freshness attainment", "Error checks", "Warning checks", "Status"}, dataset_rows);
  if (!class_rows.empty()) add_table(s, "By device class", {"Dataset", "Device class", "Records", "Freshness", "QC index"}, class_rows);
  if (!finding_rows.empty()) add_table(s, "Top findings", {"Dataset", "Check", "Severity", "Count", "Unit", "Rate", "What"}, finding_rows);
  if (any_freshness && worst_freshness < in.policy.freshness_warn) {
    add_finding(s, worst_freshness < in.policy.freshness_error ? "error" : "warn",
                fmt::format("freshness attainment {} (warn below {}, error below {})", pct(worst_freshness), pct(in.policy.freshness_warn, 0),
                            pct(in.policy.freshness_error, 0)));
  }
  s["data"] = {{"datasets", datasets}, {"freshnessAttainment", any_freshness ? num(worst_freshness, 4) : json(nullptr)}};
  s["summary"] = fmt::format("{} audited dataset(s); freshness attainment {}.", in.audits.size(), any_freshness ? pct(worst_freshness) : "not measured");
  s["headline"] = {{"freshness attainment", any_freshness ? num(worst_freshness, 4) : json(nullptr)}};
  return s;
}

// ---- 5. performance and decay -------------------------------------------------------------------

namespace {

std::map<std::string, const hub::Device*> device_index(const Inputs& in) {
  std::map<std::string, const hub::Device*> idx;
  if (in.devices) {
    for (const auto& d : *in.devices) idx[d.id] = &d;
  }
  return idx;
}

}  // namespace

json section_performance(const Inputs& in) {
  json s = make_section("performance", "Model performance and decay");
  std::map<std::string, std::map<std::string, WeekCounts>> counts;  // version -> week -> counts
  std::set<std::string> reference_weeks;
  std::string basis;
  auto idx = device_index(in);
  if (in.labels && !in.labels->empty()) {
    basis = "labels";
    for (const auto& r : *in.labels) {
      if (r.ts >= in.period.to || !r.predicted) continue;
      std::string v = r.model_version;
      if (v.empty()) {
        auto it = idx.find(r.device_id);
        v = it == idx.end() ? "" : model_version(*it->second);
      }
      std::string week = iso_week(r.ts);
      auto& wc = counts[v][week];
      wc.model_version = v;
      wc.week = week;
      add_prediction(wc, *r.predicted, r.actual, r.confidence);
      if (r.ts < in.period.from) reference_weeks.insert(week);
    }
  } else if (in.profile) {
    basis = "profile";
    // Label-free: mean confidence and the favourable-prediction rate per version, from the profiles.
    auto add_profile = [&](const lineage::Profile& p, const std::string& week, bool reference) {
      for (const auto& [v, m] : p.models) {
        auto conf = m.fields.find("confidence");
        auto pred = m.fields.find("prediction");
        if (conf == m.fields.end() && pred == m.fields.end()) continue;
        auto& wc = counts[v][week];
        wc.model_version = v;
        wc.week = week;
        if (conf != m.fields.end() && conf->second.numbers > 0) {
          wc.confidence_sum = conf->second.moments.mean * static_cast<double>(conf->second.moments.n);
          wc.confidence_count = static_cast<std::int64_t>(conf->second.moments.n);
        }
        if (pred != m.fields.end() && pred->second.numbers > 0) {
          wc.predictions = static_cast<std::int64_t>(pred->second.numbers);
          wc.predicted_positive = std::llround(pred->second.moments.mean * static_cast<double>(pred->second.numbers));
        } else {
          wc.predictions = wc.confidence_count;
        }
        if (reference) reference_weeks.insert(week);
      }
    };
    if (in.reference) {
      std::string week = in.reference->window_from_ms ? iso_week(TimePoint{std::chrono::milliseconds(*in.reference->window_from_ms)})
                                                      : "reference";
      add_profile(*in.reference, week, true);
    }
    add_profile(*in.profile, in.period.iso_week ? in.period.label : iso_week(in.period.from), false);
  }
  if (counts.empty()) {
    missing_inputs(s, "no labels (--labels) and no audit profile with a confidence or prediction field for the period.");
    return s;
  }
  DecayOptions opt;
  opt.relative_drop = in.policy.max_relative_drop;
  json rows = json::array(), check_rows = json::array(), models = json::array();
  json chart = {{"type", "line"}, {"title", "Performance per week"}, {"y_label", ""}, {"y_max", 1}, {"x", json::array()}, {"series", json::array()}};
  std::set<std::string> all_weeks;
  for (const auto& [v, weeks] : counts)
    for (const auto& [w, c] : weeks) all_weeks.insert(w);
  for (const auto& w : all_weeks) chart["x"].push_back(w);
  bool label_free = true;
  int alerts = 0;
  for (const auto& [v, weeks] : counts) {
    std::vector<WeekCounts> list;
    for (const auto& [w, c] : weeks) list.push_back(c);
    // Reference weeks of this version; without any, the version is compared with the approved one's.
    std::vector<std::string> refs;
    for (const auto& w : reference_weeks) {
      if (weeks.count(w)) refs.push_back(w);
    }
    ModelPerformance mp = evaluate_performance(v.empty() ? "(unattributed)" : v, list, refs, opt);
    label_free = label_free && mp.label_free;
    json series = {{"name", mp.model_version + " " + mp.metric}, {"values", json::array()}};
    for (const auto& w : all_weeks) {
      auto it = std::find_if(mp.weeks.begin(), mp.weeks.end(), [&](const WeekPerformance& wp) { return wp.week == w; });
      const Stat* st = nullptr;
      if (it != mp.weeks.end()) st = mp.metric == "f1" ? &it->f1 : mp.metric == "accuracy" ? &it->accuracy : &it->mean_confidence;
      series["values"].push_back(st && st->value ? num(*st->value, 4) : json(nullptr));
    }
    chart["series"].push_back(series);
    json weeks_j = json::array();
    for (const auto& wp : mp.weeks) {
      rows.push_back({mp.model_version, wp.week, count(wp.predictions), count(wp.labelled), stat_text(wp.accuracy, true), stat_text(wp.f1, false, 3),
                      stat_text(wp.mean_confidence, false, 3), stat_text(wp.prediction_rate, true)});
      weeks_j.push_back({{"week", wp.week}, {"predictions", wp.predictions}, {"labelled", wp.labelled}, {"accuracy", stat_json(wp.accuracy)},
                         {"precision", stat_json(wp.precision)}, {"recall", stat_json(wp.recall)}, {"f1", stat_json(wp.f1)},
                         {"meanConfidence", stat_json(wp.mean_confidence)}, {"predictionRate", stat_json(wp.prediction_rate)}});
    }
    json checks_j = json::array();
    for (const auto& c : mp.checks) {
      check_rows.push_back({mp.model_version, c.week, c.metric, stat_text(c.value, false, 3), stat_text(c.reference_mean, false, 3),
                            c.relative_change.value ? fmt::format("{:+.1f}%", *c.relative_change.value * 100) : "—", c.alert ? "ALERT" : "ok", c.reason});
      checks_j.push_back({{"week", c.week}, {"metric", c.metric}, {"value", stat_json(c.value)}, {"referenceMean", stat_json(c.reference_mean)},
                          {"referenceSd", stat_json(c.reference_sd)}, {"relativeChange", stat_json(c.relative_change)}, {"alert", c.alert},
                          {"reason", c.reason}});
      if (c.alert) {
        ++alerts;
        add_finding(s, "error", fmt::format("{} {} in {}: {}", mp.model_version, c.metric, c.week, c.reason));
      }
    }
    models.push_back({{"modelVersion", mp.model_version}, {"labelFree", mp.label_free}, {"metric", mp.metric}, {"referenceWeeks", mp.reference_weeks},
                      {"weeks", weeks_j}, {"checks", checks_j}, {"alert", mp.alert}});
  }
  chart["y_label"] = label_free ? "mean confidence" : "F1";
  add_table(s, "Per model version and week", {"Version", "Week", "Predictions", "Labelled", "Accuracy", "F1", "Mean confidence", "Favourable rate"}, rows);
  if (!check_rows.empty())
    add_table(s, "Decay checks against the reference weeks", {"Version", "Week", "Metric", "Value", "Reference", "Change", "Verdict", "Why"}, check_rows);
  s["charts"].push_back(chart);
  if (label_free) add_note(s, "Label-free: no labels were given for these weeks, so performance is judged on the model's mean confidence and favourable-prediction rate (proxies), not on accuracy.");
  add_note(s, fmt::format("Alert when the metric drops more than {} relative to the reference weeks, or leaves the reference mean ± 3σ (with ≥ 3 reference weeks).",
                          pct(in.policy.max_relative_drop, 0)));
  s["data"] = {{"basis", basis}, {"labelFree", label_free}, {"models", models}, {"alerts", alerts}};
  s["summary"] = fmt::format("{} model version(s) over {} week(s); {}; {} decay alert(s).", counts.size(), all_weeks.size(),
                             label_free ? "label-free (proxies only)" : "measured against labels", alerts);
  s["headline"] = {{"decay alerts", alerts}};
  raise(s, "pass");
  return s;
}

// ---- 6. drift -------------------------------------------------------------------------------------

json section_drift(const Inputs& in) {
  json s = make_section("drift", "Drift");
  if (!in.profile) {
    missing_inputs(s, "no audit profile for the period (profile.json in --audits).");
    return s;
  }
  if (!in.reference) {
    missing_inputs(s, "no reference profile (policy drift.reference, or an earlier period's profile.json in --audits).");
    return s;
  }
  lineage::DriftThresholds th;
  th.psi_moderate = in.policy.psi_warn;
  th.psi_major = in.policy.psi_error;
  th.js_moderate = in.policy.js_warn;
  th.js_major = in.policy.js_error;
  th.min_n = in.policy.drift_min_count;
  // The reference version a version is compared with: itself when the reference has it, else the
  // reference's version with most records (the baseline the fleet ran then).
  std::string ref_main;
  std::uint64_t most = 0;
  for (const auto& [v, m] : in.reference->models) {
    if (m.records > most) {
      most = m.records;
      ref_main = v;
    }
  }
  struct Pair {
    std::string version, ref_version, field;
    const lineage::FieldProfile* cur;
    const lineage::FieldProfile* ref;
  };
  std::vector<Pair> pairs;
  for (const auto& [v, m] : in.profile->models) {
    auto rm = in.reference->models.find(v);
    const lineage::ModelProfile* ref_model = rm != in.reference->models.end() ? &rm->second : nullptr;
    std::string ref_version = v;
    if (!ref_model && !ref_main.empty()) {
      ref_model = &in.reference->models.at(ref_main);
      ref_version = ref_main;
    }
    if (!ref_model) continue;
    for (const auto& [field, fp] : m.fields) {
      if (!in.policy.drift_fields.empty() &&
          std::find(in.policy.drift_fields.begin(), in.policy.drift_fields.end(), field) == in.policy.drift_fields.end())
        continue;
      auto rf = ref_model->fields.find(field);
      if (rf == ref_model->fields.end()) continue;
      pairs.push_back({v, ref_version, field, &fp, &rf->second});
    }
  }
  std::set<std::string> numeric_fields;
  for (const auto& p : pairs) {
    if (p.cur->numbers > 0 && p.ref->numbers > 0) numeric_fields.insert(p.version + "\t" + p.field);
  }
  // Bonferroni over the fields tested per version for KS.
  std::map<std::string, int> fields_per_version;
  for (const auto& p : pairs) fields_per_version[p.version]++;
  json rows = json::array(), results = json::array();
  json chart = {{"type", "bar"}, {"title", "PSI per field and model version"}, {"unit", "PSI"}, {"bars", json::array()},
                {"thresholds", {{{"value", in.policy.psi_warn}, {"label", "moderate"}}, {{"value", in.policy.psi_error}, {"label", "major"}}}}};
  std::map<std::string, std::pair<int, int>> drifted;  // version -> (drifting, tested)
  int majors = 0, moderates = 0;
  for (const auto& p : pairs) {
    lineage::DriftThresholds t = th;
    t.ks_alpha = in.policy.ks_alpha / std::max(1, fields_per_version[p.version]);
    lineage::DriftResult r;
    bool numeric = p.cur->numbers > 0 && p.ref->numbers > 0;
    if (numeric) {
      r = lineage::drift_sketch(p.ref->quantiles, p.cur->quantiles, t, p.ref->moments.stddev());
    } else if (p.cur->texts > 0 && p.ref->texts > 0) {
      std::map<std::string, std::uint64_t> a, b;
      for (const auto& item : p.ref->top_text.top(128)) a[item.value] = item.estimate;
      for (const auto& item : p.cur->top_text.top(128)) b[item.value] = item.estimate;
      r = lineage::drift_categorical(a, b, t);
    } else {
      continue;
    }
    std::string status = r.status;
    bool drifting = status == "moderate" || status == "major";
    auto& d = drifted[p.version];
    d.second++;
    d.first += drifting;
    std::string rag = status == "major" ? "fail" : status == "moderate" ? "warn" : status == "stable" ? "pass" : "n/a";
    if (status == "major") ++majors;
    if (status == "moderate") ++moderates;
    raise(s, rag);
    auto f = [](double v, int dec) { return std::isfinite(v) ? fixed(v, dec) : std::string("—"); };
    rows.push_back({p.field, p.version, p.ref_version, numeric ? "numeric" : "categorical", count(static_cast<std::int64_t>(r.n_ref)),
                    count(static_cast<std::int64_t>(r.n_cur)), f(r.psi, 4), f(r.js, 4), f(r.w1_normed, 4), f(r.ks_d, 4), f(r.ks_p, 4),
                    f(r.hellinger, 4), status});
    json rj = r.to_json();
    rj["field"] = p.field;
    rj["modelVersion"] = p.version;
    rj["referenceVersion"] = p.ref_version;
    // Round the floats the metric library gives, so the document prints the same everywhere.
    for (const char* k : {"psi", "js", "w1_normed", "ks_d", "ks_p", "hellinger", "chi2", "chi2_p"}) {
      if (rj.contains(k) && rj[k].is_number_float()) rj[k] = num(rj[k].get<double>());
    }
    if (rj.contains("thresholds")) {
      for (auto& [k, v] : rj["thresholds"].items()) {
        if (v.is_number_float()) v = num(v.get<double>());
      }
    }
    results.push_back(rj);
    chart["bars"].push_back({{"label", p.field + " " + p.version}, {"value", num(std::isfinite(r.psi) ? r.psi : 0.0, 4)}, {"status", rag}});
    if (drifting)
      add_finding(s, status == "major" ? "error" : "warn",
                  fmt::format("{} on model version {}: PSI {} ({} drift) against {} {}", p.field, p.version, f(r.psi, 3), status,
                              p.ref_version == p.version ? "the reference's" : "reference version", p.ref_version));
  }
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    return std::tie(a[1].get_ref<const std::string&>(), a[0].get_ref<const std::string&>()) <
           std::tie(b[1].get_ref<const std::string&>(), b[0].get_ref<const std::string&>());
  });
  add_table(s, "Per field and model version", {"Field", "Version", "Reference version", "Kind", "n ref", "n cur", "PSI", "JS (base 2)", "W1 / σ", "KS D", "KS p", "Hellinger", "Status"},
            rows);
  json dataset = json::array();
  for (const auto& [v, d] : drifted) {
    bool dataset_drift = d.second > 0 && 2 * d.first >= d.second;
    dataset.push_back({{"modelVersion", v}, {"drifting", d.first}, {"tested", d.second}, {"datasetDrift", dataset_drift}});
    if (dataset_drift) add_finding(s, "warn", fmt::format("dataset drift on {}: {} of {} fields drift (≥ 50 %)", v, d.first, d.second));
  }
  if (!chart["bars"].empty()) s["charts"].push_back(chart);
  add_note(s, fmt::format("Reference: {}. PSI over 10 reference-decile bins (ε = 1e-4): ≥ {} moderate, ≥ {} major; Jensen–Shannon distance base 2 "
                          "(≥ {} moderate); Wasserstein-1 divided by σ_ref; KS p-value with Bonferroni over the fields of a version (α = {}); "
                          "fewer than {} values in a window: insufficient data.",
                          in.reference_origin, in.policy.psi_warn, in.policy.psi_error, in.policy.js_warn, in.policy.ks_alpha, in.policy.drift_min_count));
  s["data"] = {{"reference", in.reference_origin}, {"fields", results}, {"datasetDrift", dataset}, {"major", majors}, {"moderate", moderates}};
  s["summary"] = fmt::format("{} field comparisons: {} major, {} moderate drift.", results.size(), majors, moderates);
  s["headline"] = {{"fields with major drift", majors}};
  raise(s, "pass");
  return s;
}

// ---- 7. bias audit --------------------------------------------------------------------------------

json section_bias(const Inputs& in) {
  json s = make_section("bias", "Bias audit");
  if (!in.labels) {
    missing_inputs(s, "no decisions to audit (--labels with a prediction per record; labels add TPR/FPR and equalized odds).");
    return s;
  }
  auto idx = device_index(in);
  std::vector<SegmentedDecision> decisions;
  for (const auto& r : *in.labels) {
    if (!in.period.contains(r.ts) || !r.predicted) continue;
    SegmentedDecision d;
    auto dev = idx.find(r.device_id);
    d.model_version = !r.model_version.empty() ? r.model_version : dev != idx.end() ? model_version(*dev->second) : "";
    if (d.model_version.empty()) d.model_version = "(unattributed)";
    d.predicted = *r.predicted;
    d.actual = r.actual;
    for (const auto& dim : in.policy.bias_segments) {
      auto given = r.segments.find(dim);
      std::string value = given != r.segments.end() ? given->second : dev != idx.end() ? tag(*dev->second, dim) : "";
      d.segments[dim] = value.empty() ? "(unknown)" : value;
    }
    decisions.push_back(std::move(d));
  }
  if (decisions.empty()) {
    missing_inputs(s, "the labels file has no predictions inside the period.");
    return s;
  }
  BiasOptions opt;
  opt.min_group_size = static_cast<std::int64_t>(in.policy.bias_min_group);
  opt.four_fifths = in.policy.disparate_impact;
  opt.bootstrap.resamples = in.policy.bootstrap;
  opt.bootstrap.seed = in.policy.bootstrap_seed;
  auto audits = audit_bias_by_segment(decisions, in.policy.bias_segments, opt);
  json summary_rows = json::array(), audits_j = json::array();
  int adverse = 0;
  bool labelled = false;
  for (const auto& a : audits) {
    labelled = labelled || a.labelled;
    json rows = json::array();
    json chart = {{"type", "bar"}, {"title", fmt::format("Selection rate by {} — model {}", a.dimension, a.model_version)}, {"unit", "selection rate"},
                  {"bars", json::array()}, {"thresholds", json::array()}};
    json groups = json::array();
    for (const auto& g : a.groups) {
      std::string flag = !g.sufficient ? "insufficient data" : g.adverse_impact ? "ADVERSE (DI < 0.8)" : "ok";
      rows.push_back({g.group, count(g.n), stat_text(g.selection_rate, true), stat_text(g.tpr, true), stat_text(g.fpr, true),
                      stat_text(g.disparate_impact, false, 3), stat_text(g.parity_difference, false, 3), flag});
      json bar = {{"label", g.group}, {"value", num(g.selection_rate.value.value_or(0.0), 4)},
                  {"status", !g.sufficient ? "n/a" : g.adverse_impact ? "fail" : "pass"}};
      if (g.selection_rate.ci) {
        bar["lower"] = num(g.selection_rate.ci->lower, 4);
        bar["upper"] = num(g.selection_rate.ci->upper, 4);
      }
      chart["bars"].push_back(bar);
      groups.push_back({{"group", g.group}, {"n", g.n}, {"selected", g.selected}, {"labelled", g.labelled}, {"sufficient", g.sufficient},
                        {"selectionRate", stat_json(g.selection_rate, 4)}, {"tpr", stat_json(g.tpr, 4)}, {"fpr", stat_json(g.fpr, 4)},
                        {"disparateImpact", stat_json(g.disparate_impact, 4)}, {"parityDifference", stat_json(g.parity_difference, 4)},
                        {"adverseImpact", g.adverse_impact}});
    }
    // The four-fifths line relative to the reference group's selection rate.
    for (const auto& g : a.groups) {
      if (g.group == a.reference_group && g.selection_rate.value)
        chart["thresholds"].push_back({{"value", num(*g.selection_rate.value * in.policy.disparate_impact, 4)}, {"label", "4/5 of reference"}});
    }
    add_table(s, fmt::format("{} by {} (reference: {})", a.model_version, a.dimension, a.reference_group.empty() ? "none sufficient" : a.reference_group),
              {"Group", "n", "Selection rate [95% CI]", "TPR", "FPR", "Disparate impact", "Parity difference", "Flag"}, rows);
    if (a.groups.size() > 1) s["charts"].push_back(chart);
    adverse += static_cast<int>(a.adverse_impact_groups.size());
    for (const auto& g : a.adverse_impact_groups) {
      auto it = std::find_if(a.groups.begin(), a.groups.end(), [&](const GroupBias& x) { return x.group == g; });
      add_finding(s, "error", fmt::format("model {}, {} = {}: disparate impact {} < {} (four-fifths rule)", a.model_version, a.dimension, g,
                                          it != a.groups.end() ? stat_text(it->disparate_impact, false, 3) : "?", in.policy.disparate_impact));
    }
    if (a.demographic_parity_difference.value && *a.demographic_parity_difference.value > in.policy.parity_difference)
      add_finding(s, "warn", fmt::format("model {} by {}: demographic parity difference {} > {}", a.model_version, a.dimension,
                                         stat_text(a.demographic_parity_difference, false, 3), in.policy.parity_difference));
    if (a.equalized_odds_difference.value && *a.equalized_odds_difference.value > in.policy.equalized_odds)
      add_finding(s, "warn", fmt::format("model {} by {}: equalized odds difference {} > {}", a.model_version, a.dimension,
                                         stat_text(a.equalized_odds_difference, false, 3), in.policy.equalized_odds));
    summary_rows.push_back({a.model_version, a.dimension, std::to_string(a.groups.size()), std::to_string(a.insufficient_groups),
                            stat_text(a.demographic_parity_difference, false, 3), stat_text(a.demographic_parity_ratio, false, 3),
                            stat_text(a.equalized_odds_difference, false, 3),
                            a.adverse_impact_groups.empty() ? "none" : fmt::format("{}", fmt::join(a.adverse_impact_groups, ", "))});
    audits_j.push_back({{"modelVersion", a.model_version}, {"dimension", a.dimension}, {"labelled", a.labelled}, {"groups", groups},
                        {"referenceGroup", a.reference_group}, {"referenceRule", a.reference_rule},
                        {"demographicParityDifference", stat_json(a.demographic_parity_difference, 4)},
                        {"demographicParityRatio", stat_json(a.demographic_parity_ratio, 4)},
                        {"equalOpportunityDifference", stat_json(a.equal_opportunity_difference, 4)},
                        {"equalizedOddsDifference", stat_json(a.equalized_odds_difference, 4)},
                        {"insufficientGroups", a.insufficient_groups}, {"adverseImpactGroups", a.adverse_impact_groups},
                        {"bootstrap", {{"resamples", a.bootstrap_resamples}, {"seed", a.bootstrap_seed}}}});
  }
  s["tables"].insert(s["tables"].begin(), json{{"title", "Summary per model version and segment"},
                                                {"columns", {"Version", "Segment", "Groups", "Insufficient", "DPD [95% CI]", "DP ratio", "EOD [95% CI]", "Adverse impact"}},
                                                {"rows", summary_rows}});
  if (!labelled) add_note(s, "No labels: only selection-rate metrics (demographic parity, disparate impact) are valid; TPR, FPR and equalized odds need labels.");
  add_note(s, fmt::format("Groups below n = {} are shown as insufficient data and left out of the differences. Intervals: Wilson for rates, "
                          "stratified percentile bootstrap ({} resamples, seed {}) for DPD and EOD.",
                          in.policy.bias_min_group, in.policy.bootstrap, in.policy.bootstrap_seed));
  s["data"] = {{"decisions", decisions.size()}, {"labelled", labelled}, {"audits", audits_j}, {"adverseImpactGroups", adverse}};
  s["summary"] = fmt::format("{} decisions audited over {} segment dimension(s); {} group(s) with adverse impact.", count(static_cast<std::int64_t>(decisions.size())),
                             in.policy.bias_segments.size(), adverse);
  s["headline"] = {{"adverse-impact groups", adverse}};
  raise(s, "pass");
  return s;
}

}  // namespace aiot::report::detail
