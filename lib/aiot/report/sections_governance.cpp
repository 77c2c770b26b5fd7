// Sections 1 (summary), 11 (policy adherence) and 12 (evidence).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "aiot/report/sections.hpp"

namespace aiot::report::detail {

namespace {

const json& section(const json& sections, const std::string& id) {
  static const json k_empty = json::object();
  for (const auto& s : sections) {
    if (s.value("id", "") == id) return s;
  }
  return k_empty;
}

bool assessed(const json& s) { return s.value("status", "n/a") != "n/a"; }

struct RuleResult {
  std::string outcome = "n/a";  // pass | warn | fail | n/a
  std::string evidence;
};

RuleResult canary_before_full(const Inputs& in, const json& compliance, double min_hours) {
  RuleResult r;
  if (!compliance.contains("data") || !compliance["data"].contains("rollouts") || compliance["data"]["rollouts"].empty()) {
    r.evidence = "no rollout in the journal";
    return r;
  }
  std::vector<std::string> bad, good;
  for (const auto& ro : compliance["data"]["rollouts"]) {
    auto first = parse_rfc3339(ro.value("firstDispatch", ""));
    auto last = parse_rfc3339(ro.value("lastWaveDispatch", ""));
    if (!first || !last || !in.period.contains(*last)) continue;
    double hours = std::chrono::duration<double, std::ratio<3600>>(*last - *first).count();
    (hours + 1e-9 >= min_hours ? good : bad).push_back(fmt::format("{} ({:.1f} h)", ro.value("rollout", ""), hours));
  }
  if (bad.empty() && good.empty()) {
    r.outcome = "pass";
    r.evidence = "no rollout reached its last wave in the period";
  } else if (!bad.empty()) {
    r.outcome = "fail";
    r.evidence = fmt::format("reached 100% less than {} h after the canary: {}", min_hours, fmt::join(bad, ", "));
  } else {
    r.outcome = "pass";
    r.evidence = fmt::format("canary ≥ {} h before 100%: {}", min_hours, fmt::join(good, ", "));
  }
  return r;
}

}  // namespace

json section_policy(const Inputs& in, const json& sections) {
  json s = make_section("policy", "Policy adherence");
  const json& compliance = section(sections, "compliance");
  const json& drift = section(sections, "drift");
  const json& bias = section(sections, "bias");
  const json& perf = section(sections, "performance");
  const json& health = section(sections, "data_health");
  const json& cost = section(sections, "cost");
  const json& carbon = section(sections, "carbon");
  const json& security = section(sections, "security");
  static const json k_no_rollouts = json::array();
  const json& rollouts = compliance.contains("data") && compliance["data"].contains("rollouts") ? compliance["data"]["rollouts"] : k_no_rollouts;
  json rows = json::array(), rules = json::array();
  int failed = 0, warned = 0;
  for (const auto& rule : in.policy.rules) {
    RuleResult r;
    std::string title = rule.id;
    if (rule.id == "journal-verified") {
      title = "Rollout journals verify (hash chain and hub head)";
      if (in.journals.empty()) {
        r.evidence = "no journal found";
      } else {
        std::vector<std::string> broken;
        for (const auto& j : in.journals) {
          if (!j.verify.ok) broken.push_back(fmt::format("{} line {}: {}", j.rollout, j.verify.bad_line, j.verify.problem));
        }
        r.outcome = broken.empty() ? "pass" : "fail";
        r.evidence = broken.empty() ? fmt::format("{} journal(s) verified", in.journals.size()) : fmt::format("{}", fmt::join(broken, "; "));
      }
    } else if (rule.id == "canary-before-full") {
      double hours = rule.params.value("minHours", 24.0);
      title = fmt::format("Canary ≥ {} h before 100%", hours);
      r = canary_before_full(in, compliance, hours);
    } else if (rule.id == "model-card-required") {
      title = "No version without a model card";
      std::set<std::string> missing;
      bool any = false;
      if (compliance.contains("data") && compliance["data"].contains("models")) {
        for (const auto& m : compliance["data"]["models"]) {
          std::string model = m.value("model", "");
          auto pm = in.policy.models.find(model);
          for (const auto& [version, n] : m["versions"].items()) {
            any = true;
            bool has = pm != in.policy.models.end() &&
                       std::find(pm->second.model_cards.begin(), pm->second.model_cards.end(), version) != pm->second.model_cards.end();
            if (!has) missing.insert(model + " " + version);
          }
        }
        for (const auto& ro : rollouts) {
          std::string target = ro.value("target", "");
          bool has = false;
          for (const auto& [model, pm] : in.policy.models) {
            has = has || std::find(pm.model_cards.begin(), pm.model_cards.end(), target) != pm.model_cards.end();
          }
          if (!target.empty() && !has && (ro.value("rolledBackInPeriod", false) || ro.value("promotedInPeriod", 0) > 0 || ro.value("phase", "") == "RUNNING")) {
            missing.insert("rollout target " + target);
          }
          any = true;
        }
      }
      if (any) {
        r.outcome = missing.empty() ? "pass" : "fail";
        r.evidence = missing.empty() ? "every running version and rollout target has a model card (policy models.*.modelCards)"
                                     : fmt::format("without a model card: {}", fmt::join(missing, ", "));
      } else {
        r.evidence = "no versions known (no registry)";
      }
    } else if (rule.id == "drift-error-blocks-promotion") {
      title = "Drift at error level blocks promotion";
      if (!assessed(drift)) {
        r.evidence = "drift not assessed";
      } else {
        std::set<std::string> major;
        for (const auto& f : drift["data"]["fields"]) {
          if (f.value("status", "") == "major") major.insert(f.value("modelVersion", ""));
        }
        std::vector<std::string> promoted;
        for (const auto& ro : rollouts) {
          if (major.count(ro.value("target", "")) && (ro.value("promotedInPeriod", 0) > 0 || ro.value("phase", "") == "SUCCEEDED"))
            promoted.push_back(fmt::format("{} ({})", ro.value("rollout", ""), ro.value("target", "")));
        }
        r.outcome = promoted.empty() ? "pass" : "fail";
        r.evidence = promoted.empty() ? (major.empty() ? "no field with major drift" : fmt::format("major drift on {}; none of them was promoted", fmt::join(major, ", ")))
                                      : fmt::format("promoted despite major drift: {}", fmt::join(promoted, ", "));
      }
    } else if (rule.id == "approved-version-adoption") {
      title = fmt::format("Devices on the approved version (≥ {} warn, ≥ {} error)", pct(in.policy.adoption_warn, 0), pct(in.policy.adoption_error, 0));
      std::vector<std::string> parts;
      for (const auto& m : compliance.value("data", json::object()).value("models", json::array())) {
        std::string st = m.value("status", "n/a");
        if (st == "n/a") continue;
        if (status_rank(st) > status_rank(r.outcome)) r.outcome = st;
        parts.push_back(fmt::format("{} {}: {}", m.value("model", ""), m.value("approved", ""), pct(m.value("share", 0.0))));
      }
      r.evidence = parts.empty() ? "no approved version to measure" : fmt::format("{}", fmt::join(parts, "; "));
    } else if (rule.id == "bias-four-fifths") {
      title = fmt::format("Disparate impact ≥ {} for every sufficient group", in.policy.disparate_impact);
      if (assessed(bias)) {
        int n = bias["data"].value("adverseImpactGroups", 0);
        r.outcome = n == 0 ? "pass" : "fail";
        r.evidence = n == 0 ? "no group below the four-fifths line" : fmt::format("{} group(s) below the four-fifths line (section 7)", n);
      } else {
        r.evidence = "bias not assessed";
      }
    } else if (rule.id == "performance-no-decay") {
      title = fmt::format("No performance drop beyond {}", pct(in.policy.max_relative_drop, 0));
      if (assessed(perf)) {
        int n = perf["data"].value("alerts", 0);
        r.outcome = n == 0 ? "pass" : "fail";
        r.evidence = fmt::format("{} decay alert(s){}", n, perf["data"].value("labelFree", false) ? " (label-free proxies)" : "");
      } else {
        r.evidence = "performance not assessed";
      }
    } else if (rule.id == "data-freshness") {
      title = fmt::format("Freshness attainment ≥ {}", pct(in.policy.freshness_warn, 0));
      const json& fa = health.value("data", json::object()).value("freshnessAttainment", json());
      if (fa.is_number()) {
        double v = fa.get<double>();
        r.outcome = v < in.policy.freshness_error ? "fail" : v < in.policy.freshness_warn ? "warn" : "pass";
        r.evidence = "attainment " + pct(v);
      } else {
        r.evidence = "freshness not measured";
      }
    } else if (rule.id == "cost-within-budget") {
      title = "Cost within budget";
      if (assessed(cost)) {
        int n = cost["data"].value("overBudgetSites", 0);
        std::vector<std::string> over;
        for (const auto& b : cost["data"]["budgets"]) {
          if (b.value("over", false)) over.push_back(b.value("site", ""));
        }
        bool per_k_fail = false;
        for (const auto& f : cost["findings"]) per_k_fail = per_k_fail || f.value("text", "").find("per 1,000") != std::string::npos;
        r.outcome = n == 0 && !per_k_fail ? "pass" : "fail";
        r.evidence = n == 0 ? (cost["data"]["budgets"].empty() ? "no budget in the policy" : "every site within its budget")
                            : fmt::format("over budget: {}", fmt::join(over, ", "));
        if (per_k_fail) r.evidence += "; cost per 1,000 inferences above the policy maximum";
      } else {
        r.evidence = "cost not assessed";
      }
    } else if (rule.id == "carbon-within-budget") {
      title = "Carbon per deployment within the policy maximum";
      if (assessed(carbon)) {
        int n = carbon["data"].value("overBudget", 0);
        r.outcome = n == 0 ? "pass" : "fail";
        r.evidence = in.policy.max_kg_per_deployment ? fmt::format("{} deployment(s) above {} kgCO2e", n, *in.policy.max_kg_per_deployment)
                                                     : "no maximum in the policy";
      } else {
        r.evidence = "carbon not assessed";
      }
    } else if (rule.id == "no-shared-credentials" || rule.id == "x509-required") {
      bool shared = rule.id == "no-shared-credentials";
      title = shared ? "No certificate or key shared by several devices" : "X.509 on every device";
      if (assessed(security)) {
        std::int64_t n = 0;
        if (shared) {
          for (const auto& [check, c] : security["data"]["counts"].items()) {
            if (check.find("shared") != std::string::npos) n += c.get<std::int64_t>();
          }
        } else {
          n = security["data"].value("sas", std::int64_t{0});
        }
        r.outcome = n == 0 ? "pass" : "fail";
        r.evidence = fmt::format("{} device(s) {}", n, shared ? "sharing a credential" : "on SAS");
      } else {
        r.evidence = "registry not read";
      }
    }
    std::string level = r.outcome == "fail" ? rule.severity : r.outcome == "warn" ? "warn" : r.outcome;
    if (r.outcome == "fail") {
      rule.severity == "error" ? ++failed : ++warned;
      add_finding(s, rule.severity, fmt::format("{}: {}", title, r.evidence));
    } else if (r.outcome == "warn") {
      ++warned;
      add_finding(s, "warn", fmt::format("{}: {}", title, r.evidence));
    }
    std::string shown = r.outcome == "n/a" ? "not assessed" : r.outcome == "fail" ? (rule.severity == "error" ? "FAIL" : "FAIL (warn)") : r.outcome == "warn" ? "WARN" : "pass";
    rows.push_back({rule.id, title, rule.severity, shown, r.evidence});
    rules.push_back({{"id", rule.id}, {"title", title}, {"severity", rule.severity}, {"outcome", r.outcome}, {"level", level}, {"evidence", r.evidence}});
  }
  add_table(s, "Rules", {"Rule", "What", "Severity", "Outcome", "Evidence"}, rows);
  s["data"] = {{"rules", rules}, {"failedErrors", failed}, {"warnings", warned}};
  s["summary"] = fmt::format("{} rule(s): {} failed at error level, {} at warn level.", rules.size(), failed, warned);
  s["headline"] = {{"rules failed", failed}, {"rules warned", warned}};
  raise(s, "pass");
  return s;
}

json section_evidence(const Inputs& in) {
  json s = make_section("evidence", "Evidence");
  std::vector<EvidenceFile> files = in.files;
  std::sort(files.begin(), files.end(), [](const EvidenceFile& a, const EvidenceFile& b) { return std::tie(a.role, a.path) < std::tie(b.role, b.path); });
  json rows = json::array(), files_j = json::array();
  for (const auto& f : files) {
    rows.push_back({f.role, f.path, f.sha256, count(static_cast<std::int64_t>(f.bytes))});
    files_j.push_back({{"role", f.role}, {"path", f.path}, {"sha256", f.sha256}, {"bytes", f.bytes}});
  }
  add_table(s, "Input files", {"Role", "Path", "SHA-256", "Bytes"}, rows);
  json heads = json::array(), head_rows = json::array();
  for (const auto& j : in.journals) {
    heads.push_back({{"rollout", j.rollout}, {"seq", j.verify.head.seq}, {"hash", j.verify.head.hash}, {"verified", j.verify.ok}});
    head_rows.push_back({j.rollout, std::to_string(j.verify.head.seq), j.verify.head.hash, j.verify.ok ? "verified" : "NOT verified"});
  }
  if (!head_rows.empty()) add_table(s, "Journal heads", {"Rollout", "Seq", "Hash", "Chain"}, head_rows);
  // OpenLineage run ids of the audits (the audit's own run, as emitted to the lineage backend).
  json runs = json::array(), run_rows = json::array();
  for (const auto& a : in.audits) {
    std::string run;
    for (const char* k : {"runId", "run_id"}) {
      if (a.audit.contains(k) && a.audit[k].is_string()) run = a.audit[k].get<std::string>();
    }
    if (run.empty() && a.audit.contains("run") && a.audit["run"].is_object()) run = a.audit["run"].value("runId", "");
    if (run.empty() && a.audit.contains("openlineage") && a.audit["openlineage"].is_object()) run = a.audit["openlineage"].value("runId", "");
    runs.push_back({{"audit", a.path}, {"runId", run}});
    run_rows.push_back({a.path, run.empty() ? "(none recorded)" : run});
  }
  if (!run_rows.empty()) add_table(s, "OpenLineage runs of the audits", {"Audit", "Run id"}, run_rows);
  json crosswalk = json::array({
      json::array({"NIST AI RMF MEASURE 2.4 (production monitoring)", "3 Update compliance, 4 Data health, 5 Performance, 6 Drift"}),
      json::array({"NIST AI RMF MEASURE 2.11 (fairness and bias)", "7 Bias audit"}),
      json::array({"NIST AI RMF MEASURE 2.12 (environmental impact)", "9 Carbon per deployment"}),
      json::array({"NIST AI RMF MANAGE 4.1 (post-deployment monitoring, change management)", "3 Update compliance, 11 Policy adherence"}),
      json::array({"ISO/IEC 42001 9.1 (monitoring, measurement, evaluation)", "1 Summary, 11 Policy adherence"}),
      json::array({"ISO/IEC 42001 A.6.2.6 (operation and monitoring)", "3, 4, 5, 6"}),
      json::array({"ISO/IEC 42001 A.6.2.8 (event logs)", "12 Evidence: journal heads, audit runs"}),
      json::array({"EU AI Act Art. 12 (record-keeping), Art. 19 / 26(6) (logs kept ≥ 6 months), Art. 72 (post-market monitoring)", "12 Evidence; keep this report and its inputs ≥ 6 months"}),
  });
  add_table(s, "Regulatory crosswalk", {"Anchor", "Sections"}, crosswalk);
  for (const auto& n : in.notes) add_note(s, n);
  add_note(s, "Retention: keep this report, the journals and the audits at least 6 months (EU AI Act Art. 19 and 26(6)).");
  s["data"] = {{"files", files_j}, {"journalHeads", heads}, {"openLineageRuns", runs}, {"aiotVersion", in.aiot_version}, {"hub", in.hub}};
  s["summary"] = fmt::format("{} input file(s) hashed; {} journal head(s); aiot {}.", files.size(), in.journals.size(), in.aiot_version);
  s["status"] = "pass";
  return s;
}

json section_summary(const Inputs& in, const json& sections) {
  json s = make_section("summary", "Summary");
  json rows = json::array(), areas = json::object();
  int errors = 0, warnings = 0;
  for (const auto& sec : sections) {
    std::string id = sec.value("id", "");
    if (id == "summary" || id == "evidence") continue;
    int e = 0, w = 0;
    for (const auto& f : sec["findings"]) {
      e += f.value("severity", "") == "error";
      w += f.value("severity", "") == "warn";
    }
    errors += e;
    warnings += w;
    rows.push_back({fmt::format("{}. {}", sec.value("number", 0), sec.value("title", "")), sec.value("status", "n/a"), std::to_string(e), std::to_string(w),
                    sec.value("summary", "")});
    areas[id] = {{"status", sec.value("status", "n/a")}, {"errors", e}, {"warnings", w}};
  }
  add_table(s, "Areas", {"Area", "Status", "Errors", "Warnings", "In one line"}, rows);
  // Changes since the previous period's report.
  json changes = json::array(), change_rows = json::array();
  if (in.previous) {
    std::map<std::string, json> before;
    for (const auto& sec : (*in.previous)["sections"]) before[sec.value("id", "")] = sec;
    for (const auto& sec : sections) {
      std::string id = sec.value("id", "");
      if (id == "summary" || id == "evidence" || !before.count(id)) continue;
      const json& old = before[id];
      if (old.value("status", "") != sec.value("status", "")) {
        change_rows.push_back({sec.value("title", ""), "status", old.value("status", ""), sec.value("status", "")});
        changes.push_back({{"section", id}, {"what", "status"}, {"before", old.value("status", "")}, {"after", sec.value("status", "")}});
      }
      const json& oh = old.value("headline", json::object());
      const json now_headline = sec.value("headline", json::object());  // items() must not outlive it
      for (const auto& [k, v] : now_headline.items()) {
        if (oh.contains(k) && oh[k] != v) {
          change_rows.push_back({sec.value("title", ""), k, oh[k].dump(), v.dump()});
          changes.push_back({{"section", id}, {"what", k}, {"before", oh[k]}, {"after", v}});
        } else if (!oh.contains(k)) {
          change_rows.push_back({sec.value("title", ""), k, "—", v.dump()});
          changes.push_back({{"section", id}, {"what", k}, {"before", nullptr}, {"after", v}});
        }
      }
    }
    if (change_rows.empty()) add_note(s, fmt::format("No change since the previous period's report ({}).", (*in.previous)["period"].value("label", "")));
    else add_table(s, fmt::format("Changes since {}", (*in.previous)["period"].value("label", "")), {"Area", "What", "Before", "Now"}, change_rows);
  } else {
    add_note(s, fmt::format("No report of the previous period ({}) in the output folder: changes are not shown.", previous_period(in.period).label));
  }
  std::string worst = "pass";
  for (const auto& sec : sections) {
    if (sec.value("id", "") != "summary" && status_rank(sec.value("status", "n/a")) > status_rank(worst)) worst = sec.value("status", "n/a");
  }
  s["status"] = worst;
  s["data"] = {{"areas", areas}, {"errors", errors}, {"warnings", warnings}, {"changes", changes},
               {"previous", in.previous ? json((*in.previous)["period"].value("label", "")) : json(nullptr)}};
  s["summary"] = fmt::format("{} error(s) and {} warning(s) across the areas.", errors, warnings);
  return s;
}

}  // namespace aiot::report::detail
