// audit.json, "schema": "aiot.audit/v1": GX-like statistics, one entry per check with Soda/dbt-like
// outcome and severity and Pecos-like runs, scores per device and per model version, and the
// inputs with their content hashes. Keys are sorted (nlohmann's map), times RFC 3339 UTC.
#include <cmath>

#include <fmt/format.h>

#include "aiot/core/time.hpp"
#include "aiot/lineage/audit.hpp"

namespace aiot::lineage {

namespace {

using json = nlohmann::json;

json when(std::optional<std::int64_t> ms) {
  if (!ms) return nullptr;
  return format_rfc3339(TimePoint(std::chrono::milliseconds(*ms)));
}

double round6(double x) { return std::round(x * 1e6) / 1e6; }

std::string_view fail_on_name(FailOn f) {
  switch (f) {
    case FailOn::error: return "error";
    case FailOn::warn: return "warn";
    case FailOn::never: return "never";
  }
  return "error";
}

}  // namespace

std::string location(const AuditResult& result, std::uint32_t input, std::uint64_t offset) {
  const std::string& name = input < result.inputs.size() ? result.inputs[input].name : std::string("?");
  return fmt::format("{}:{}", name, offset);
}

json to_json(const AuditResult& r, const AuditJsonOptions& o) {
  json checks = json::array();
  std::size_t evaluated = 0, successful = 0;
  for (const auto& c : r.checks) {
    const auto& ci = info(c.check);
    auto outcome = c.outcome();
    json j = {{"code", ci.code},
              {"title", ci.title},
              {"severity", to_string(c.severity.value_or(ci.severity))},
              {"outcome", to_string(outcome)},
              {"unit", c.unit},
              {"expected", c.expected},
              {"actual", c.actual},
              {"count", c.count},
              {"errors", c.errors},
              {"denominator", c.denominator},
              {"rate", round6(c.rate())},
              {"runs_total", c.runs_total}};
    if (!c.evaluated) j["skipped_reason"] = c.skipped_reason;
    else {
      ++evaluated;
      if (outcome == Outcome::pass || outcome == Outcome::info) ++successful;
    }
    json runs = json::array();
    for (const auto& run : c.runs)
      runs.push_back({{"device", run.device}, {"start", when(run.start_ms)}, {"end", when(run.end_ms)}, {"n", run.n}});
    j["runs"] = std::move(runs);
    json examples = json::array();
    const bool located = c.check != Check::TS003 && c.check != Check::FR001 && c.check != Check::DRF001;
    for (const auto& e : c.examples) {
      json x = {{"device", e.device}, {"detail", e.detail}};
      if (located) {
        x["at"] = location(r, e.input, e.offset);
        x["input"] = e.input < r.inputs.size() ? r.inputs[e.input].name : "";
        x["offset"] = e.offset;
      }
      examples.push_back(std::move(x));
    }
    j["examples"] = std::move(examples);
    checks.push_back(std::move(j));
  }

  std::uint64_t unregistered = 0;
  for (const auto& d : r.devices)
    if (r.with_registry && !d.registered) ++unregistered;
  std::uint64_t bytes = 0;
  std::size_t failed_inputs = 0;
  for (const auto& in : r.inputs) {
    bytes += in.bytes;
    if (!in.error.empty()) ++failed_inputs;
  }
  json stats = {
      {"evaluated_checks", evaluated},
      {"successful_checks", successful},
      {"unsuccessful_checks", evaluated - successful},
      {"success_percent", evaluated ? round6(100.0 * static_cast<double>(successful) / static_cast<double>(evaluated)) : 100.0},
      {"records_read", r.stats.records_read},
      {"records", r.stats.records},
      {"duplicates", r.stats.duplicates},
      {"outside_window", r.stats.outside_window},
      {"malformed", r.stats.malformed},
      {"bytes", bytes},
      {"inputs", r.inputs.size()},
      {"failed_inputs", failed_inputs},
      {"devices", r.devices.size()},
      {"registered_devices", r.registered_devices},
      {"unregistered_senders", unregistered},
      {"fields", r.stats.fields},
      {"model_versions", r.models.size()},
      {"first_hub_time", when(r.stats.min_hub_ms)},
      {"last_hub_time", when(r.stats.max_hub_ms)},
      {"seconds", round6(r.seconds)},
      {"mb_per_s", r.seconds > 0 ? round6(static_cast<double>(bytes) / 1e6 / r.seconds) : 0.0},
  };

  json malformed = json::array();
  for (const auto& m : r.malformed_examples)
    malformed.push_back({{"at", location(r, m.input, m.offset)}, {"offset", m.offset}, {"reason", m.reason}});

  json models = json::array();
  for (const auto& m : r.models)
    models.push_back({{"version", m.version.empty() ? json(nullptr) : json(m.version)},
                      {"records", m.records},
                      {"devices", m.devices},
                      {"flagged", m.flagged},
                      {"mismatches", m.mismatches},
                      {"score", round6(m.score())}});

  json inputs = json::array();
  for (const auto& in : r.inputs) {
    json j = {{"name", in.name},       {"version", in.version}, {"sha256", in.sha256},   {"format", in.format},
              {"bytes", in.bytes},     {"records", in.records}, {"malformed", in.malformed}};
    if (in.size) j["size"] = *in.size;
    if (!in.error.empty()) j["error"] = in.error;
    inputs.push_back(std::move(j));
  }

  auto worst = r.worst();
  json out = {
      {"schema", k_audit_schema},
      {"tool", {{"name", "aiot"}, {"version", o.aiot_version}}},
      {"window", {{"from", when(r.window_from_ms)}, {"to", when(r.window_to_ms)}}},
      {"verdict", to_string(worst)},
      {"fail_on", fail_on_name(o.fail_on)},
      {"failed", r.fails(o.fail_on)},
      {"statistics", std::move(stats)},
      {"checks", std::move(checks)},
      {"malformed", {{"count", r.stats.malformed}, {"examples", std::move(malformed)}}},
      {"models", std::move(models)},
      {"inputs", std::move(inputs)},
  };
  if (!o.run_id.empty()) out["run_id"] = o.run_id;
  if (o.with_devices) {
    json devices = json::array();
    for (const auto& d : r.devices) {
      json j = {{"id", d.id},
                {"class", d.device_class},
                {"registered", d.registered},
                {"records", d.records},
                {"duplicates", d.duplicates},
                {"flagged", std::min(d.flagged, d.records)},
                {"score", round6(d.score())},
                {"missing", d.missing},
                {"completeness", d.records + d.missing ? round6(static_cast<double>(d.records) / static_cast<double>(d.records + d.missing)) : 1.0},
                {"interval_ms", d.interval_ms},
                {"first", d.records ? when(d.first_ms) : json(nullptr)},
                {"last", d.records ? when(d.last_ms) : json(nullptr)},
                {"versions", d.versions}};
      j["skew_ms"] = d.skew_ms ? json(*d.skew_ms) : json(nullptr);
      devices.push_back(std::move(j));
    }
    out["devices"] = std::move(devices);
  }
  return out;
}

}  // namespace aiot::lineage
