// Model cards in the layout of Google's Model Card Toolkit (schema v0.0.2; only its keys, since the
// schema forbids others): one per model version in the fleet, with the period's numbers as
// quantitative_analysis.performance_metrics sliced by segment.
#include <fmt/format.h>

#include "aiot/report/report.hpp"

namespace aiot::report {

namespace {

const json& section(const json& doc, const std::string& id) {
  static const json k_empty = json::object();
  for (const auto& s : doc["sections"]) {
    if (s.value("id", "") == id) return s;
  }
  return k_empty;
}

std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{:.4g}", v.get<double>());
  return v.dump();
}

json metric(const std::string& type, const json& value, const std::string& slice, const json& ci = nullptr) {
  json m = {{"type", type}, {"value", text(value)}};
  if (!slice.empty()) m["slice"] = slice;
  if (ci.is_array() && ci.size() == 2) m["confidence_interval"] = {{"lower_bound", text(ci[0])}, {"upper_bound", text(ci[1])}};
  return m;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> render_model_cards(const json& doc) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string label = doc["period"].value("label", "");
  const json& perf = section(doc, "performance");
  const json& bias = section(doc, "bias");
  const json& drift = section(doc, "drift");
  const json& cost = section(doc, "cost");
  const json& carbon = section(doc, "carbon");
  const json& compliance = section(doc, "compliance");
  for (const auto& mv : doc["modelVersions"]) {
    std::string model = mv.value("model", ""), version = mv.value("version", "");
    json metrics = json::array();
    for (const auto& m : perf.value("data", json::object()).value("models", json::array())) {
      if (m.value("modelVersion", "") != version) continue;
      for (const auto& w : m["weeks"]) {
        for (const char* k : {"accuracy", "f1", "meanConfidence", "predictionRate"}) {
          if (w[k]["value"].is_number()) metrics.push_back(metric(k, w[k]["value"], "week=" + w.value("week", ""), w[k].value("ci", json())));
        }
      }
    }
    for (const auto& a : bias.value("data", json::object()).value("audits", json::array())) {
      if (a.value("modelVersion", "") != version) continue;
      for (const auto& g : a["groups"]) {
        if (g["selectionRate"]["value"].is_number())
          metrics.push_back(metric("selection_rate", g["selectionRate"]["value"], a.value("dimension", "") + "=" + g.value("group", ""), g["selectionRate"].value("ci", json())));
        if (g["disparateImpact"]["value"].is_number())
          metrics.push_back(metric("disparate_impact", g["disparateImpact"]["value"], a.value("dimension", "") + "=" + g.value("group", "")));
      }
    }
    for (const auto& f : drift.value("data", json::object()).value("fields", json::array())) {
      if (f.value("modelVersion", "") == version && f["psi"].is_number()) metrics.push_back(metric("psi", f["psi"], "field=" + f.value("field", "")));
    }
    for (const auto& c : cost.value("data", json::object()).value("byModelVersion", json::array())) {
      if (c.value("modelVersion", "") == version && c["per1000Inferences"]["value"].is_number())
        metrics.push_back(metric("cost_per_1000_inferences_" + cost["data"].value("currency", ""), c["per1000Inferences"]["value"], ""));
    }
    for (const auto& d : carbon.value("data", json::object()).value("deployments", json::array())) {
      if (d.value("modelVersion", "") == version && d["per1000InferencesKg"]["value"].is_number())
        metrics.push_back(metric("kgco2e_per_1000_inferences", d["per1000InferencesKg"]["value"], "site=" + d.value("site", "")));
    }
    std::string share;
    for (const auto& m : compliance.value("data", json::object()).value("models", json::array())) {
      if (m.value("model", "") == model && m["versions"].contains(version)) share = fmt::format("{} of {} devices", m["versions"][version].dump(), m["devices"].dump());
    }
    json card = {
        {"model_details",
         {{"name", model},
          {"overview", fmt::format("{} {} as operated by the fleet in {}; figures from the aiot governance report of that period.", model, version, label)},
          {"version", {{"name", version}, {"date", doc["period"].value("to", "").substr(0, 10)}}},
          {"documentation", fmt::format("Governance report {} (content SHA-256 {}); running on {}.", label, doc.value("content_sha256", ""), share.empty() ? "no devices" : share)},
          {"references", json::array({{{"reference", report_file_name(label, Format::json)}}})}}},
        {"quantitative_analysis", {{"performance_metrics", metrics}}},
        {"considerations",
         {{"limitations", json::array({{{"description", perf.value("data", json::object()).value("labelFree", true)
                                                             ? "Performance is label-free in this period (model confidence and prediction rate are proxies)."
                                                             : "Performance measured against later-confirmed labels."}}})},
          {"ethical_considerations", json::array({{{"name", "Disparate impact across sites, regions and hardware classes"},
                                                   {"mitigation_strategy", "Audited weekly against the four-fifths rule; see section 7 of the governance report."}}})}}},
    };
    std::string safe_version = version;
    for (char& c : safe_version) {
      if (c == '/' || c == ' ') c = '_';
    }
    out.emplace_back(report_file_name(label, Format::modelcard) + model + "-" + safe_version + ".json", card.dump(2) + "\n");
  }
  return out;
}

}  // namespace aiot::report
