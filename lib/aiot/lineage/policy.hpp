#pragma once
// What the audit checks and how strictly (lineage-governance.md §9.1): the catalogue of check
// codes with their default thresholds, the policy file that overrides them per device class, and
// the registry of versioned telemetry schemas (--schemas DIR). docs/lineage.md is the user's
// reference for both files.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::lineage {

enum class Check : std::uint8_t {
  TS001, TS002, TS003, TS004, TS005, TS006, TS007, FR001, CMP001, RNG001, OUT001, STK001, SCH001, DRF001,
  ATT001, ATT002, REG001, REG002, MAL001,
};
inline constexpr std::size_t k_check_count = 19;

enum class Severity : std::uint8_t { info, warn, error };
std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view s);

struct CheckInfo {
  Check check;
  std::string_view code;   // "TS001"
  std::string_view title;  // "timestamp unparseable or not UTC"
  Severity severity;       // when it finds something (multi-level checks: the lower level)
};
std::span<const CheckInfo> check_catalog();
const CheckInfo& info(Check c);
std::optional<Check> parse_check(std::string_view code);
inline std::size_t index(Check c) { return static_cast<std::size_t>(c); }

enum class OutlierMethod { hampel, robust_z, both, either };

struct ValueRange {
  std::optional<double> min, max;
  std::vector<std::string> allowed;  // enum of text values; empty = any
};

// The thresholds for one device class. Times in milliseconds, rates as fractions.
struct Thresholds {
  std::int64_t future_warn_ms = 5 * 60'000;      // TS002: device_ts > hub_ts + this
  std::int64_t future_error_ms = 3'600'000;
  std::int64_t skew_warn_ms = 30'000;            // TS003: |median(hub_ts - device_ts)| per device
  std::int64_t skew_error_ms = 5 * 60'000;
  std::int64_t duplicate_window_ms = 3'600'000;  // TS005: keys remembered for this span of device time
  std::int64_t interval_ms = 0;                  // TS006: expected interval; 0 = learned per device
  double gap_factor = 1.5;                       // TS006: a gap is Δt > factor × interval
  std::int64_t late_after_ms = 15 * 60'000;      // TS007: hub_ts - device_ts > this
  std::int64_t fresh_warn_ms = 3'600'000;        // FR001: window end - last hub_ts per device
  std::int64_t fresh_error_ms = 24 * 3'600'000LL;
  double missing_warn = 0.01;                    // CMP001: missing/null rate
  double missing_error = 0.05;
  // OUT001. The reference's Hampel k = 3 flags ~5 % of plain Gaussian noise (measured: a 7-sample
  // MAD is too noisy), so aiot's default window is 31 samples and both tests must agree (~0.4 %).
  OutlierMethod outlier_method = OutlierMethod::both;
  int hampel_k = 15;                                     // window 2k+1
  double hampel_nsigma = 3;
  double robust_z = 3.5;
  double outlier_warn_rate = 0.01;  // OUT001 is info below this rate, warn above
  int stuck_min_run = 10;           // STK001: equal consecutive samples
  double drift_warn = 0.1;          // DRF001: PSI
  double drift_error = 0.25;
  std::uint64_t drift_min_count = 100;
  std::int64_t install_window_ms = 45 * 60'000;  // ATT002: either version accepted this long after a dispatch
  std::map<std::string, ValueRange, std::less<>> ranges;  // RNG001 for fields no schema describes
  std::set<std::string, std::less<>> stuck_ignore;        // STK001 skips these fields
  std::set<std::string, std::less<>> outlier_ignore;      // OUT001 skips these fields
  std::array<bool, k_check_count> enabled{};              // all true by default (see Policy)
  std::array<std::optional<Severity>, k_check_count> severity{};  // fixed severity override

  Thresholds() { enabled.fill(true); }
};

class Policy {
 public:
  Thresholds defaults;
  std::map<std::string, Thresholds, std::less<>> classes;
  // Registry tags that name a device's class, first present wins.
  std::vector<std::string> class_tags = {"class", "hw"};

  const Thresholds& for_class(std::string_view device_class) const;

  // YAML (docs/lineage.md "Policy file"); Error::usage "origin:line:col: ..." on anything wrong.
  static Policy parse(const std::string& yaml, const std::string& origin);
  static Policy load(const std::filesystem::path& path);
};

// --- Telemetry schemas -------------------------------------------------------------------------

struct FieldSpec {
  std::string type;  // number | integer | string | boolean | any
  std::string unit;
  ValueRange range;
  bool required = false;
};

struct TelemetrySchema {
  std::string id;  // matched against the record's schema id
  std::map<std::string, FieldSpec, std::less<>> fields;
  std::map<std::string, std::int64_t, std::less<>> interval_ms;  // by device class; "default" for all
  std::string origin;  // the file it came from

  std::int64_t interval_for(std::string_view device_class) const;  // 0 when not given
};

class SchemaRegistry {
 public:
  bool empty() const { return by_id_.empty(); }
  std::size_t size() const { return by_id_.size(); }
  const TelemetrySchema* find(std::string_view id) const;
  void add(TelemetrySchema schema);  // Error::usage on a duplicate id
  std::vector<std::string> ids() const;

  // One schema document (YAML or JSON: {id, fields: {name: {type, unit, min, max, enum, required}},
  // interval: 60s | {default: 60s, CLASS: 30s}}); Error::usage with origin:line:col.
  static TelemetrySchema parse(const std::string& text, const std::string& origin);
  // Every *.yaml, *.yml, *.json in the folder (not recursive), sorted by name.
  static SchemaRegistry load_dir(const std::filesystem::path& dir);

 private:
  std::map<std::string, TelemetrySchema, std::less<>> by_id_;
};

}  // namespace aiot::lineage
