#include "aiot/report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/report/sections.hpp"

namespace aiot::report {

Format parse_format(std::string_view text) {
  if (text == "md" || text == "markdown") return Format::md;
  if (text == "html") return Format::html;
  if (text == "json") return Format::json;
  if (text == "modelcard" || text == "model-card") return Format::modelcard;
  throw Error::usage(fmt::format("--format: unknown format '{}'", text), "Formats: md, html, json, modelcard (comma-separated).");
}

std::string_view to_string(Format f) {
  switch (f) {
    case Format::md: return "md";
    case Format::html: return "html";
    case Format::json: return "json";
    case Format::modelcard: return "modelcard";
  }
  return "";
}

FailOn parse_fail_on(std::string_view text) {
  if (text == "error") return FailOn::error;
  if (text == "warn") return FailOn::warn;
  if (text == "never") return FailOn::never;
  throw Error::usage(fmt::format("--fail-on: unknown level '{}'", text), "Levels: error, warn, never.");
}

std::string report_file_name(const std::string& label, Format f) {
  switch (f) {
    case Format::md: return "governance-" + label + ".md";
    case Format::html: return "governance-" + label + ".html";
    case Format::json: return "governance-" + label + ".json";
    case Format::modelcard: return "modelcard-" + label + "-";  // a prefix: one file per model version
  }
  return "";
}

json build_report(const Inputs& in) {
  using namespace detail;
  json sections = json::array();
  // Sections 2-10 stand alone; 11 reads them; 1 summarises them all; 12 lists the inputs.
  sections.push_back(section_kpis(in));
  sections.push_back(section_compliance(in));
  sections.push_back(section_data_health(in));
  sections.push_back(section_performance(in));
  sections.push_back(section_drift(in));
  sections.push_back(section_bias(in));
  sections.push_back(section_cost(in));
  sections.push_back(section_carbon(in));
  sections.push_back(section_security(in));
  for (std::size_t i = 0; i < sections.size(); ++i) sections[i]["number"] = i + 2;
  json policy = section_policy(in, sections);
  policy["number"] = 11;
  sections.push_back(policy);
  json evidence = section_evidence(in);
  evidence["number"] = 12;
  sections.push_back(evidence);
  json summary = section_summary(in, sections);
  summary["number"] = 1;
  sections.insert(sections.begin(), summary);

  // Verdict: the worst rule level; rules decide the exit code, sections only inform.
  std::string level = "pass";
  json failed = json::array();
  for (const auto& r : policy["data"]["rules"]) {
    std::string l = r.value("level", "n/a");
    if (l == "error" || l == "warn") failed.push_back({{"id", r["id"]}, {"level", l}, {"evidence", r["evidence"]}});
    if (l == "error") level = "error";
    if (l == "warn" && level != "error") level = "warn";
  }
  std::set<std::string> versions;
  if (in.devices) {
    for (const auto& d : *in.devices) {
      std::string m = model_name(d), v = model_version(d);
      if (!m.empty() && !v.empty()) versions.insert(m + "\t" + v);
    }
  }
  json model_versions = json::array();
  for (const auto& mv : versions) {
    auto tab = mv.find('\t');
    model_versions.push_back({{"model", mv.substr(0, tab)}, {"version", mv.substr(tab + 1)}});
  }
  json doc = {
      {"schema", k_report_schema},
      {"kind", "governance"},
      {"title", fmt::format("Governance report {}", in.period.label)},
      {"period", {{"label", in.period.label}, {"from", format_rfc3339(in.period.from)}, {"to", format_rfc3339(in.period.to)}, {"isoWeek", in.period.iso_week}}},
      {"hub", in.hub},
      {"aiotVersion", in.aiot_version},
      {"policy", in.policy.to_json()},
      {"verdict", {{"level", level}, {"failedRules", failed}, {"errors", summary["data"]["errors"]}, {"warnings", summary["data"]["warnings"]}}},
      {"sections", sections},
      {"modelVersions", model_versions},
  };
  doc["content_sha256"] = crypto::sha256_hex(doc.dump());
  return doc;
}

std::string render_json(const json& doc) { return doc.dump(2) + "\n"; }

std::vector<std::filesystem::path> write_report(const std::filesystem::path& dir, const json& doc, const std::vector<Format>& formats) {
  fs::ensure_dir(dir);
  std::string label = doc["period"]["label"].get<std::string>();
  std::vector<std::filesystem::path> written;
  // Render everything first: a renderer that throws leaves no file half-replaced.
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  bool cards = false;
  for (Format f : formats) {
    switch (f) {
      case Format::md: files.emplace_back(dir / report_file_name(label, f), render_markdown(doc)); break;
      case Format::html: files.emplace_back(dir / report_file_name(label, f), render_html(doc)); break;
      case Format::json: files.emplace_back(dir / report_file_name(label, f), render_json(doc)); break;
      case Format::modelcard:
        cards = true;
        for (auto& [name, bytes] : render_model_cards(doc)) files.emplace_back(dir / name, std::move(bytes));
        break;
    }
  }
  for (const auto& [path, bytes] : files) {
    fs::write_atomic(path, bytes);
    written.push_back(path);
  }
  if (cards) {
    // A re-run replaces the period's cards: cards of versions no longer in the fleet go.
    std::string prefix = report_file_name(label, Format::modelcard);
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && std::find(written.begin(), written.end(), e.path()) == written.end()) std::filesystem::remove(e.path());
    }
  }
  std::sort(written.begin(), written.end());
  return written;
}

int exit_code(const json& doc, FailOn level) {
  std::string verdict = doc["verdict"].value("level", "pass");
  if (level == FailOn::never) return 0;
  if (verdict == "error") return to_int(ExitCode::verdict);
  if (verdict == "warn" && level == FailOn::warn) return to_int(ExitCode::verdict);
  return 0;
}

}  // namespace aiot::report
