#include "aiot/lineage/policy.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/core/time.hpp"

namespace aiot::lineage {

namespace {

constexpr std::array<CheckInfo, k_check_count> k_catalog = {{
    {Check::TS001, "TS001", "device timestamp unparseable or not UTC", Severity::error},
    {Check::TS002, "TS002", "device timestamp in the future of the hub's", Severity::warn},
    {Check::TS003, "TS003", "device clock skew (median hub - device time)", Severity::warn},
    {Check::TS004, "TS004", "device timestamps going backwards", Severity::warn},
    {Check::TS005, "TS005", "duplicate messages", Severity::warn},
    {Check::TS006, "TS006", "gaps longer than the expected interval", Severity::warn},
    {Check::TS007, "TS007", "late or out-of-order arrival", Severity::warn},
    {Check::FR001, "FR001", "stale devices (freshness)", Severity::warn},
    {Check::CMP001, "CMP001", "missing or null fields", Severity::warn},
    {Check::RNG001, "RNG001", "values outside the schema's range or enum", Severity::error},
    {Check::OUT001, "OUT001", "outliers (Hampel / robust z)", Severity::info},
    {Check::STK001, "STK001", "stuck sensor (equal consecutive values)", Severity::warn},
    {Check::SCH001, "SCH001", "unknown schema version", Severity::error},
    {Check::DRF001, "DRF001", "drift against the baseline profile (PSI)", Severity::warn},
    {Check::ATT001, "ATT001", "no model version known for the record", Severity::warn},
    {Check::ATT002, "ATT002", "payload model version differs from the ledger", Severity::error},
    {Check::REG001, "REG001", "sender not in the registry", Severity::error},
    {Check::REG002, "REG002", "disabled or decommissioned device still sending", Severity::error},
    {Check::MAL001, "MAL001", "malformed records the readers could not use", Severity::warn},
}};

[[noreturn]] void bad(const std::string& origin, const YAML::Node& node, const std::string& what) {
  auto m = node.Mark();
  if (m.line >= 0) throw Error::usage(fmt::format("{}:{}:{}: {}", origin, m.line + 1, m.column + 1, what));
  throw Error::usage(fmt::format("{}: {}", origin, what));
}

std::string scalar(const YAML::Node& n, const std::string& origin, const std::string& path) {
  if (!n.IsScalar()) bad(origin, n, path + ": expected a value");
  return n.Scalar();
}

std::int64_t duration_ms(const YAML::Node& n, const std::string& origin, const std::string& path) {
  auto text = scalar(n, origin, path);
  auto d = parse_duration(text);
  if (!d) bad(origin, n, fmt::format("{}: '{}' is not a duration (90s, 15m, 4h, 7d)", path, text));
  return d->count();
}

double number(const YAML::Node& n, const std::string& origin, const std::string& path) {
  auto text = scalar(n, origin, path);
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  bad(origin, n, fmt::format("{}: '{}' is not a number", path, text));
}

// "1%", "0.01": a fraction.
double rate(const YAML::Node& n, const std::string& origin, const std::string& path) {
  auto text = scalar(n, origin, path);
  bool percent = !text.empty() && text.back() == '%';
  if (percent) text.pop_back();
  double v = 0;
  try {
    std::size_t used = 0;
    v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    bad(origin, n, fmt::format("{}: '{}' is not a rate (1% or 0.01)", path, n.Scalar()));
  }
  if (percent) v /= 100;
  if (v < 0 || v > 1) bad(origin, n, fmt::format("{}: a rate is between 0 and 100%", path));
  return v;
}

bool boolean(const YAML::Node& n, const std::string& origin, const std::string& path) {
  auto text = str::to_lower(scalar(n, origin, path));
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  bad(origin, n, path + ": expected true or false");
}

std::set<std::string, std::less<>> name_set(const YAML::Node& n, const std::string& origin, const std::string& path) {
  std::set<std::string, std::less<>> out;
  if (n.IsScalar()) {
    out.insert(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) bad(origin, n, path + ": expected a list of field names");
  for (const auto& item : n) out.insert(scalar(item, origin, path));
  return out;
}

void expect_keys(const YAML::Node& map, const std::string& origin, const std::string& path,
                 std::initializer_list<std::string_view> keys) {
  if (!map.IsMap()) bad(origin, map, path + ": expected a mapping");
  for (const auto& kv : map) {
    auto key = kv.first.Scalar();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::vector<std::string> names(keys.begin(), keys.end());
      bad(origin, kv.first, fmt::format("{}: unknown key '{}' (known: {})", path, key, str::join(names, ", ")));
    }
  }
}

ValueRange parse_range(const YAML::Node& n, const std::string& origin, const std::string& path) {
  ValueRange r;
  if (n.IsSequence()) {  // [min, max]
    if (n.size() != 2) bad(origin, n, path + ": a range is [min, max]");
    r.min = number(n[0], origin, path + "[0]");
    r.max = number(n[1], origin, path + "[1]");
  } else {
    expect_keys(n, origin, path, {"min", "max", "enum"});
    if (n["min"]) r.min = number(n["min"], origin, path + ".min");
    if (n["max"]) r.max = number(n["max"], origin, path + ".max");
    if (n["enum"]) {
      if (!n["enum"].IsSequence()) bad(origin, n["enum"], path + ".enum: expected a list");
      for (const auto& v : n["enum"]) r.allowed.push_back(scalar(v, origin, path + ".enum"));
    }
  }
  if (r.min && r.max && *r.min > *r.max) bad(origin, n, path + ": min is above max");
  return r;
}

// One check's settings: {severity, enabled, ...its thresholds}.
void apply_check(Thresholds& t, Check c, const YAML::Node& n, const std::string& origin, const std::string& path) {
  if (n.IsScalar()) {  // "TS004: off" / "TS004: error"
    auto v = str::to_lower(n.Scalar());
    if (auto s = parse_severity(v)) {
      t.severity[index(c)] = s;
      return;
    }
    t.enabled[index(c)] = boolean(n, origin, path);
    return;
  }
  if (!n.IsMap()) bad(origin, n, path + ": expected a mapping, a severity or on/off");
  for (const auto& kv : n) {
    const auto key = kv.first.Scalar();
    const auto& v = kv.second;
    const auto p = path + "." + key;
    if (key == "severity") {
      auto s = parse_severity(str::to_lower(scalar(v, origin, p)));
      if (!s) bad(origin, v, p + ": severity is info, warn or error");
      t.severity[index(c)] = s;
      continue;
    }
    if (key == "enabled") {
      t.enabled[index(c)] = boolean(v, origin, p);
      continue;
    }
    bool known = true;
    switch (c) {
      case Check::TS002:
        if (key == "warn") t.future_warn_ms = duration_ms(v, origin, p);
        else if (key == "error") t.future_error_ms = duration_ms(v, origin, p);
        else known = false;
        break;
      case Check::TS003:
        if (key == "warn") t.skew_warn_ms = duration_ms(v, origin, p);
        else if (key == "error") t.skew_error_ms = duration_ms(v, origin, p);
        else known = false;
        break;
      case Check::TS005:
        if (key == "window") t.duplicate_window_ms = duration_ms(v, origin, p);
        else known = false;
        break;
      case Check::TS006:
        if (key == "interval") t.interval_ms = scalar(v, origin, p) == "auto" ? 0 : duration_ms(v, origin, p);
        else if (key == "factor") {
          t.gap_factor = number(v, origin, p);
          if (t.gap_factor < 1) bad(origin, v, p + ": the factor is at least 1");
        } else known = false;
        break;
      case Check::TS007:
        if (key == "late_after") t.late_after_ms = duration_ms(v, origin, p);
        else known = false;
        break;
      case Check::FR001:
        if (key == "warn") t.fresh_warn_ms = duration_ms(v, origin, p);
        else if (key == "error") t.fresh_error_ms = duration_ms(v, origin, p);
        else known = false;
        break;
      case Check::CMP001:
        if (key == "warn") t.missing_warn = rate(v, origin, p);
        else if (key == "error") t.missing_error = rate(v, origin, p);
        else known = false;
        break;
      case Check::RNG001:
        if (key == "ranges") {
          if (!v.IsMap()) bad(origin, v, p + ": expected field: {min, max, enum}");
          for (const auto& f : v) t.ranges[f.first.Scalar()] = parse_range(f.second, origin, p + "." + f.first.Scalar());
        } else known = false;
        break;
      case Check::OUT001:
        if (key == "method") {
          auto m = scalar(v, origin, p);
          if (m == "hampel") t.outlier_method = OutlierMethod::hampel;
          else if (m == "robust-z") t.outlier_method = OutlierMethod::robust_z;
          else if (m == "both") t.outlier_method = OutlierMethod::both;
          else if (m == "either") t.outlier_method = OutlierMethod::either;
          else bad(origin, v, p + ": method is hampel, robust-z, both or either");
        } else if (key == "k") {
          double k = number(v, origin, p);
          if (k < 1 || k > 50 || k != std::floor(k)) bad(origin, v, p + ": k is a whole number from 1 to 50");
          t.hampel_k = static_cast<int>(k);
        } else if (key == "nsigma") t.hampel_nsigma = number(v, origin, p);
        else if (key == "z") t.robust_z = number(v, origin, p);
        else if (key == "warn_rate") t.outlier_warn_rate = rate(v, origin, p);
        else if (key == "ignore") t.outlier_ignore = name_set(v, origin, p);
        else known = false;
        break;
      case Check::STK001:
        if (key == "min_run") {
          double n = number(v, origin, p);
          if (n < 2 || n != std::floor(n)) bad(origin, v, p + ": min_run is a whole number of at least 2");
          t.stuck_min_run = static_cast<int>(n);
        } else if (key == "ignore") t.stuck_ignore = name_set(v, origin, p);
        else known = false;
        break;
      case Check::DRF001:
        if (key == "warn") t.drift_warn = number(v, origin, p);
        else if (key == "error") t.drift_error = number(v, origin, p);
        else if (key == "min_count") t.drift_min_count = static_cast<std::uint64_t>(number(v, origin, p));
        else known = false;
        break;
      case Check::ATT002:
        if (key == "install_window") t.install_window_ms = duration_ms(v, origin, p);
        else known = false;
        break;
      default: known = false;
    }
    if (!known) bad(origin, kv.first, fmt::format("{}: unknown setting '{}' for {}", path, key, info(c).code));
  }
}

void apply_checks(Thresholds& t, const YAML::Node& n, const std::string& origin, const std::string& path) {
  if (!n.IsMap()) bad(origin, n, path + ": expected CODE: {settings}");
  for (const auto& kv : n) {
    auto code = kv.first.Scalar();
    if (code == "ranges") {  // shorthand for RNG001.ranges
      if (!kv.second.IsMap()) bad(origin, kv.second, path + ".ranges: expected field: {min, max, enum}");
      for (const auto& f : kv.second)
        t.ranges[f.first.Scalar()] = parse_range(f.second, origin, path + ".ranges." + f.first.Scalar());
      continue;
    }
    auto c = parse_check(code);
    if (!c) bad(origin, kv.first, fmt::format("{}: unknown check '{}' (TS001..TS007, FR001, CMP001, RNG001, OUT001, STK001, "
                                              "SCH001, DRF001, ATT001, ATT002, REG001, REG002, MAL001)",
                                              path, code));
    apply_check(t, *c, kv.second, origin, path + "." + code);
  }
}

}  // namespace

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warn: return "warn";
    case Severity::error: return "error";
  }
  return "?";
}

std::optional<Severity> parse_severity(std::string_view s) {
  if (s == "info") return Severity::info;
  if (s == "warn" || s == "warning") return Severity::warn;
  if (s == "error") return Severity::error;
  return std::nullopt;
}

std::span<const CheckInfo> check_catalog() { return k_catalog; }
const CheckInfo& info(Check c) { return k_catalog[index(c)]; }

std::optional<Check> parse_check(std::string_view code) {
  auto upper = str::to_upper(code);
  for (const auto& ci : k_catalog)
    if (ci.code == upper) return ci.check;
  return std::nullopt;
}

const Thresholds& Policy::for_class(std::string_view device_class) const {
  if (auto it = classes.find(device_class); it != classes.end()) return it->second;
  return defaults;
}

Policy Policy::parse(const std::string& yaml, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  Policy p;
  if (!root || root.IsNull()) return p;
  expect_keys(root, origin, "policy", {"apiVersion", "kind", "checks", "classes", "class_tags"});
  if (root["kind"] && root["kind"].Scalar() != "AuditPolicy")
    bad(origin, root["kind"], "kind: expected AuditPolicy");
  if (root["class_tags"]) {
    auto tags = root["class_tags"];
    p.class_tags.clear();
    if (tags.IsScalar()) p.class_tags.push_back(tags.Scalar());
    else if (tags.IsSequence())
      for (const auto& t : tags) p.class_tags.push_back(scalar(t, origin, "class_tags"));
    else bad(origin, tags, "class_tags: expected a tag name or a list of them");
  }
  if (root["checks"]) apply_checks(p.defaults, root["checks"], origin, "checks");
  if (auto classes = root["classes"]) {
    if (!classes.IsMap()) bad(origin, classes, "classes: expected CLASS: {CODE: {settings}}");
    for (const auto& kv : classes) {
      Thresholds t = p.defaults;  // a class starts from the fleet-wide settings
      if (!kv.second.IsNull()) apply_checks(t, kv.second, origin, "classes." + kv.first.Scalar());
      p.classes[kv.first.Scalar()] = std::move(t);
    }
  }
  return p;
}

Policy Policy::load(const std::filesystem::path& path) {
  std::string text;
  try {
    text = fs::read_file(path);
  } catch (const Error& e) {
    throw Error::usage(fmt::format("cannot read the policy {}: {}", path.string(), e.message()));
  }
  return parse(text, path.string());
}

// --- schemas -------------------------------------------------------------------------------------

std::int64_t TelemetrySchema::interval_for(std::string_view device_class) const {
  if (auto it = interval_ms.find(device_class); it != interval_ms.end()) return it->second;
  if (auto it = interval_ms.find("default"); it != interval_ms.end()) return it->second;
  return 0;
}

const TelemetrySchema* SchemaRegistry::find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

void SchemaRegistry::add(TelemetrySchema schema) {
  if (auto* other = find(schema.id))
    throw Error::usage(fmt::format("{}: schema '{}' is also defined in {}", schema.origin, schema.id, other->origin));
  auto id = schema.id;
  by_id_.emplace(std::move(id), std::move(schema));
}

std::vector<std::string> SchemaRegistry::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : by_id_) out.push_back(id);
  return out;
}

TelemetrySchema SchemaRegistry::parse(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);  // JSON is YAML
  } catch (const YAML::Exception& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root || !root.IsMap()) throw Error::usage(fmt::format("{}: a schema is a mapping with id and fields", origin));
  // expectedIntervalMs and decimals: the shape of `aiot sim telemetry`'s manifest telemetrySchema.
  expect_keys(root, origin, "schema", {"id", "version", "description", "fields", "interval", "expectedIntervalMs", "$schema", "title"});
  TelemetrySchema s;
  s.origin = origin;
  if (!root["id"]) bad(origin, root, "schema: 'id' is required (the schema id records carry)");
  s.id = scalar(root["id"], origin, "id");
  if (auto fields = root["fields"]) {
    if (!fields.IsMap()) bad(origin, fields, "fields: expected NAME: {type, unit, min, max, enum, required}");
    for (const auto& kv : fields) {
      const auto name = kv.first.Scalar();
      const auto path = "fields." + name;
      FieldSpec f;
      const auto& n = kv.second;
      expect_keys(n, origin, path, {"type", "unit", "min", "max", "enum", "required", "description", "decimals"});
      if (n["type"]) {
        f.type = scalar(n["type"], origin, path + ".type");
        if (f.type != "number" && f.type != "integer" && f.type != "string" && f.type != "boolean" && f.type != "any")
          bad(origin, n["type"], path + ".type: number, integer, string, boolean or any");
      }
      if (n["unit"]) f.unit = scalar(n["unit"], origin, path + ".unit");
      if (n["min"]) f.range.min = number(n["min"], origin, path + ".min");
      if (n["max"]) f.range.max = number(n["max"], origin, path + ".max");
      if (f.range.min && f.range.max && *f.range.min > *f.range.max) bad(origin, n, path + ": min is above max");
      if (n["enum"]) {
        if (!n["enum"].IsSequence()) bad(origin, n["enum"], path + ".enum: expected a list");
        for (const auto& v : n["enum"]) f.range.allowed.push_back(scalar(v, origin, path + ".enum"));
      }
      if (n["required"]) f.required = boolean(n["required"], origin, path + ".required");
      s.fields[name] = std::move(f);
    }
  }
  if (auto ms = root["expectedIntervalMs"]) s.interval_ms["default"] = static_cast<std::int64_t>(number(ms, origin, "expectedIntervalMs"));
  if (auto iv = root["interval"]) {
    if (iv.IsScalar()) s.interval_ms["default"] = duration_ms(iv, origin, "interval");
    else if (iv.IsMap())
      for (const auto& kv : iv) s.interval_ms[kv.first.Scalar()] = duration_ms(kv.second, origin, "interval." + kv.first.Scalar());
    else bad(origin, iv, "interval: a duration, or CLASS: duration");
  }
  return s;
}

SchemaRegistry SchemaRegistry::load_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error::usage(fmt::format("--schemas {}: not a folder", dir.string()),
                       "Give a folder of schema files (*.yaml, *.json), one schema each.");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  SchemaRegistry reg;
  for (const auto& f : files) reg.add(parse(fs::read_file(f), f.string()));
  return reg;
}

}  // namespace aiot::lineage
