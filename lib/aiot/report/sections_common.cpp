// Helpers shared by the section builders, the KPI section, and the usage estimate that cost and
// carbon share.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "aiot/report/sections.hpp"

namespace aiot::report::detail {

json num(double v, int digits) {
  if (!std::isfinite(v)) return nullptr;
  if (v == 0) return 0;
  if (std::floor(v) == v && std::fabs(v) < 1e15) return static_cast<std::int64_t>(v);
  return std::stod(fmt::format("{:.{}g}", v, digits));
}

json num(const std::optional<double>& v, int digits) { return v ? num(*v, digits) : json(nullptr); }

json stat_json(const Stat& s, int digits) {
  json j = {{"value", num(s.value, digits)}};
  if (s.ci) j["ci"] = {num(s.ci->lower, digits), num(s.ci->upper, digits)};
  if (!s.missing.empty()) j["missing"] = s.missing;
  return j;
}

std::string pct(double v, int decimals) { return fmt::format("{:.{}f}%", v * 100.0, decimals); }
std::string fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

std::string count(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string stat_text(const Stat& s, bool percent, int decimals) {
  if (!s.value) return s.missing.empty() ? "—" : s.missing;
  auto f = [&](double v) { return percent ? pct(v, decimals > 2 ? 1 : decimals) : fixed(v, decimals); };
  std::string out = f(*s.value);
  if (s.ci) out += fmt::format(" [{}, {}]", f(s.ci->lower), f(s.ci->upper));
  return out;
}

json make_section(const std::string& id, const std::string& title) {
  return {{"id", id},
          {"title", title},
          {"status", "n/a"},
          {"summary", ""},
          {"notes", json::array()},
          {"findings", json::array()},
          {"tables", json::array()},
          {"charts", json::array()},
          {"data", json::object()},
          {"headline", json::object()}};
}

void add_note(json& s, const std::string& text) { s["notes"].push_back(text); }

void add_finding(json& s, const std::string& severity, const std::string& text) {
  s["findings"].push_back({{"severity", severity}, {"text", text}});
  raise(s, severity == "error" ? "fail" : severity == "warn" ? "warn" : "pass");
}

void add_table(json& s, const std::string& title, const std::vector<std::string>& columns, json rows) {
  s["tables"].push_back({{"title", title}, {"columns", columns}, {"rows", std::move(rows)}});
}

int status_rank(const std::string& status) {
  if (status == "fail") return 3;
  if (status == "warn") return 2;
  if (status == "pass") return 1;
  return 0;
}

void raise(json& s, const std::string& status) {
  if (status_rank(status) > status_rank(s.value("status", "n/a"))) s["status"] = status;
}

void missing_inputs(json& s, const std::string& what) {
  s["status"] = "n/a";
  s["summary"] = "Not assessed: " + what;
}

std::string tag(const hub::Device& d, const std::string& key) {
  if (d.tags.is_object() && d.tags.contains(key)) {
    const auto& v = d.tags[key];
    return v.is_string() ? v.get<std::string>() : v.dump();
  }
  return "";
}

namespace {
const json* aiot_model(const json& props) {
  if (props.is_object() && props.contains("aiot") && props["aiot"].is_object() && props["aiot"].contains("model") &&
      props["aiot"]["model"].is_object())
    return &props["aiot"]["model"];
  return nullptr;
}
}  // namespace

std::string model_name(const hub::Device& d) {
  for (const json* m : {aiot_model(d.reported), aiot_model(d.desired)}) {
    if (m && m->contains("name") && (*m)["name"].is_string()) return (*m)["name"].get<std::string>();
  }
  return "";
}

std::string model_version(const hub::Device& d) {
  for (const json* m : {aiot_model(d.reported), aiot_model(d.desired)}) {
    if (m && m->contains("version") && (*m)["version"].is_string()) return (*m)["version"].get<std::string>();
  }
  return "";
}

std::optional<TimePoint> last_seen(const hub::Device& d) {
  std::optional<TimePoint> latest;
  if (!d.reported.is_object() || !d.reported.contains("aiot") || !d.reported["aiot"].is_object()) return latest;
  for (const auto& [key, value] : d.reported["aiot"].items()) {
    if (value.is_object() && value.contains("ts") && value["ts"].is_string()) {
      if (auto t = parse_rfc3339(value["ts"].get<std::string>()); t && (!latest || *t > *latest)) latest = t;
    }
  }
  return latest;
}

std::string approved_version(const Inputs& in, const std::string& model) {
  if (auto it = in.policy.models.find(model); it != in.policy.models.end() && !it->second.approved.empty())
    return it->second.approved;
  // The target of the latest rollout that succeeded (journal events are in time order per file).
  std::string version;
  TimePoint when{};
  for (const auto& j : in.journals) {
    std::string target;
    for (const auto& e : j.events) {
      if (e.value("op", "") == "PLANNED") target = e.value("target", "");
      if (e.value("op", "") == "SUCCEEDED") {
        auto t = parse_rfc3339(e.value("ts", ""));
        if (t && *t < in.period.to && (version.empty() || *t >= when)) {
          version = target;
          when = *t;
        }
      }
    }
  }
  return version;
}

std::optional<double> field_value(const lineage::Profile& p, const std::string& field, const std::string& aggregate,
                                  std::uint64_t* n) {
  lineage::FieldProfile merged;
  bool any = false;
  for (const auto& [version, model] : p.models) {
    auto it = model.fields.find(field);
    if (it == model.fields.end()) continue;
    merged.merge(it->second);
    any = true;
  }
  if (!any || merged.numbers == 0) return std::nullopt;
  if (n) *n = merged.numbers;
  if (aggregate == "mean") return merged.moments.mean;
  if (aggregate == "sum") return merged.moments.mean * static_cast<double>(merged.moments.n);
  if (aggregate == "median") return merged.quantiles.quantile(0.5);
  if (aggregate == "p95") return merged.quantiles.quantile(0.95);
  return std::nullopt;
}

// ---- 2. KPIs ------------------------------------------------------------------------------

namespace {

struct Target {
  enum class Kind { relative, at_most, at_least, none } kind = Kind::none;
  double value = 0;
};

Target parse_target(const std::string& text) {
  Target t;
  std::string s = text;
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  if (s.empty()) return t;
  try {
    if (s.rfind("<=", 0) == 0) return {Target::Kind::at_most, std::stod(s.substr(2))};
    if (s.rfind(">=", 0) == 0) return {Target::Kind::at_least, std::stod(s.substr(2))};
    if (s.back() == '%') return {Target::Kind::relative, std::stod(s.substr(0, s.size() - 1)) / 100.0};
    return {Target::Kind::at_least, std::stod(s)};
  } catch (const std::logic_error&) {
    return t;
  }
}

}  // namespace

json section_kpis(const Inputs& in) {
  json s = make_section("kpis", "KPIs by use case");
  if (in.policy.use_cases.empty()) {
    missing_inputs(s, "the policy declares no use cases (useCases: name, kpi, field, baseline, target).");
    return s;
  }
  json rows = json::array();
  json data = json::array();
  int met = 0, measured = 0;
  for (const auto& uc : in.policy.use_cases) {
    std::optional<double> value;
    std::uint64_t n = 0;
    std::string source;
    if (!uc.field.empty() && in.profile) {
      value = field_value(*in.profile, uc.field, uc.aggregate, &n);
      source = fmt::format("{} of telemetry field {} (n = {})", uc.aggregate, uc.field, count(static_cast<std::int64_t>(n)));
    }
    Target target = parse_target(uc.target);
    std::optional<double> goal;
    if (target.kind == Target::Kind::relative && uc.baseline) goal = *uc.baseline * (1.0 + target.value);
    if (target.kind == Target::Kind::at_most || target.kind == Target::Kind::at_least) goal = target.value;
    std::string status = "n/a", change = "—";
    if (value) {
      ++measured;
      if (uc.baseline && *uc.baseline != 0) change = fmt::format("{:+.1f}%", (*value - *uc.baseline) / std::fabs(*uc.baseline) * 100.0);
      bool lower_is_better = (target.kind == Target::Kind::relative && target.value < 0) || target.kind == Target::Kind::at_most;
      if (goal) {
        bool ok = lower_is_better ? *value <= *goal : *value >= *goal;
        status = ok ? "pass" : "warn";
        if (ok) ++met;
      }
    } else {
      source = uc.field.empty() ? "no field named" : fmt::format("field {} is not in the period's profile", uc.field);
    }
    raise(s, status);
    rows.push_back({uc.name, uc.kpi, uc.baseline ? fixed(*uc.baseline, 2) : "—", uc.target.empty() ? "—" : uc.target,
                    goal ? fixed(*goal, 2) : "—", value ? fixed(*value, 2) : "not measured", change, status, source});
    data.push_back({{"name", uc.name},
                    {"kpi", uc.kpi},
                    {"field", uc.field},
                    {"aggregate", uc.aggregate},
                    {"baseline", num(uc.baseline)},
                    {"target", uc.target},
                    {"goal", num(goal)},
                    {"measured", num(value)},
                    {"n", n},
                    {"status", status},
                    {"successCriteria", uc.success_criteria},
                    {"riskThresholds", uc.risk_thresholds},
                    {"exitConditions", uc.exit_conditions}});
    if (value && status == "warn") add_finding(s, "warn", fmt::format("{}: {} is {} against a goal of {}", uc.name, uc.kpi, fixed(*value, 2), goal ? fixed(*goal, 2) : "—"));
  }
  add_table(s, "Use cases", {"Use case", "KPI", "Baseline", "Target", "Goal", "Measured", "Change", "Status", "Measured from"}, rows);
  json criteria = json::array();
  for (const auto& uc : in.policy.use_cases) {
    criteria.push_back({uc.name, uc.success_criteria.empty() ? "—" : uc.success_criteria,
                        uc.risk_thresholds.empty() ? "—" : uc.risk_thresholds, uc.exit_conditions.empty() ? "—" : uc.exit_conditions});
  }
  add_table(s, "Success criteria, risk thresholds and exit conditions", {"Use case", "Success criteria", "Risk thresholds", "Exit conditions"}, criteria);
  s["data"] = {{"useCases", data}};
  s["summary"] = fmt::format("{} of {} use cases measured; {} meet their target.", measured, in.policy.use_cases.size(), met);
  s["headline"] = {{"use cases meeting target", met}};
  if (measured == 0) s["status"] = "n/a";
  return s;
}

// ---- usage (cost and carbon) ----------------------------------------------------------------

UsageEstimate estimate_usage(const Inputs& in) {
  UsageEstimate out;
  if (!in.devices || in.devices->empty()) return out;
  // Devices per (site, version) from the registry: the weights that spread a version's counts.
  std::map<std::pair<std::string, std::string>, std::int64_t> devices;
  std::map<std::string, std::int64_t> per_version;
  std::map<std::pair<std::string, std::string>, double> latest_rate;  // Σ inferences in the latest hourly report
  for (const auto& d : *in.devices) {
    std::string site = tag(d, "site");
    std::string v = model_version(d);
    if (site.empty()) site = "(no site)";
    ++devices[{site, v}];
    ++per_version[v];
    if (d.reported.contains("aiot") && d.reported["aiot"].contains("health") && d.reported["aiot"]["health"].contains("inferences")) {
      latest_rate[{site, v}] += d.reported["aiot"]["health"]["inferences"].get<double>();
    }
  }
  double hours = static_cast<double>(in.period.length().count());
  bool from_profile = in.profile && in.profile->records > 0;
  for (const auto& [key, n] : devices) {
    Usage u;
    u.site = key.first;
    u.model_version = key.second;
    double share = per_version[key.second] > 0 ? static_cast<double>(n) / static_cast<double>(per_version[key.second]) : 0;
    if (from_profile) {
      auto it = in.profile->models.find(key.second);
      if (it != in.profile->models.end()) {
        u.messages = std::llround(static_cast<double>(it->second.records) * share);
        auto f = it->second.fields.find("inferences");
        if (f != it->second.fields.end() && f->second.numbers > 0)
          u.inferences = std::llround(f->second.moments.mean * static_cast<double>(f->second.moments.n) * share);
      }
    } else {
      u.inferences = std::llround(latest_rate[key] * hours);
      u.messages = std::llround(static_cast<double>(n) * hours);  // one report an hour
    }
    double bytes = in.policy.bytes_per_message;
    if (from_profile && in.profile->records > 0 && in.profile->bytes > 0)
      bytes = static_cast<double>(in.profile->bytes) / static_cast<double>(in.profile->records);
    u.message_blocks = u.messages * billable_blocks(static_cast<std::int64_t>(std::llround(bytes)), static_cast<std::int64_t>(in.policy.unit_bytes));
    u.compute_hours = static_cast<double>(n) * hours;
    u.storage_gb_months = static_cast<double>(u.messages) * bytes / 1e9 * (hours / 730.0);
    out.rows.push_back(u);
  }
  out.method = from_profile ? "messages and inferences of the period's audit profile per model version, spread over sites by the registry's device counts"
                            : "the registry's latest hourly health report (inferences) × period hours; one message per device-hour";
  return out;
}

}  // namespace aiot::report::detail
