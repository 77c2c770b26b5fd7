#pragma once
// Internal to the report: the section builders and the small helpers they share. A section is a
// JSON object the three renderers know how to draw:
//   {"id", "number", "title", "status": pass|warn|fail|n/a, "summary", "notes": [text],
//    "findings": [{"severity": error|warn|info, "text"}], "tables": [{"title", "columns", "rows"}],
//    "charts": [chart], "data": {...machine-readable numbers...}, "headline": {name: value}}
// Charts: {"type": "line", "title", "y_label", "y_max", "x": [labels], "series": [{"name", "values"}]}
//         {"type": "bar", "title", "unit", "bars": [{"label", "value", "lower", "upper", "status"}],
//          "thresholds": [{"value", "label"}]}
#include <optional>
#include <string>
#include <vector>

#include "aiot/report/report.hpp"

namespace aiot::report::detail {

// A number rounded to `digits` significant digits, so equal inputs print equal JSON everywhere.
json num(double v, int digits = 6);
json num(const std::optional<double>& v, int digits = 6);
json stat_json(const Stat& s, int digits = 6);
// Display text: "12.5%", "0.1234", "1,234".
std::string pct(double v, int decimals = 1);
std::string fixed(double v, int decimals = 3);
std::string count(std::int64_t v);
std::string stat_text(const Stat& s, bool percent = false, int decimals = 3);

json make_section(const std::string& id, const std::string& title);
void add_note(json& s, const std::string& text);
void add_finding(json& s, const std::string& severity, const std::string& text);
void add_table(json& s, const std::string& title, const std::vector<std::string>& columns, json rows);
// Raises the section's status (n/a < pass < warn < fail).
void raise(json& s, const std::string& status);
int status_rank(const std::string& status);
// A section without its inputs: says which and what would fill it.
void missing_inputs(json& s, const std::string& what);

// Registry helpers.
std::string tag(const hub::Device& d, const std::string& key);  // "" when absent
std::string model_name(const hub::Device& d);
std::string model_version(const hub::Device& d);  // reported aiot.model.version, else desired
std::optional<TimePoint> last_seen(const hub::Device& d);  // latest reported aiot.* ts

// The approved version of a model: the policy's, else the last rollout that SUCCEEDED.
std::string approved_version(const Inputs& in, const std::string& model);

json section_kpis(const Inputs& in);
json section_compliance(const Inputs& in);
json section_data_health(const Inputs& in);
json section_performance(const Inputs& in);
json section_drift(const Inputs& in);
json section_bias(const Inputs& in);
json section_cost(const Inputs& in);
json section_carbon(const Inputs& in);
json section_security(const Inputs& in);
// Reads the other sections' data (sections 2-10 in order).
json section_policy(const Inputs& in, const json& sections);
json section_evidence(const Inputs& in);
json section_summary(const Inputs& in, const json& sections);

// Usage per (site, model version) for cost and carbon, and how it was estimated.
struct UsageEstimate {
  std::vector<Usage> rows;  // sorted by site, version
  std::string method;       // "" when there is nothing to estimate from
};
UsageEstimate estimate_usage(const Inputs& in);

// Fills a profile-derived value (mean, median, p95, sum) of a field across model versions.
std::optional<double> field_value(const lineage::Profile& p, const std::string& field, const std::string& aggregate,
                                  std::uint64_t* n = nullptr);

}  // namespace aiot::report::detail
