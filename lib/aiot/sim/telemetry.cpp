#include "aiot/sim/telemetry.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/export_writers.hpp"
#include "aiot/sim/random.hpp"
#include "aiot/sim/simulator.hpp"

namespace aiot::sim {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

constexpr std::int64_t k_hour_ms = 3'600'000;
constexpr std::uint32_t k_none = 0xffffffffu;
constexpr const char* k_schema_v1 = "telemetry/v1";
constexpr const char* k_schema_unknown = "telemetry/v9";
constexpr double k_label_prevalence = 0.2;
constexpr std::size_t k_examples = 10;

std::int64_t to_ms(TimePoint t) { return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count(); }

// The payload fields' schema (telemetry/v1): ranges for RNG001, the nominal sd that --drift's
// "sd" shifts by. Indexes match k_payload_fields.
struct FieldModel {
  const char* unit;
  double min, max;
  double nominal_sd;  // 0: computed (inferences: the Poisson sd of the interval)
  bool sensor;        // outliers and stuck runs are planted in sensor fields
};
constexpr std::array<FieldModel, k_payload_field_count> k_field_models = {{
    {"degC", -40, 85, 4.0, true},
    {"%RH", 0, 100, 6.0, true},
    {"mm/s", 0, 50, 0.04, true},
    {"count", 0, 10'000'000, 0, false},
    {"1", 0, 1, 0.02, false},
    {"enum 0|1", 0, 1, 0, false},
    {"ms", 0, 60'000, 9.0, false},
}};
enum FieldIndex { f_temperature, f_humidity, f_vibration, f_inferences, f_confidence, f_prediction, f_latency };

std::optional<std::size_t> field_index(std::string_view name) {
  for (std::size_t i = 0; i < k_payload_field_count; ++i) {
    if (name == k_payload_fields[i].name) return i;
  }
  return std::nullopt;
}

// A draw stream for one record: a pure function of the sender's key and a counter.
Rng stream(std::uint64_t key, std::uint64_t counter) {
  Rng r(key ^ (counter * 0x9E3779B97F4A7C15ULL) ^ 0xD1B54A32D192ED03ULL);
  r.next();
  return r;
}

// Normal noise cut at +-2.5 sd: no natural value is a robust-z outlier (docs: OUT001).
double bounded_normal(Rng& r) { return std::clamp(r.normal(), -2.5, 2.5); }

// A version-4-shaped UUID from two draws, written by hand: one per record.
void uuid_into(std::string& out, Rng& r) {
  static constexpr char k_hex[] = "0123456789abcdef";
  auto a = r.next(), b = r.next();
  a = (a & 0xffffffffffff0fffULL) | 0x4000ULL;                  // version nibble
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;      // variant bits
  out.resize(36);
  int pos = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) out[static_cast<std::size_t>(pos++)] = k_hex[(v >> (4 * i)) & 15];
  };
  put(a >> 32, 8);
  out[static_cast<std::size_t>(pos++)] = '-';
  put((a >> 16) & 0xffff, 4);
  out[static_cast<std::size_t>(pos++)] = '-';
  put(a & 0xffff, 4);
  out[static_cast<std::size_t>(pos++)] = '-';
  put(b >> 48, 4);
  out[static_cast<std::size_t>(pos++)] = '-';
  put(b & 0xffffffffffffULL, 12);
}

struct Span {
  std::int64_t from_ms;  // INT64_MIN for "since before the history"
  std::uint8_t version;  // index into the version table
  std::uint8_t model;    // index into the model-name table
};

struct InferenceModel {
  double latency_mean, latency_sd, confidence_mean, confidence_sd, inferences_per_interval;
  double tpr, fpr;
};

struct Sender {
  std::string id, site, region, hw;
  bool registered = true, enabled = true;
  std::uint64_t key = 0;
  std::int64_t phase_ms = 0, skew_ms = 0;
  std::uint32_t skew_plant = k_none;
  std::uint32_t rogue_plant = k_none;
  double temp_base = 0, temp_amp = 0, temp_peak_h = 0, hum_base = 0, hum_amp = 0, vib_base = 0;
  std::string generation_id;
  std::vector<Span> spans;
  std::vector<std::int64_t> install_times;  // every attempt's start and end
  std::int64_t slots = 0;
  std::vector<std::uint8_t> reserved;
  std::vector<std::pair<std::int64_t, std::uint32_t>> plants;  // (slot, plant), sorted
  std::size_t plant_cursor = 0, span_cursor = 0;
  std::uint64_t seq = 0;
  std::int64_t gap_until = -1;
  std::uint32_t gap_plant = k_none;
  int stuck_field = -1;
  double stuck_value = 0;
  std::int64_t stuck_until = -1;
  bool bias = false;
  double bias_strength = 0;
  std::uint64_t max_seq_emitted = 0;
  bool any_emitted = false;
};

struct Plant {
  DefectClass cls;
  std::uint32_t sender = 0;
  std::int64_t slot = 0;
  std::int64_t length = 1;
  int field = -1;
  double param = 0;
  bool null_value = false;
  std::string claimed;
  // Filled when the message carrying it is written.
  bool emitted = false;
  std::uint64_t emit_order = 0;
  ExportLocation where{};
  std::string message_id;
  std::int64_t device_ms = 0, hub_ms = 0;
  std::uint64_t records = 0;  // REG001: records sent
  bool out_of_order = false;  // TS007: arrived after a newer record of its device
};

enum class Kind : std::uint8_t { normal, duplicate, extra, truncated, blob };

struct Pending {
  std::int64_t hub_ms = 0, device_ms = 0, true_ms = 0;
  std::uint64_t order = 0;
  std::uint32_t sender = 0;
  std::uint32_t plant = k_none;
  std::uint64_t seq = 0;
  Kind kind = Kind::normal;
  std::uint8_t version = 0, true_version = 0, model = 0;
  bool unknown_schema = false;
  bool gap_end = false;
  bool labelled = false;
  std::uint8_t label = 0;
  std::array<double, k_payload_field_count> values{};
  std::array<Presence, k_payload_field_count> presence{};
};

struct Later {
  bool operator()(const Pending& a, const Pending& b) const {
    return a.hub_ms != b.hub_ms ? a.hub_ms > b.hub_ms : a.order > b.order;
  }
};

const DefectClassInfo& info_of(DefectClass c) {
  for (const auto& i : defect_classes()) {
    if (i.id == c) return i;
  }
  throw Error::failure("unknown defect class");
}

double parse_number(std::string_view text, std::string_view what) {
  std::string s(text);
  try {
    std::size_t used = 0;
    double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw Error::usage(fmt::format("{}: '{}' is not a number", what, text));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Names and parsing

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "ndjson") return ExportFormat::ndjson;
  if (name == "csv") return ExportFormat::csv;
  if (name == "iothub-json") return ExportFormat::iothub_json;
  if (name == "iothub-avro") return ExportFormat::iothub_avro;
  if (name == "aws-s3-json") return ExportFormat::aws_s3_json;
  return std::nullopt;
}

std::string_view to_string(ExportFormat f) {
  switch (f) {
    case ExportFormat::ndjson:
      return "ndjson";
    case ExportFormat::csv:
      return "csv";
    case ExportFormat::iothub_json:
      return "iothub-json";
    case ExportFormat::iothub_avro:
      return "iothub-avro";
    case ExportFormat::aws_s3_json:
      return "aws-s3-json";
  }
  return "?";
}

const std::vector<DefectClassInfo>& defect_classes() {
  static const std::vector<DefectClassInfo> classes = {
      {DefectClass::future_timestamp, "future_timestamp", "TS002", "record", "record"},
      {DefectClass::clock_skew, "clock_skew", "TS003", "device", "device"},
      {DefectClass::out_of_order, "out_of_order", "TS004", "record", "record"},
      {DefectClass::duplicate, "duplicate", "TS005", "record", "record"},
      {DefectClass::gap, "gap", "TS006", "gap", "record"},
      {DefectClass::late_arrival, "late_arrival", "TS007", "record", "record"},
      {DefectClass::missing_field, "missing_field", "CMP001", "value", "record"},
      {DefectClass::out_of_range, "out_of_range", "RNG001", "value", "record"},
      {DefectClass::outlier, "outlier", "OUT001", "value", "record"},
      {DefectClass::stuck_sensor, "stuck_sensor", "STK001", "run", "record"},
      {DefectClass::unknown_schema, "unknown_schema", "SCH001", "record", "record"},
      {DefectClass::unregistered, "unregistered", "REG001", "record", "device"},
      {DefectClass::wrong_version, "wrong_version", "ATT002", "record", "record"},
      {DefectClass::truncated_line, "truncated_line", "MAL001", "line", "record"},
      {DefectClass::binary_blob, "binary_blob", "MAL001", "line", "record"},
  };
  return classes;
}

DefectSpec defects_at_rate(double rate) {
  if (!(rate >= 0 && rate <= 0.05)) throw Error::usage(fmt::format("--defects {}: a rate is in [0, 0.05]", rate));
  DefectSpec spec;
  for (const auto& c : defect_classes()) {
    DefectAmount a;
    a.rate = std::string_view(c.per) == "device" ? std::min(1.0, 10 * rate) : rate;
    spec[c.id] = a;
  }
  return spec;
}

DefectSpec parse_defects(std::string_view yaml, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  auto where = [&](const YAML::Node& n) {
    auto m = n.Mark();
    return m.is_null() ? std::string(source) : fmt::format("{}:{}:{}", source, m.line + 1, m.column + 1);
  };
  if (!root.IsMap()) throw Error::usage(fmt::format("{}: expected a map of defect class -> rate or {{count: N}}", source));
  DefectSpec spec;
  for (const auto& kv : root) {
    auto name = kv.first.as<std::string>();
    const DefectClassInfo* found = nullptr;
    std::vector<std::string> names;
    for (const auto& c : defect_classes()) {
      names.push_back(c.name);
      if (name == c.name || (name == c.code && std::string_view(c.code) != "MAL001")) found = &c;
    }
    if (!found) {
      throw Error::usage(fmt::format("{}: unknown defect class '{}'", where(kv.first), name),
                         fmt::format("Known: {}.", fmt::join(names, ", ")));
    }
    DefectAmount a;
    auto number = [&](const YAML::Node& n, const char* what) {
      try {
        return n.as<double>();
      } catch (const YAML::Exception&) {
        throw Error::usage(fmt::format("{}: {}.{} must be a number", where(n), name, what));
      }
    };
    if (kv.second.IsScalar()) {
      a.rate = number(kv.second, "rate");
    } else if (kv.second.IsMap()) {
      for (const auto& e : kv.second) {
        auto key = e.first.as<std::string>();
        if (key == "rate") {
          a.rate = number(e.second, "rate");
        } else if (key == "count") {
          double n = number(e.second, "count");
          if (n < 0 || n != std::floor(n)) throw Error::usage(fmt::format("{}: {}.count must be a whole number >= 0", where(e.second), name));
          a.count = static_cast<std::size_t>(n);
        } else {
          throw Error::usage(fmt::format("{}: {}: unknown key '{}' (rate or count)", where(e.first), name, key));
        }
      }
    } else {
      throw Error::usage(fmt::format("{}: {}: expected a rate or {{count: N}}", where(kv.second), name));
    }
    if (!(a.rate >= 0 && a.rate <= 1)) throw Error::usage(fmt::format("{}: {}: a rate is in [0, 1]", where(kv.second), name));
    spec[found->id] = a;
  }
  return spec;
}

DriftSpec parse_drift(std::string_view text) {
  DriftSpec d;
  d.text = std::string(text);
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    throw Error::usage(fmt::format("--drift '{}': expected FIELD:SHIFT[@FROM]", text),
                       "For example: --drift temperature:+3sd@2026-11-20T00:00:00Z or --drift latency_ms:+20@version=2.2");
  }
  d.field = std::string(text.substr(0, colon));
  auto idx = field_index(d.field);
  if (!idx || *idx == f_prediction) {
    throw Error::usage(fmt::format("--drift '{}': '{}' is not a numeric payload field", text, d.field),
                       "Fields: temperature, humidity, vibration, inferences, confidence, latency_ms.");
  }
  auto rest = text.substr(colon + 1);
  auto at = rest.find('@');
  auto shift = rest.substr(0, at);
  for (std::string_view suffix : {"sigma", "sd", "\u03c3"}) {
    if (shift.size() > suffix.size() && shift.substr(shift.size() - suffix.size()) == suffix) {
      shift.remove_suffix(suffix.size());
      d.in_sd = true;
      d.shift = parse_number(shift, "--drift shift");
      goto parsed;
    }
  }
  d.in_sd = false;
  d.shift = parse_number(shift, "--drift shift");
parsed:
  if (at != std::string_view::npos) {
    auto from = rest.substr(at + 1);
    if (from.substr(0, 8) == "version=") {
      d.version = std::string(from.substr(8));
      if (d.version.empty()) throw Error::usage(fmt::format("--drift '{}': version= needs a version", text));
    } else {
      d.from = parse_rfc3339(from);
      if (!d.from) {
        throw Error::usage(fmt::format("--drift '{}': '{}' is neither an RFC 3339 time nor version=V", text, from));
      }
    }
  }
  return d;
}

BiasSpec parse_bias(std::string_view text) {
  BiasSpec b;
  b.text = std::string(text);
  auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    throw Error::usage(fmt::format("--bias '{}': expected KEY=VALUE[:STRENGTH] with KEY site, region or hw", text),
                       "For example: --bias site=madrid or --bias hw=pi5:0.6");
  }
  b.key = std::string(text.substr(0, eq));
  if (b.key != "site" && b.key != "region" && b.key != "hw") {
    throw Error::usage(fmt::format("--bias '{}': segment key '{}' is not site, region or hw", text, b.key));
  }
  auto value = text.substr(eq + 1);
  if (auto colon = value.rfind(':'); colon != std::string_view::npos) {
    b.strength = parse_number(value.substr(colon + 1), "--bias strength");
    value = value.substr(0, colon);
    if (!(b.strength > 0 && b.strength <= 1)) throw Error::usage(fmt::format("--bias '{}': strength is in (0, 1]", text));
  }
  if (value.empty()) throw Error::usage(fmt::format("--bias '{}': empty segment value", text));
  b.value = std::string(value);
  return b;
}

std::string version_at(const std::vector<InstallEvent>& device_installs, const std::string& running_now, TimePoint t) {
  const InstallEvent* last_before = nullptr;
  const InstallEvent* first_after = nullptr;
  for (const auto& e : device_installs) {
    if (!e.succeeded || e.from_version == e.to_version) continue;
    if (e.done <= t) {
      if (!last_before || e.done >= last_before->done) last_before = &e;
    } else if (!first_after || e.done < first_after->done) {
      first_after = &e;
    }
  }
  if (last_before) return last_before->to_version;
  if (first_after) return first_after->from_version;
  return running_now;
}

FleetSnapshot load_fleet(hub::local::LocalHub& hub) {
  auto simulator = Simulator::open(hub);
  simulator.settle();
  FleetSnapshot f;
  f.profile = simulator.profile();
  f.seed = simulator.seed();
  f.now = simulator.now();
  Store store(hub.path(), false);
  std::unordered_map<std::string, bool> enabled;
  for (const auto& t : store.twins()) enabled.emplace(t.id, t.enabled);
  for (const auto& d : store.devices()) {
    auto it = enabled.find(d.id);
    if (it == enabled.end()) continue;  // deleted from the hub: no longer simulated
    f.devices.push_back({d.id, d.site, d.region, d.hw, d.model_name, d.running, it->second});
    enabled.erase(it);
  }
  for (const auto& [id, on] : enabled) f.other_ids.push_back(id);
  std::sort(f.other_ids.begin(), f.other_ids.end());
  f.installs = store.installs();
  f.history_since = store.history_since();
  return f;
}

// ---------------------------------------------------------------------------------------------
// The generator

namespace {

class Generator {
 public:
  Generator(const FleetSnapshot& fleet, const TelemetrySpec& spec) : fleet_(fleet), spec_(spec) {}

  TelemetryResult run(const TelemetryProgress& progress);

 private:
  std::uint8_t version_index(const std::string& v) {
    auto it = std::find(versions_.begin(), versions_.end(), v);
    if (it != versions_.end()) return static_cast<std::uint8_t>(it - versions_.begin());
    if (versions_.size() >= 250) throw Error::usage("more than 250 model versions in the fleet's history");
    versions_.push_back(v);
    return static_cast<std::uint8_t>(versions_.size() - 1);
  }
  std::uint8_t model_index(const std::string& m) {
    auto it = std::find(models_.begin(), models_.end(), m);
    if (it != models_.end()) return static_cast<std::uint8_t>(it - models_.begin());
    models_.push_back(m);
    return static_cast<std::uint8_t>(models_.size() - 1);
  }

  void validate();
  Sender new_sender(const std::string& id, const std::string& site, const std::string& region, const std::string& hw);
  void build_senders();
  void plan_defects();
  bool place(DefectClass cls, Rng& rng);
  void generate(std::int64_t k);
  void emit(const Pending& p);
  const InferenceModel& inference(const Sender& s, std::uint8_t version);
  void fill_values(Sender& s, Pending& p, Rng& r);
  json manifest();

  const FleetSnapshot& fleet_;
  const TelemetrySpec& spec_;
  std::uint64_t seed_ = 1;
  std::int64_t start_ms_ = 0, end_ms_ = 0, interval_ms_ = 0;
  std::vector<std::string> versions_, models_;
  std::vector<Sender> senders_;
  std::vector<Plant> plants_;
  std::vector<std::string> warnings_;
  std::map<std::string, InferenceModel> inference_cache_;
  std::priority_queue<Pending, std::vector<Pending>, Later> heap_;
  std::uint64_t order_ = 0, emit_order_ = 0;
  std::unique_ptr<ExportWriter> writer_;
  std::unique_ptr<OutputFile> labels_;
  std::uint64_t label_count_ = 0, label_positives_ = 0;
  std::uint64_t records_ = 0, malformed_ = 0, dropped_ = 0, expected_records_ = 0;
  std::map<std::string, std::uint64_t> by_true_version_, by_claimed_version_;
  std::uint64_t disabled_records_ = 0;
  std::vector<std::uint64_t> drift_records_;
  std::map<std::string, std::array<std::uint64_t, 4>> bias_counts_;  // segment -> tp, fn, fp, tn
  std::string line_, message_id_;
  bool outliers_exact_ = true;
};

void Generator::validate() {
  if (fleet_.devices.empty()) throw Error::usage("the simulated fleet has no devices", "Create some with 'aiot sim fleet --devices N'.");
  if (spec_.interval < std::chrono::seconds(10)) throw Error::usage("--interval must be at least 10s");
  if (spec_.window < spec_.interval * 8) {
    throw Error::usage(fmt::format("the window ({}) must hold at least 8 intervals of {}", format_duration(spec_.window),
                                   format_duration(spec_.interval)));
  }
  if (spec_.window > std::chrono::hours(24 * 400)) throw Error::usage("the window is at most 400 days");
  if (spec_.batch < std::chrono::seconds(1)) throw Error::usage("--batch must be at least 1s");
  if (!(spec_.label_rate >= 0 && spec_.label_rate <= 1)) throw Error::usage("--label-rate is in [0, 1]");
  for (const auto& b : spec_.biases) {
    bool found = false;
    for (const auto& d : fleet_.devices) {
      const auto& v = b.key == "site" ? d.site : b.key == "region" ? d.region : d.hw;
      found = found || v == b.value;
    }
    if (!found) throw Error::usage(fmt::format("--bias '{}': no device of the fleet has {} '{}'", b.text, b.key, b.value));
  }
}

const InferenceModel& Generator::inference(const Sender& s, std::uint8_t version) {
  auto key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", versions_[version], s.hw, s.site, s.region, s.bias_strength);
  auto it = inference_cache_.find(key);
  if (it != inference_cache_.end()) return it->second;
  auto b = fleet_.profile.resolve(versions_[version], s.hw, s.site, s.region);
  InferenceModel m;
  m.latency_mean = b.latency_p95_ms.mean;
  m.latency_sd = b.latency_p95_ms.sd;
  m.confidence_mean = b.mean_confidence.mean;
  m.confidence_sd = b.mean_confidence.sd;
  m.inferences_per_interval = b.inferences_per_hour * static_cast<double>(interval_ms_) / k_hour_ms;
  // A version's detection quality follows its confidence: TPR = confidence, FPR = (1 - c) / 2.
  m.tpr = std::clamp(m.confidence_mean, 0.05, 0.99);
  m.fpr = std::clamp((1 - m.confidence_mean) / 2, 0.01, 0.5);
  if (s.bias) {
    m.tpr *= 1 - s.bias_strength;
    m.fpr += (1 - m.fpr) * s.bias_strength / 2;
  }
  return inference_cache_.emplace(key, m).first->second;
}

Sender Generator::new_sender(const std::string& id, const std::string& site, const std::string& region,
                            const std::string& hw) {
  Sender s;
  s.id = id;
  s.site = site;
  s.region = region;
  s.hw = hw;
  auto r = Rng::keyed(seed_, {"telemetry-sender", id});
  s.key = r.next();
  auto site_rng = Rng::keyed(seed_, {"telemetry-site", site});
  auto hw_rng = Rng::keyed(seed_, {"telemetry-hw", hw});
  // Whole seconds of phase, at least 1 s from the slot edges: jitter never crosses a slot.
  auto phase_slots = std::max<std::int64_t>(1, interval_ms_ / 1000 - 2);
  s.phase_ms = (1 + static_cast<std::int64_t>(r.next() % static_cast<std::uint64_t>(phase_slots))) * 1000;
  s.skew_ms = static_cast<std::int64_t>(r.uniform(-800, 800));  // NTP-grade error
  s.temp_base = site_rng.uniform(12, 22) + hw_rng.uniform(0, 5) + bounded_normal(r);
  s.temp_amp = r.uniform(3, 5);
  s.temp_peak_h = site_rng.uniform(13, 17);
  s.hum_base = site_rng.uniform(38, 62) + r.uniform(-3, 3);
  s.hum_amp = r.uniform(5, 7);
  s.vib_base = hw_rng.uniform(0.6, 1.3) + r.uniform(-0.1, 0.1);
  s.generation_id = fmt::format("6389{:014}", r.next() % 100'000'000'000'000ULL);
  auto first = start_ms_ + s.phase_ms;
  s.slots = first < end_ms_ ? (end_ms_ - first + interval_ms_ - 1) / interval_ms_ : 0;
  for (const auto& b : spec_.biases) {
    const auto& v = b.key == "site" ? site : b.key == "region" ? region : hw;
    if (v == b.value) {
      s.bias = true;
      s.bias_strength = std::max(s.bias_strength, b.strength);
    }
  }
  return s;
}

void Generator::build_senders() {
  std::unordered_map<std::string, std::vector<InstallEvent>> installs;
  for (const auto& e : fleet_.installs) installs[e.device_id].push_back(e);
  version_index(fleet_.profile.start_version);
  for (const auto& [name, vp] : fleet_.profile.versions) version_index(name);

  for (const auto& d : fleet_.devices) {
    auto s = new_sender(d.id, d.site, d.region, d.hw);
    s.enabled = d.enabled;
    auto& events = installs[d.id];
    std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.done < b.done; });
    // Before the first recorded change the device ran that change's from-version.
    std::string initial = d.running;
    bool changed_before = false;
    for (const auto& e : events) {
      if (e.succeeded && e.from_version != e.to_version) {
        if (!changed_before) initial = e.from_version;
        changed_before = true;
      }
    }
    std::string initial_model = changed_before ? fleet_.profile.model_name : d.model_name;
    s.spans.push_back({INT64_MIN, version_index(initial), model_index(initial_model)});
    for (const auto& e : events) {
      s.install_times.push_back(to_ms(e.started));
      s.install_times.push_back(to_ms(e.done));
      if (e.succeeded && e.from_version != e.to_version) {
        s.spans.push_back({to_ms(e.done), version_index(e.to_version), model_index(e.model_name)});
      }
    }
    s.reserved.assign(static_cast<std::size_t>(s.slots), 0);
    senders_.push_back(std::move(s));
  }
}

bool Generator::place(DefectClass cls, Rng& rng) {
  // Candidates: registered, enabled devices with room for the defect and its margins.
  auto n = static_cast<std::uint32_t>(fleet_.devices.size());
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto si = static_cast<std::uint32_t>(rng.next() % n);
    auto& s = senders_[si];
    if (!s.enabled || s.slots < 12) continue;
    std::int64_t len = 1;
    if (cls == DefectClass::gap) len = 3 + static_cast<std::int64_t>(rng.next() % 10);
    if (cls == DefectClass::stuck_sensor) len = 10 + static_cast<std::int64_t>(rng.next() % 11);
    std::int64_t lo = 2, hi = s.slots - 4 - len;
    if (hi < lo) continue;
    std::int64_t k = lo + static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(hi - lo + 1));
    std::int64_t t = start_ms_ + s.phase_ms + k * interval_ms_;
    auto free = [&](std::int64_t a, std::int64_t b) {
      a = std::max<std::int64_t>(a, 0);
      b = std::min<std::int64_t>(b, s.slots - 1);
      for (auto i = a; i <= b; ++i) {
        if (s.reserved[static_cast<std::size_t>(i)]) return false;
      }
      return true;
    };
    auto mark = [&](std::int64_t a, std::int64_t b) {
      a = std::max<std::int64_t>(a, 0);
      b = std::min<std::int64_t>(b, s.slots - 1);
      for (auto i = a; i <= b; ++i) s.reserved[static_cast<std::size_t>(i)] = 1;
    };
    if (!free(k - 1, k + len)) continue;
    // Clear of installs: around one, attribution by the device clock is a matter of a second.
    bool near_install = false;
    for (auto it : s.install_times) {
      near_install = near_install || (it > t - k_hour_ms - interval_ms_ && it < t + (len + 1) * interval_ms_ + k_hour_ms);
    }
    if (near_install) continue;

    Plant p;
    p.cls = cls;
    p.sender = si;
    p.slot = k;
    p.length = len;
    std::int64_t arrival_slot = -1;
    switch (cls) {
      case DefectClass::late_arrival: {
        // Late enough to arrive after the device's next record, well past the 15 min threshold.
        double min_late = std::max<double>(30.0 * 60'000, 1.5 * static_cast<double>(interval_ms_));
        p.param = std::round(rng.uniform(min_late, min_late + 2.0 * k_hour_ms));
        if (t + static_cast<std::int64_t>(p.param) >= end_ms_ - 2 * interval_ms_) continue;
        arrival_slot = k + static_cast<std::int64_t>(p.param) / interval_ms_;
        if (!free(arrival_slot - 1, arrival_slot + 1)) continue;
        break;
      }
      case DefectClass::future_timestamp:
        p.param = std::round(rng.uniform(10.0 * 60'000, 48.0 * k_hour_ms));
        break;
      case DefectClass::out_of_order:
        p.param = std::round(rng.uniform(1000, std::min(60'000.0, static_cast<double>(interval_ms_) / 4)));
        break;
      case DefectClass::duplicate:
        p.param = std::round(rng.uniform(1000, std::min(120'000.0, static_cast<double>(interval_ms_) / 3)));
        break;
      case DefectClass::missing_field:
        p.field = static_cast<int>(rng.next() % k_payload_field_count);
        p.null_value = rng.bernoulli(0.5);
        break;
      case DefectClass::out_of_range: {
        p.field = static_cast<int>(rng.next() % k_payload_field_count);
        const auto& fm = k_field_models[static_cast<std::size_t>(p.field)];
        bool high = rng.bernoulli(0.5) || p.field == f_prediction || p.field == f_confidence;
        if (p.field == f_prediction) {
          p.param = 2 + static_cast<double>(rng.next() % 2);
        } else if (p.field == f_confidence) {
          p.param = rng.uniform(1.05, 2.0);
        } else if (high) {
          p.param = fm.max + std::max(1.0, std::abs(fm.max) * rng.uniform(0.1, 0.5));
        } else {
          p.param = fm.min - std::max(1.0, std::abs(fm.max - fm.min) * rng.uniform(0.05, 0.3));
        }
        break;
      }
      case DefectClass::outlier:
        p.field = static_cast<int>(rng.next() % 3);  // sensor fields
        p.param = rng.uniform(0, 1);                 // position within the allowed magnitude
        p.null_value = rng.bernoulli(0.5);           // direction (temperature)
        break;
      case DefectClass::stuck_sensor:
        p.field = static_cast<int>(rng.next() % 3);
        break;
      case DefectClass::wrong_version: {
        {
          std::uint8_t truth = s.spans.front().version;
          for (const auto& sp : s.spans) {
            if (sp.from_ms <= t) truth = sp.version;
          }
          std::vector<std::string> others;
          for (const auto& v : versions_) {
            if (v != versions_[truth]) others.push_back(v);
          }
          std::sort(others.begin(), others.end());
          p.claimed = others.empty() ? versions_[truth] + ".1" : others[rng.next() % others.size()];
        }
        break;
      }
      case DefectClass::truncated_line:
        p.param = rng.uniform(0.2, 0.8);
        break;
      case DefectClass::binary_blob:
        p.param = static_cast<double>(32 + rng.next() % 224);
        break;
      default:
        break;
    }
    mark(k - 1, k + len);
    if (arrival_slot >= 0) mark(arrival_slot - 1, arrival_slot + 1);
    s.plants.emplace_back(k, static_cast<std::uint32_t>(plants_.size()));
    plants_.push_back(std::move(p));
    return true;
  }
  return false;
}

void Generator::plan_defects() {
  std::uint64_t base_records = 0;
  std::uint64_t base_devices = 0;
  for (const auto& s : senders_) {
    if (s.enabled) {
      base_records += static_cast<std::uint64_t>(s.slots);
      ++base_devices;
    }
  }
  bool line_based = writer_->line_based();
  for (const auto& c : defect_classes()) {
    auto it = spec_.defects.find(c.id);
    if (it == spec_.defects.end()) continue;
    const auto& a = it->second;
    bool per_device = std::string_view(c.per) == "device";
    std::size_t want = a.count ? *a.count
                               : static_cast<std::size_t>(std::llround(a.rate * static_cast<double>(per_device ? base_devices : base_records)));
    if (per_device && !a.count && a.rate > 0) want = std::max<std::size_t>(want, 1);
    if (want == 0) continue;
    if (!line_based && (c.id == DefectClass::truncated_line || c.id == DefectClass::binary_blob)) {
      warnings_.push_back(fmt::format("{}: not planted, {} has no lines to corrupt", c.name, to_string(spec_.format)));
      continue;
    }
    auto rng = Rng::keyed(seed_, {"plant", c.name});
    if (c.id == DefectClass::clock_skew) {
      std::vector<std::uint32_t> order;
      for (std::uint32_t i = 0; i < fleet_.devices.size(); ++i) {
        // Not on a device that installs in the window: a skewed clock would blur attribution.
        bool installs = false;
        for (auto it : senders_[i].install_times) {
          installs = installs || (it > start_ms_ - k_hour_ms && it < end_ms_ + k_hour_ms);
        }
        if (senders_[i].enabled && senders_[i].slots > 0 && !installs) order.push_back(i);
      }
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
      if (want > order.size()) {
        warnings_.push_back(fmt::format("clock_skew: {} devices asked, {} available", want, order.size()));
        want = order.size();
      }
      for (std::size_t i = 0; i < want; ++i) {
        auto& s = senders_[order[i]];
        // 1-4 min either way: past TS003's 30 s, short of TS002's 5 min and TS007's 15 min.
        double mag = std::round(rng.uniform(60'000, 240'000));
        s.skew_ms = static_cast<std::int64_t>(rng.bernoulli(0.5) ? mag : -mag);
        Plant p;
        p.cls = c.id;
        p.sender = order[i];
        p.param = static_cast<double>(s.skew_ms);
        s.skew_plant = static_cast<std::uint32_t>(plants_.size());
        plants_.push_back(std::move(p));
      }
      continue;
    }
    if (c.id == DefectClass::unregistered) {
      std::unordered_set<std::string> taken(fleet_.other_ids.begin(), fleet_.other_ids.end());
      for (const auto& d : fleet_.devices) taken.insert(d.id);
      const auto& sites = fleet_.profile.sites;
      const auto& hws = fleet_.profile.hw;
      for (std::size_t i = 1, made = 0; made < want; ++i) {
        auto id = fmt::format("rogue-{:04}", i);
        if (taken.count(id)) continue;
        const auto& site = sites[rng.next() % sites.size()].first;
        const auto& hw = hws[rng.next() % hws.size()].first;
        // Built like a fleet device, but outside the registry: it runs the start version.
        Sender s = new_sender(id, site, fleet_.profile.region_of(site), hw);
        s.registered = false;
        s.bias = false;
        s.spans.push_back({INT64_MIN, version_index(fleet_.profile.start_version), model_index(fleet_.profile.model_name)});
        Plant p;
        p.cls = c.id;
        p.sender = static_cast<std::uint32_t>(senders_.size());
        s.rogue_plant = static_cast<std::uint32_t>(plants_.size());
        plants_.push_back(std::move(p));
        senders_.push_back(std::move(s));
        ++made;
      }
      continue;
    }
    std::size_t placed = 0;
    for (std::size_t i = 0; i < want; ++i) placed += place(c.id, rng) ? 1 : 0;
    if (placed < want) {
      warnings_.push_back(fmt::format("{}: planted {} of {} (no room left that keeps defects apart)", c.name, placed, want));
    }
  }
  for (auto& s : senders_) std::sort(s.plants.begin(), s.plants.end());
}

void Generator::fill_values(Sender& s, Pending& p, Rng& r) {
  const auto& im = inference(s, p.true_version);
  double day_ms = 86'400'000.0;
  double hour_of_day = std::fmod(static_cast<double>(p.true_ms), day_ms) / k_hour_ms;
  double cycle = std::cos(2 * std::numbers::pi * (hour_of_day - s.temp_peak_h) / 24);
  p.values[f_temperature] = s.temp_base + s.temp_amp * cycle + 0.3 * bounded_normal(r);
  p.values[f_humidity] = std::clamp(s.hum_base - s.hum_amp * cycle + 1.0 * bounded_normal(r), 0.5, 99.5);
  p.values[f_vibration] = std::max(0.01, s.vib_base + 0.04 * bounded_normal(r));
  double lambda = im.inferences_per_interval;
  p.values[f_inferences] = std::max(0.0, std::round(lambda + std::sqrt(lambda) * bounded_normal(r)));
  p.values[f_confidence] = std::clamp(im.confidence_mean + im.confidence_sd * bounded_normal(r), 0.0, 1.0);
  p.values[f_latency] = std::max(1.0, im.latency_mean + im.latency_sd * bounded_normal(r));
  p.label = r.bernoulli(k_label_prevalence) ? 1 : 0;
  bool positive = r.bernoulli(p.label ? im.tpr : im.fpr);
  p.values[f_prediction] = positive ? 1 : 0;
  p.labelled = r.bernoulli(spec_.label_rate);

  if (!s.registered) return;
  for (std::size_t i = 0; i < spec_.drifts.size(); ++i) {
    const auto& d = spec_.drifts[i];
    bool applies = d.from ? p.true_ms >= to_ms(*d.from) : d.version.empty() || versions_[p.true_version] == d.version;
    if (!applies) continue;
    auto f = *field_index(d.field);
    double sd = k_field_models[f].nominal_sd;
    if (f == f_inferences) sd = std::sqrt(lambda);
    double shift = d.in_sd ? d.shift * sd : d.shift;
    const auto& fm = k_field_models[f];
    // Kept inside the range: a drift is not an RNG001 defect.
    p.values[f] = std::clamp(p.values[f] + shift, fm.min, fm.max);
    ++drift_records_[i];
  }
}

void Generator::generate(std::int64_t k) {
  for (std::uint32_t si = 0; si < senders_.size(); ++si) {
    auto& s = senders_[si];
    if (k >= s.slots) continue;
    std::uint32_t plant = k_none;
    if (s.plant_cursor < s.plants.size() && s.plants[s.plant_cursor].first == k) {
      plant = s.plants[s.plant_cursor].second;
      ++s.plant_cursor;
    }
    if (plant != k_none && plants_[plant].cls == DefectClass::gap) {
      s.gap_until = k + plants_[plant].length;
      s.gap_plant = plant;
      continue;
    }
    if (k < s.gap_until) continue;
    bool gap_end = false;
    if (s.gap_plant != k_none && k == s.gap_until) {
      gap_end = true;
    }

    auto r = stream(s.key, static_cast<std::uint64_t>(k));
    Pending p;
    p.sender = si;
    std::int64_t jitter = static_cast<std::int64_t>(r.uniform(-300, 300));
    p.true_ms = start_ms_ + s.phase_ms + k * interval_ms_ + jitter;
    double u = r.uniform();
    std::int64_t latency = 40 + static_cast<std::int64_t>(u * u * 2500);
    p.hub_ms = p.true_ms + latency;
    p.device_ms = p.true_ms + s.skew_ms;
    // The version by the device's clock (within 0.8 s of the truth; skewed devices install
    // nothing in the window), which is what the audit attributes by.
    while (s.span_cursor + 1 < s.spans.size() && s.spans[s.span_cursor + 1].from_ms <= p.device_ms) ++s.span_cursor;
    p.true_version = p.version = s.spans[s.span_cursor].version;
    p.model = s.spans[s.span_cursor].model;
    fill_values(s, p, r);
    p.presence.fill(Presence::present);
    p.seq = ++s.seq;
    if (gap_end) {
      p.plant = s.gap_plant;
      s.gap_plant = k_none;
    }
    if (s.stuck_field >= 0) {
      if (k < s.stuck_until) {
        p.values[static_cast<std::size_t>(s.stuck_field)] = s.stuck_value;
      } else {
        s.stuck_field = -1;
      }
    }
    if (s.rogue_plant != k_none) p.plant = s.rogue_plant;
    else if (s.skew_plant != k_none && !s.any_emitted && k == 0) p.plant = s.skew_plant;

    std::vector<Pending> after;
    if (plant != k_none) {
      auto& pl = plants_[plant];
      auto f = static_cast<std::size_t>(std::max(pl.field, 0));
      switch (pl.cls) {
        case DefectClass::duplicate: {
          p.plant = k_none;
          Pending copy = p;
          copy.kind = Kind::duplicate;
          copy.hub_ms = p.hub_ms + static_cast<std::int64_t>(pl.param);
          copy.plant = plant;
          copy.labelled = false;
          after.push_back(copy);
          break;
        }
        case DefectClass::late_arrival:
        case DefectClass::future_timestamp:
        case DefectClass::out_of_order: {
          Pending extra = p;
          extra.kind = Kind::extra;
          extra.plant = plant;
          extra.labelled = false;
          extra.seq = ++s.seq;
          auto step = static_cast<std::int64_t>(pl.param);
          if (pl.cls == DefectClass::late_arrival) {
            // A message held back by the device or the network: it arrives after newer ones.
            extra.true_ms = p.true_ms + std::min<std::int64_t>(interval_ms_ / 4, 30'000);
            extra.device_ms = extra.true_ms + s.skew_ms;
            extra.hub_ms = extra.true_ms + step;
          } else if (pl.cls == DefectClass::future_timestamp) {
            extra.true_ms = p.true_ms + std::min<std::int64_t>(interval_ms_ / 4, 30'000);
            extra.hub_ms = extra.true_ms + latency;
            extra.device_ms = extra.hub_ms + step;
          } else {
            extra.true_ms = p.true_ms + std::min<std::int64_t>(step, interval_ms_ / 4);
            extra.hub_ms = p.hub_ms + std::min<std::int64_t>(step, interval_ms_ / 4);
            extra.device_ms = p.device_ms - step;
          }
          after.push_back(extra);
          break;
        }
        case DefectClass::missing_field:
          p.presence[f] = pl.null_value ? Presence::null : Presence::absent;
          p.plant = plant;
          break;
        case DefectClass::out_of_range:
          p.values[f] = pl.param;
          p.plant = plant;
          break;
        case DefectClass::outlier: {
          // Far beyond the device's own spread (robust z > 4.5 whole-window), inside the range.
          if (f == f_temperature) {
            double off = (6 + 2 * pl.param) * s.temp_amp;
            p.values[f] = s.temp_base + (pl.null_value ? off : -off);
          } else if (f == f_humidity) {
            double off = (5 + pl.param) * s.hum_amp;
            p.values[f] = s.hum_base + (s.hum_base < 50 ? off : -off);
          } else {
            p.values[f] = s.vib_base + (15 + 10 * pl.param) * 0.04;
          }
          p.plant = plant;
          break;
        }
        case DefectClass::stuck_sensor: {
          double scale = std::pow(10.0, k_payload_fields[f].decimals);
          s.stuck_field = static_cast<int>(f);
          s.stuck_value = std::round(p.values[f] * scale) / scale;
          s.stuck_until = k + pl.length;
          p.values[f] = s.stuck_value;
          p.plant = plant;
          break;
        }
        case DefectClass::unknown_schema:
          p.unknown_schema = true;
          p.plant = plant;
          break;
        case DefectClass::wrong_version:
          p.version = version_index(pl.claimed);
          p.plant = plant;
          break;
        case DefectClass::truncated_line:
        case DefectClass::binary_blob: {
          // Right after the record it garbles, in the same file: a malformed line never starts a
          // file, where readers sniff the format.
          Pending bad = p;
          bad.kind = pl.cls == DefectClass::truncated_line ? Kind::truncated : Kind::blob;
          bad.plant = plant;
          bad.labelled = false;
          after.push_back(bad);
          break;
        }
        default:
          break;
      }
    }
    p.order = order_++;
    heap_.push(p);
    for (auto& a : after) {
      a.order = order_++;
      heap_.push(a);
    }
  }
}

void Generator::emit(const Pending& p) {
  if (p.hub_ms >= end_ms_) {
    ++dropped_;  // arrives after the window: in the next export
    return;
  }
  auto& s = senders_[p.sender];
  auto r = stream(s.key ^ 0x6d657373616765ULL, p.seq);
  uuid_into(message_id_, r);
  ExportMessage m;
  m.device_id = s.id;
  m.message_id = message_id_;
  m.schema = p.unknown_schema ? k_schema_unknown : k_schema_v1;
  m.model = models_[p.model];
  m.model_version = versions_[p.version];
  m.generation_id = s.generation_id;
  m.device_ms = p.device_ms;
  m.hub_ms = p.hub_ms;
  m.seq = p.seq;
  m.values = p.values;
  m.presence = p.presence;

  ExportLocation at;
  if (p.kind == Kind::truncated || p.kind == Kind::blob) {
    const auto& pl = plants_[p.plant];
    if (p.kind == Kind::truncated) {
      auto text = writer_->render(m);
      auto cut = std::clamp<std::size_t>(static_cast<std::size_t>(pl.param * static_cast<double>(text.size())), 8,
                                         text.size() - 2);
      // A CSV row must lose a whole cell at least, or it would still parse (with a shorter value).
      if (spec_.format == ExportFormat::csv) cut = std::min(cut, text.rfind(','));
      at = writer_->write_raw_line(m, std::string_view(text).substr(0, cut));
    } else {
      std::string blob(static_cast<std::size_t>(pl.param), '\0');
      auto br = stream(s.key ^ 0x626c6f62ULL, p.seq);
      for (std::size_t i = 1; i < blob.size(); ++i) {
        char c;
        do {
          c = static_cast<char>(br.next() & 0xff);
        } while (c == '\n' || c == '\r' || c == '"' || c == ',');  // one line, one CSV cell, no open quote
        blob[i] = c;
      }
      at = writer_->write_raw_line(m, blob);
    }
    ++malformed_;
  } else {
    at = writer_->write(m);
    ++records_;
    if (s.registered) {
      ++by_true_version_[versions_[p.true_version]];
      ++by_claimed_version_[versions_[p.version]];
      if (!s.enabled) ++disabled_records_;
    }
    if (p.kind != Kind::duplicate) {
      if (p.seq > s.max_seq_emitted) s.max_seq_emitted = p.seq;
    }
    if (s.registered && s.enabled && p.kind == Kind::normal && p.plant == k_none) {
      bool pred = p.values[f_prediction] >= 0.5;
      if (s.bias || !spec_.biases.empty()) {
        auto& c = bias_counts_[s.bias ? "biased" : "other"];
        ++c[p.label ? (pred ? 0 : 1) : (pred ? 2 : 3)];
      }
      if (labels_ && p.labelled) {
        line_.clear();
        line_ += "{\"messageId\":\"" + message_id_ + "\",\"deviceId\":\"" + s.id + "\",\"ts\":\"";
        line_ += format_ms(p.device_ms);
        line_ += fmt::format("\",\"label\":{}}}\n", p.label);
        labels_->write(line_);
        ++label_count_;
        label_positives_ += p.label;
      }
    }
  }
  s.any_emitted = true;
  if (p.plant != k_none) {
    auto& pl = plants_[p.plant];
    if (pl.cls == DefectClass::unregistered) {
      ++pl.records;
      if (pl.emitted) return;
    }
    if (pl.cls == DefectClass::late_arrival) pl.out_of_order = p.seq < s.max_seq_emitted;
    pl.emitted = true;
    pl.emit_order = emit_order_++;
    pl.where = at;
    pl.message_id = message_id_;
    pl.device_ms = p.device_ms;
    pl.hub_ms = p.hub_ms;
  }
}

json Generator::manifest() {
  json m;
  m["schema"] = "aiot.telemetry-manifest/v1";
  json params;
  params["format"] = std::string(to_string(spec_.format));
  params["seed"] = seed_;
  params["fleetSeed"] = fleet_.seed;
  params["windowStart"] = format_ms(start_ms_);
  params["windowEnd"] = format_ms(end_ms_);
  params["windowMs"] = end_ms_ - start_ms_;
  params["intervalMs"] = interval_ms_;
  params["batchMs"] = spec_.batch.count();
  params["gzip"] = spec_.gzip;
  params["iothub"] = spec_.iothub;
  params["labelRate"] = spec_.label_rate;
  json defects = json::object();
  for (const auto& [cls, a] : spec_.defects) {
    json d;
    if (a.count) d["count"] = *a.count;
    else d["rate"] = a.rate;
    defects[info_of(cls).name] = d;
  }
  params["defects"] = defects;
  json drifts = json::array();
  for (const auto& d : spec_.drifts) drifts.push_back(d.text);
  params["drift"] = drifts;
  json biases = json::array();
  for (const auto& b : spec_.biases) biases.push_back(b.text);
  params["bias"] = biases;
  m["parameters"] = params;

  std::size_t disabled = 0, rogue = 0;
  for (const auto& s : senders_) {
    disabled += s.registered && !s.enabled ? 1 : 0;
    rogue += s.registered ? 0 : 1;
  }
  m["fleet"] = {{"devices", fleet_.devices.size()},
                {"disabled", disabled},
                {"unregisteredSenders", rogue},
                {"model", fleet_.profile.model_name},
                {"startVersion", fleet_.profile.start_version},
                {"historySince", fleet_.history_since ? json(format_ms(to_ms(*fleet_.history_since))) : json(nullptr)}};

  json fields = json::object();
  for (std::size_t i = 0; i < k_payload_field_count; ++i) {
    const auto& fm = k_field_models[i];
    json f = {{"type", i == f_inferences || i == f_prediction ? "integer" : "number"}, {"unit", fm.unit}};
    if (i == f_prediction) {
      f["enum"] = {0, 1};
    } else {
      f["min"] = fm.min;
      f["max"] = fm.max;
    }
    f["decimals"] = k_payload_fields[i].decimals;
    fields[k_payload_fields[i].name] = f;
  }
  m["telemetrySchema"] = {{"id", k_schema_v1}, {"expectedIntervalMs", interval_ms_}, {"fields", fields}};

  json files = json::array();
  std::uint64_t bytes = 0;
  for (const auto& f : writer_->files()) {
    files.push_back({{"path", f.path},
                     {"format", f.format},
                     {"records", f.records},
                     {"malformed", f.malformed},
                     {"bytes", f.bytes},
                     {"sha256", f.sha256},
                     {"firstEnqueued", format_ms(f.first_hub_ms)},
                     {"lastEnqueued", format_ms(f.last_hub_ms)}});
    bytes += f.bytes;
  }
  m["files"] = files;
  m["totals"] = {{"files", writer_->files().size()},
                 {"records", records_},
                 {"malformedLines", malformed_},
                 {"bytes", bytes},
                 {"droppedAfterWindow", dropped_},
                 {"recordsFromDisabledDevices", disabled_records_}};

  // Per class: what was planted, and what the audit should count under the rules of
  // docs/telemetry-generator.md ("expected" is null where it is not exactly predictable).
  bool versions_change = false;
  for (const auto& s : senders_) {
    for (std::size_t i = 1; i < s.spans.size(); ++i) {
      if (s.spans[i].from_ms > start_ms_ && s.spans[i].from_ms < end_ms_) {
        const auto& a = inference(s, s.spans[i - 1].version);
        const auto& b = inference(s, s.spans[i].version);
        versions_change = versions_change || a.latency_mean != b.latency_mean || a.latency_sd != b.latency_sd ||
                          a.confidence_mean != b.confidence_mean || a.confidence_sd != b.confidence_sd ||
                          a.inferences_per_interval != b.inferences_per_interval;
      }
    }
  }
  outliers_exact_ = spec_.drifts.empty() && !versions_change;

  std::vector<const Plant*> ordered;
  for (const auto& p : plants_) {
    if (p.emitted) ordered.push_back(&p);
  }
  std::sort(ordered.begin(), ordered.end(), [](const Plant* a, const Plant* b) { return a->emit_order < b->emit_order; });
  const auto& fileinfo = writer_->files();
  auto example = [&](const Plant& p) {
    return json{{"device", senders_[p.sender].id},
                {"messageId", p.message_id},
                {"file", fileinfo[p.where.file].path},
                {"offset", p.where.offset}};
  };
  json classes = json::array();
  for (const auto& c : defect_classes()) {
    std::uint64_t planted = 0, extra = 0, ooo = 0;
    json examples = json::array();
    std::set<std::string> devices;
    for (const auto* p : ordered) {
      if (p->cls != c.id) continue;
      ++planted;
      devices.insert(senders_[p->sender].id);
      if (c.id == DefectClass::gap) extra += static_cast<std::uint64_t>(p->length);
      if (c.id == DefectClass::stuck_sensor) extra += static_cast<std::uint64_t>(p->length);
      if (c.id == DefectClass::unregistered) extra += p->records;
      if (p->out_of_order) ++ooo;
      if (examples.size() < k_examples) examples.push_back(example(*p));
    }
    auto asked = spec_.defects.find(c.id);
    if (planted == 0 && asked == spec_.defects.end()) continue;
    json e = {{"class", c.name}, {"code", c.code}, {"unit", c.unit}, {"planted", planted}};
    json expected = planted;
    if (c.id == DefectClass::unregistered) expected = extra;  // REG001 per record
    // Outliers are judged against the device's own spread, which the daily cycle, a drift or a
    // version change shape: the planted ones stand far out, a few natural ones may join them.
    if (c.id == DefectClass::outlier) {
      expected = nullptr;
      e["minimum"] = planted;
      e["tolerance"] = outliers_exact_ ? "natural findings <= 0.1% of the values checked"
                                       : "natural findings <= 0.1% of the values checked, plus the genuine "
                                         "outliers a drift or a version change with other behaviour makes";
    }
    e["expected"] = expected;
    e["devices"] = devices.size();
    if (c.id == DefectClass::gap) e["missingRecords"] = extra;
    if (c.id == DefectClass::stuck_sensor) e["stuckRecords"] = extra;
    if (c.id == DefectClass::unregistered) {
      e["senders"] = planted;
      e["records"] = extra;
    }
    if (c.id == DefectClass::late_arrival) e["outOfOrderArrivals"] = ooo;
    e["examples"] = examples;
    classes.push_back(e);
  }
  if (disabled_records_ > 0) {
    classes.push_back({{"class", "disabled_sender"},
                       {"code", "REG002"},
                       {"unit", "record"},
                       {"planted", 0},
                       {"expected", disabled_records_},
                       {"devices", disabled},
                       {"note", "devices disabled in the registry still send (not planted: from the hub's state)"},
                       {"examples", json::array()}});
  }
  // The two MAL001 classes as one code, the way the audit counts malformed input.
  std::uint64_t mal = 0;
  for (const auto& c : classes) {
    if (c["code"] == "MAL001") mal += c["planted"].get<std::uint64_t>();
  }
  m["defects"] = classes;
  m["expectedByCode"] = json::object();
  for (const auto& c : classes) {
    auto code = c["code"].get<std::string>();
    if (c["expected"].is_null()) {
      m["expectedByCode"][code] = nullptr;
    } else if (!m["expectedByCode"].contains(code) || !m["expectedByCode"][code].is_null()) {
      m["expectedByCode"][code] = m["expectedByCode"].value(code, json(0)).get<std::uint64_t>() + c["expected"].get<std::uint64_t>();
    }
  }
  (void)mal;

  m["attribution"] = {{"byTrueVersion", by_true_version_}, {"byClaimedVersion", by_claimed_version_}};

  json scenario = json::object();
  json drift_out = json::array();
  for (std::size_t i = 0; i < spec_.drifts.size(); ++i) {
    const auto& d = spec_.drifts[i];
    auto f = *field_index(d.field);
    double sd = f == f_inferences ? std::sqrt(3600.0 * static_cast<double>(interval_ms_) / k_hour_ms) : k_field_models[f].nominal_sd;
    json j = {{"spec", d.text},
              {"field", d.field},
              {"shift", d.in_sd ? d.shift * sd : d.shift},
              {"unit", k_field_models[f].unit},
              {"records", drift_records_[i]}};
    if (d.in_sd) j["shiftSd"] = d.shift;
    if (d.from) j["from"] = format_ms(to_ms(*d.from));
    if (!d.version.empty()) j["version"] = d.version;
    drift_out.push_back(j);
  }
  scenario["drift"] = drift_out;
  json bias_out = json::array();
  for (const auto& b : spec_.biases) bias_out.push_back({{"segment", b.key + "=" + b.value}, {"strength", b.strength}});
  scenario["bias"] = bias_out;
  json confusion = json::object();
  for (const auto& [name, c] : bias_counts_) {
    confusion[name] = {{"tp", c[0]}, {"fn", c[1]}, {"fp", c[2]}, {"tn", c[3]}};
  }
  scenario["confusion"] = confusion;
  scenario["labelPrevalence"] = k_label_prevalence;
  m["scenario"] = scenario;
  if (labels_) {
    m["labels"] = {{"path", spec_.labels.string()}, {"records", label_count_}, {"positives", label_positives_}};
  }
  return m;
}

TelemetryResult Generator::run(const TelemetryProgress& progress) {
  validate();
  seed_ = spec_.seed.value_or(fleet_.seed);
  end_ms_ = to_ms(spec_.end.value_or(fleet_.now));
  interval_ms_ = spec_.interval.count();
  start_ms_ = end_ms_ - spec_.window.count();
  drift_records_.assign(spec_.drifts.size(), 0);
  if (fleet_.history_since && to_ms(*fleet_.history_since) > start_ms_) {
    warnings_.push_back(fmt::format("the install history starts at {}: versions before it are those of the first "
                                    "recorded install (or the running one)",
                                    format_ms(to_ms(*fleet_.history_since))));
  }

  // Where the output goes: data/ and truth/ are ours; anything else in OUT is left alone.
  const auto& out = spec_.out;
  auto data = out / "data";
  auto truth = out / "truth";
  auto manifest_path = out / "manifest.json";
  if (std::filesystem::exists(data) || std::filesystem::exists(truth) || std::filesystem::exists(manifest_path)) {
    if (!spec_.force) {
      throw Error::conflict(fmt::format("{} holds an earlier telemetry export", out.string()),
                            "Pass --force to replace it, or choose another --out.");
    }
    std::filesystem::remove_all(data);
    std::filesystem::remove_all(truth);
    std::filesystem::remove(manifest_path);
  }

  build_senders();
  WriterOptions wo;
  wo.out = out;
  wo.gzip = spec_.gzip;
  wo.batch = spec_.batch;
  wo.iothub = spec_.iothub;
  wo.seed = seed_;
  auto labels_tmp = spec_.labels;
  labels_tmp += ".partial";
  try {
    fs::ensure_dir(out);
    writer_ = make_export_writer(spec_.format, wo);
    plan_defects();
    for (const auto& s : senders_) expected_records_ += static_cast<std::uint64_t>(s.slots);
    if (!spec_.labels.empty()) labels_ = std::make_unique<OutputFile>(labels_tmp, false);

    std::int64_t max_slots = 0;
    for (const auto& s : senders_) max_slots = std::max(max_slots, s.slots);
    for (std::int64_t k = 0; k < max_slots; ++k) {
      generate(k);
      // Everything later has a hub time at or after the next slot's start.
      std::int64_t horizon = start_ms_ + (k + 1) * interval_ms_;
      while (!heap_.empty() && heap_.top().hub_ms < horizon) {
        emit(heap_.top());
        heap_.pop();
      }
      if (progress && (k % 16 == 0)) progress(records_, expected_records_);
    }
    while (!heap_.empty()) {
      emit(heap_.top());
      heap_.pop();
    }
    writer_->finish();
    if (labels_) labels_->close();
    if (progress) progress(records_, records_);

    // Ground truth files.
    auto manifest_json = manifest();
    {
      OutputFile defects_file(truth / "defects.jsonl", false);
      std::vector<const Plant*> ordered;
      for (const auto& p : plants_) {
        if (p.emitted) ordered.push_back(&p);
      }
      std::sort(ordered.begin(), ordered.end(), [](const Plant* a, const Plant* b) {
        return a->emit_order < b->emit_order;
      });
      for (const auto* p : ordered) {
        const auto& info = info_of(p->cls);
        const auto& s = senders_[p->sender];
        json j = {{"code", info.code},
                  {"class", info.name},
                  {"device", s.id},
                  {"messageId", p->message_id},
                  {"file", writer_->files()[p->where.file].path},
                  {"offset", p->where.offset},
                  {"ts", format_ms(p->device_ms)},
                  {"enqueuedTime", format_ms(p->hub_ms)}};
        if (p->field >= 0) j["field"] = k_payload_fields[static_cast<std::size_t>(p->field)].name;
        switch (p->cls) {
          case DefectClass::gap:
            j["missing"] = p->length;
            j["note"] = "messageId is the first record after the gap";
            break;
          case DefectClass::stuck_sensor:
            j["length"] = p->length;
            break;
          case DefectClass::clock_skew:
            j["skewMs"] = static_cast<std::int64_t>(p->param);
            break;
          case DefectClass::late_arrival:
            j["delayMs"] = static_cast<std::int64_t>(p->param);
            j["outOfOrder"] = p->out_of_order;
            break;
          case DefectClass::future_timestamp:
            j["aheadMs"] = static_cast<std::int64_t>(p->param);
            break;
          case DefectClass::out_of_order:
            j["backMs"] = static_cast<std::int64_t>(p->param);
            break;
          case DefectClass::missing_field:
            j["as"] = p->null_value ? "null" : "absent";
            break;
          case DefectClass::wrong_version:
            j["claimed"] = p->claimed;
            break;
          case DefectClass::unregistered:
            j["records"] = p->records;
            break;
          default:
            break;
        }
        defects_file.write(j.dump() + "\n");
      }
      defects_file.close();
      manifest_json["truth"]["defects"] = {{"path", "truth/defects.jsonl"},
                                           {"instances", ordered.size()},
                                           {"sha256", defects_file.sha256()}};
    }
    {
      OutputFile versions_file(truth / "versions.jsonl", false);
      std::size_t n = 0;
      for (const auto& s : senders_) {
        if (!s.registered) continue;
        json spans = json::array();
        for (std::size_t i = 0; i < s.spans.size(); ++i) {
          std::int64_t from = s.spans[i].from_ms;
          std::int64_t to = i + 1 < s.spans.size() ? s.spans[i + 1].from_ms : INT64_MAX;
          if (to <= start_ms_ || from >= end_ms_) continue;
          spans.push_back({{"version", versions_[s.spans[i].version]},
                           {"model", models_[s.spans[i].model]},
                           {"from", from == INT64_MIN ? json(nullptr) : json(format_ms(from))},
                           {"to", to == INT64_MAX ? json(nullptr) : json(format_ms(to))}});
        }
        json j = {{"deviceId", s.id}, {"site", s.site},       {"region", s.region},
                  {"hw", s.hw},       {"enabled", s.enabled}, {"versions", spans}};
        versions_file.write(j.dump() + "\n");
        ++n;
      }
      versions_file.close();
      manifest_json["truth"]["versions"] = {{"path", "truth/versions.jsonl"},
                                            {"devices", n},
                                            {"sha256", versions_file.sha256()}};
    }
    manifest_json["warnings"] = warnings_;
    fs::write_atomic(manifest_path, manifest_json.dump(2) + "\n");
    if (labels_) std::filesystem::rename(labels_tmp, spec_.labels);

    TelemetryResult result;
    result.manifest = std::move(manifest_json);
    result.records = records_;
    result.files = writer_->files().size();
    for (const auto& f : writer_->files()) result.bytes += f.bytes;
    result.warnings = warnings_;
    return result;
  } catch (...) {
    writer_.reset();
    labels_.reset();
    std::error_code ec;
    std::filesystem::remove_all(data, ec);
    std::filesystem::remove_all(truth, ec);
    if (!spec_.labels.empty()) std::filesystem::remove(labels_tmp, ec);
    throw;
  }
}

}  // namespace

TelemetryResult write_telemetry(const FleetSnapshot& fleet, const TelemetrySpec& spec, const TelemetryProgress& progress) {
  Generator g(fleet, spec);
  return g.run(progress);
}

}  // namespace aiot::sim
