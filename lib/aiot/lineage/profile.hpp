#pragma once
// profile.json: the mergeable summary of an audit ("schema": "aiot.profile/v1"). Per (model
// version, field) a FieldProfile of sketches; a devices HLL; counts per device class and per model
// version. Keyed so that the profiles of two shards of an export merge into the profile of the
// union (`aiot lineage merge`), and so that a baseline profile can be compared field by field with
// a current one (DRF001, governance report).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "aiot/lineage/record.hpp"
#include "aiot/lineage/sketch.hpp"

namespace aiot::lineage {

inline constexpr std::string_view k_profile_schema = "aiot.profile/v1";

// One payload field of one model version.
struct FieldProfile {
  std::uint64_t count = 0;     // records where the field had a value (number, boolean or text)
  std::uint64_t nulls = 0;     // present as JSON null
  std::uint64_t missing = 0;   // absent from a record whose schema expects it (the audit decides)
  std::uint64_t numbers = 0;   // values of kind number or boolean (fed to moments and quantiles)
  std::uint64_t texts = 0;     // values of kind text (fed to top_text)
  Moments moments;
  KllSketch quantiles;
  HllSketch distinct;          // over numbers (their bit pattern) and texts
  FrequentItems top_text;

  // Adds one value: numbers/booleans to moments + quantiles + distinct, text to top_text +
  // distinct, null to nulls.
  void add(const Field& field);
  void add_number(double x);
  void add_text(std::string_view text);
  void add_null() { ++nulls; }
  void add_missing() { ++missing; }
  void merge(const FieldProfile& other);

  nlohmann::json to_json() const;
  // `where` prefixes error messages: "profile.json: models.1.2.0.fields.temp".
  static FieldProfile from_json(const nlohmann::json& j, const std::string& where);
};

// All fields of one model version. model_version "" is written as "unattributed".
struct ModelProfile {
  std::uint64_t records = 0;
  std::map<std::string, FieldProfile, std::less<>> fields;

  FieldProfile& field(std::string_view name);
  void merge(const ModelProfile& other);
};

class Profile {
 public:
  // The audit window [from, to), epoch ms UTC; empty when not given. Merge takes the union hull.
  std::optional<std::int64_t> window_from_ms;
  std::optional<std::int64_t> window_to_ms;
  std::uint64_t records = 0;    // records profiled
  std::uint64_t malformed = 0;  // records the readers could not use
  std::uint64_t bytes = 0;      // input bytes read
  std::uint64_t inputs = 0;     // input files/objects
  HllSketch devices;            // distinct device ids
  std::map<std::string, std::uint64_t, std::less<>> device_classes;  // records per device class
  std::map<std::string, ModelProfile, std::less<>> models;           // by model version

  static constexpr std::string_view k_unattributed = "unattributed";

  // The model's profile, created on first use; "" maps to k_unattributed.
  ModelProfile& model(std::string_view model_version);
  // Shortcut: models[model_version].fields[name].
  FieldProfile& field(std::string_view model_version, std::string_view name);
  // Counts one record: records, devices, device class (when non-empty) and the model's records.
  void add_record(std::string_view device_id, std::string_view device_class, std::string_view model_version);

  // Union of two profiles (windows: earliest from, latest to). Sketches of other shapes (KLL k,
  // HLL lg_k) throw Error::usage.
  void merge(const Profile& other);

  // Deterministic: keys sorted, doubles in shortest round-trip form, so equal profiles give equal
  // bytes and from_json(to_json(p)) == p.
  nlohmann::json to_json() const;
  std::string to_json_text() const;  // pretty, 2-space indent, trailing newline
  // Validates: wrong or missing "schema" (a different version included) and malformed members
  // throw Error::usage naming `origin` (a file path) and the member, e.g.
  // "profile.json: models.1.2.0.fields.temp.quantiles: k must be 8..65535".
  static Profile from_json(const nlohmann::json& j, const std::string& origin);
  static Profile from_json_text(std::string_view text, const std::string& origin);

  // File helpers: load reads and validates; save writes atomically (fs::write_atomic).
  static Profile load(const std::filesystem::path& path);
  void save(const std::filesystem::path& path) const;
};

}  // namespace aiot::lineage
