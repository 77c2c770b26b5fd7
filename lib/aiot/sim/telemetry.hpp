#pragma once
// `aiot sim telemetry`: device telemetry of the simulated fleet for a window ending at the sim
// clock, written in the cloud export layouts (sim/export_writers.hpp), with planted defects and a
// ground-truth manifest, so the lineage audit and the governance report can be tested against
// known answers. docs/telemetry-generator.md describes the data, every defect class and how the
// audit is expected to count it.
//
// Output under OUT:
//   data/...               the telemetry files, in the layout of the format
//   truth/defects.jsonl    every planted defect instance: code, device, messageId, file, offset
//   truth/versions.jsonl   per device: the model versions it ran in the window, with their times
//   manifest.json          "aiot.telemetry-manifest/v1": parameters, files, totals, per class counts
// Everything is a pure function of the fleet, its install history and the spec: the same inputs
// give the same bytes.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/core/time.hpp"
#include "aiot/sim/profile.hpp"
#include "aiot/sim/store.hpp"

namespace aiot::hub::local {
class LocalHub;
}

namespace aiot::sim {

enum class ExportFormat { ndjson, csv, iothub_json, iothub_avro, aws_s3_json };
std::optional<ExportFormat> parse_export_format(std::string_view name);
std::string_view to_string(ExportFormat f);

// The classes of planted defects, with the audit check code that should find each.
enum class DefectClass {
  future_timestamp,  // TS002
  clock_skew,        // TS003
  out_of_order,      // TS004: the device clock steps back
  duplicate,         // TS005
  gap,               // TS006
  late_arrival,      // TS007
  missing_field,     // CMP001
  out_of_range,      // RNG001
  outlier,           // OUT001
  stuck_sensor,      // STK001
  unknown_schema,    // SCH001
  unregistered,      // REG001
  wrong_version,     // ATT002
  truncated_line,    // MAL001
  binary_blob,       // MAL001
};
struct DefectClassInfo {
  DefectClass id;
  const char* name;  // as in defect files and the manifest: "duplicate"
  const char* code;  // the audit's check code
  const char* unit;  // what one finding is: record, value, device, gap, run, line
  const char* per;   // what a rate is relative to: "record" or "device"
};
const std::vector<DefectClassInfo>& defect_classes();

// How many of a class to plant: an exact count, or a rate (per record, or per device for
// clock_skew and unregistered) turned into round(rate x base).
struct DefectAmount {
  double rate = 0;
  std::optional<std::size_t> count;
  bool operator==(const DefectAmount&) const = default;
};
using DefectSpec = std::map<DefectClass, DefectAmount>;

// Every class at `rate`; the per-device classes at 10 x rate, at least one device.
DefectSpec defects_at_rate(double rate);
// A YAML (or JSON) map: class name or code -> rate, or {count: N} / {rate: R}. Error::usage
// naming SOURCE:LINE:COL on a bad entry.
DefectSpec parse_defects(std::string_view yaml, std::string_view source);

// --drift FIELD:SHIFT[@FROM]: SHIFT is "+3sd" (the field's nominal sd, "sigma" and "σ" too) or a
// value in the field's unit ("+2.5"); FROM is an RFC 3339 time or "version=V". Without FROM, the
// whole window drifts.
struct DriftSpec {
  std::string field;
  double shift = 0;  // in sds when `in_sd`, else in the field's unit
  bool in_sd = true;
  std::optional<TimePoint> from;
  std::string version;
  std::string text;  // as given
};
DriftSpec parse_drift(std::string_view text);

// --bias KEY=VALUE[:STRENGTH] with KEY site, region or hw: the model's predictions are wrong more
// often in that segment (TPR x (1 - s), FPR + (1 - FPR) x s / 2; s defaults to 0.4).
struct BiasSpec {
  std::string key, value;
  double strength = 0.4;
  std::string text;
};
BiasSpec parse_bias(std::string_view text);

// What the generator needs of the fleet: read from the hub by load_fleet, or built by a test.
struct FleetDevice {
  std::string id, site, region, hw;
  std::string model_name;  // now
  std::string running;     // the version running now
  bool enabled = true;     // a disabled device still sends: the audit's REG002
};
struct FleetSnapshot {
  std::vector<FleetDevice> devices;  // ordered by id
  std::vector<InstallEvent> installs;
  std::vector<std::string> other_ids;  // hub devices that are not simulated (never used as senders)
  Profile profile;
  std::uint64_t seed = 1;
  TimePoint now{};
  std::optional<TimePoint> history_since;
};
// Settles an interrupted advance first, so the history is complete up to the sim clock.
FleetSnapshot load_fleet(hub::local::LocalHub& hub);

struct TelemetrySpec {
  std::filesystem::path out;
  ExportFormat format = ExportFormat::ndjson;
  std::optional<TimePoint> end;  // default: the fleet's now
  std::chrono::milliseconds window = std::chrono::hours(24);
  std::chrono::milliseconds interval = std::chrono::minutes(5);
  std::chrono::milliseconds batch = std::chrono::minutes(5);  // iothub and aws files: one per batch
  std::optional<std::uint64_t> seed;                          // default: the fleet's seed
  bool gzip = false;
  bool force = false;  // replace an earlier output in OUT
  DefectSpec defects;
  std::vector<DriftSpec> drifts;
  std::vector<BiasSpec> biases;
  std::filesystem::path labels;  // empty: none
  double label_rate = 0.1;
  std::string iothub = "aiot-sim";
};

struct TelemetryResult {
  nlohmann::json manifest;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::size_t files = 0;
  std::vector<std::string> warnings;
};

// Called as records are written: (records so far, records expected).
using TelemetryProgress = std::function<void(std::uint64_t, std::uint64_t)>;

// Error::usage for a bad spec (nothing written), Error::conflict when OUT holds an earlier
// output and `force` is off. On failure the partial data/ and truth/ are removed.
TelemetryResult write_telemetry(const FleetSnapshot& fleet, const TelemetrySpec& spec,
                                const TelemetryProgress& progress = {});

// The version a device ran at `t` according to the install history (the ground truth the
// generator writes into each record), given the version it runs now.
std::string version_at(const std::vector<InstallEvent>& device_installs, const std::string& running_now, TimePoint t);

}  // namespace aiot::sim
