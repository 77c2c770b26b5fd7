#include "aiot/report/inputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/lineage/readers.hpp"
#include "aiot/report/metrics_csv.hpp"

namespace aiot::report {

namespace fsys = std::filesystem;

namespace {

std::optional<TimePoint> ms_time(const std::optional<std::int64_t>& ms) {
  if (!ms) return std::nullopt;
  return TimePoint{std::chrono::milliseconds(*ms)};
}

// [from, to) of an audit.json: "window": {"from", "to"} (RFC 3339), else "windowFrom"/"windowTo".
std::pair<std::optional<TimePoint>, std::optional<TimePoint>> audit_window(const json& a) {
  auto get = [&](const json& obj, const char* key) -> std::optional<TimePoint> {
    if (obj.is_object() && obj.contains(key) && obj[key].is_string()) return parse_rfc3339(obj[key].get<std::string>());
    if (obj.is_object() && obj.contains(key) && obj[key].is_number_integer())
      return TimePoint{std::chrono::milliseconds(obj[key].get<std::int64_t>())};
    return std::nullopt;
  };
  if (a.contains("window")) return {get(a["window"], "from"), get(a["window"], "to")};
  return {get(a, "windowFrom"), get(a, "windowTo")};
}

bool overlaps(const Period& p, std::optional<TimePoint> from, std::optional<TimePoint> to) {
  if (!from || !to) return true;  // no window: assume it is the period's (noted by the caller)
  return *from < p.to && *to > p.from;
}

// "1", "true", or the model's favourable value.
std::optional<bool> favourable_value(const json& v, const std::string& favourable) {
  if (v.is_null()) return std::nullopt;
  if (v.is_boolean()) return v.get<bool>();
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.empty()) return std::nullopt;
  if (s == favourable) return true;
  if (s == "true" || s == "1" || s == "1.0") return favourable == "1" || favourable == "true";
  return false;
}

const json* first_of(const json& obj, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (obj.contains(k) && !obj[k].is_null()) return &obj[k];
  }
  return nullptr;
}

std::string favourable_for(const Inputs& in, const std::string& model_name) {
  auto it = in.policy.models.find(model_name);
  if (it != in.policy.models.end()) return it->second.favourable;
  if (in.policy.models.size() == 1) return in.policy.models.begin()->second.favourable;
  return "1";
}

LabelRow label_from_json(const Inputs& in, const json& o, const std::string& where) {
  LabelRow r;
  const json* dev = first_of(o, {"deviceId", "device_id", "device"});
  const json* ts = first_of(o, {"ts", "timestamp", "time"});
  if (!dev || !dev->is_string()) throw Error::usage(where + ": deviceId is required");
  if (!ts) throw Error::usage(where + ": ts is required");
  r.device_id = dev->get<std::string>();
  if (const json* m = first_of(o, {"messageId", "message_id", "messageid"}); m && m->is_string()) r.message_id = m->get<std::string>();
  if (ts->is_number_integer()) {
    r.ts = TimePoint{std::chrono::milliseconds(ts->get<std::int64_t>())};
  } else if (auto t = ts->is_string() ? parse_rfc3339(ts->get<std::string>()) : std::nullopt) {
    r.ts = *t;
  } else {
    throw Error::usage(where + ": ts must be RFC 3339 or epoch milliseconds");
  }
  std::string model;
  if (const json* m = first_of(o, {"model", "modelName"}); m && m->is_string()) model = m->get<std::string>();
  if (const json* v = first_of(o, {"modelVersion", "model_version", "version"})) {
    r.model_version = v->is_string() ? v->get<std::string>() : v->dump();
  }
  std::string fav = favourable_for(in, model);
  if (const json* p = first_of(o, {"prediction", "predicted", "decision"})) r.predicted = favourable_value(*p, fav);
  if (const json* l = first_of(o, {"label", "actual", "outcome", "truth"})) r.actual = favourable_value(*l, fav);
  if (const json* c = first_of(o, {"confidence", "score"}); c && c->is_number()) r.confidence = c->get<double>();
  for (const char* seg : {"site", "region", "hw", "hw_class", "deviceClass"}) {
    if (o.contains(seg) && o[seg].is_string()) r.segments[seg == std::string("hw_class") || seg == std::string("deviceClass") ? "hw" : seg] = o[seg].get<std::string>();
  }
  return r;
}

}  // namespace

std::string read_evidence(Inputs& in, const std::string& role, const fsys::path& path) {
  std::string content;
  try {
    content = fs::read_file(path);
  } catch (const Error& e) {
    throw Error::usage(fmt::format("{}: cannot read the {} file ({})", path.string(), role, e.message()));
  }
  in.files.push_back({role, path.string(), crypto::sha256_hex(content), content.size()});
  return content;
}

void load_policy(Inputs& in, const fsys::path& path) {
  std::string text = read_evidence(in, "policy", path);
  in.policy = Policy::parse(text, path.string());
}

void load_audits(Inputs& in, const fsys::path& dir, const fsys::path& cwd) {
  if (!fsys::is_directory(dir)) throw Error::usage(fmt::format("--audits {}: not a folder", dir.string()));
  std::vector<fsys::path> files;
  for (const auto& e : fsys::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::pair<fsys::path, lineage::Profile>> current, earlier;
  for (const auto& f : files) {
    std::string text = fs::read_file(f);
    // Only our two schemas; a quick look at the prefix avoids parsing unrelated big JSON files.
    auto head = std::string_view(text).substr(0, 4096);
    bool is_profile = head.find("aiot.profile/") != std::string_view::npos;
    bool is_audit = head.find("aiot.audit/") != std::string_view::npos;
    if (!is_profile && !is_audit) {
      json j = json::parse(text, nullptr, false);
      if (j.is_object() && j.value("schema", "").rfind("aiot.profile/", 0) == 0) is_profile = true;
      if (j.is_object() && j.value("schema", "").rfind("aiot.audit/", 0) == 0) is_audit = true;
      if (!is_profile && !is_audit) continue;
    }
    if (is_profile) {
      auto profile = lineage::Profile::from_json_text(text, f.string());
      auto from = ms_time(profile.window_from_ms), to = ms_time(profile.window_to_ms);
      bool ref_by_policy = !in.policy.drift_reference.empty() &&
                           fsys::weakly_canonical(f) == fsys::weakly_canonical(
                               fsys::path(in.policy.drift_reference).is_relative() ? cwd / in.policy.drift_reference
                                                                                   : fsys::path(in.policy.drift_reference));
      if (ref_by_policy) continue;  // loaded below as the reference
      if (to && *to <= in.period.from) {
        earlier.emplace_back(f, std::move(profile));
      } else if (overlaps(in.period, from, to)) {
        in.files.push_back({"profile", f.string(), crypto::sha256_hex(text), text.size()});
        current.emplace_back(f, std::move(profile));
      }
      continue;
    }
    json a = json::parse(text, nullptr, false);
    if (!a.is_object()) throw Error::usage(fmt::format("{}: not a JSON object", f.string()));
    auto [from, to] = audit_window(a);
    if (!overlaps(in.period, from, to)) continue;
    if (!from || !to) in.notes.push_back(fmt::format("{}: the audit names no window; taken as the period's", f.string()));
    in.files.push_back({"audit", f.string(), crypto::sha256_hex(text), text.size()});
    in.audits.push_back({f.string(), std::move(a)});
  }
  for (auto& [path, profile] : current) {
    if (!in.profile) {
      in.profile = std::move(profile);
    } else {
      in.profile->merge(profile);
    }
  }
  if (!in.policy.drift_reference.empty()) {
    fsys::path ref = in.policy.drift_reference;
    if (ref.is_relative()) ref = cwd / ref;
    std::string text = read_evidence(in, "reference-profile", ref);
    in.reference = lineage::Profile::from_json_text(text, ref.string());
    in.reference_origin = ref.string();
  } else if (!earlier.empty()) {
    auto latest = std::max_element(earlier.begin(), earlier.end(), [](const auto& a, const auto& b) {
      return std::tie(a.second.window_to_ms, a.first) < std::tie(b.second.window_to_ms, b.first);
    });
    std::string text = fs::read_file(latest->first);
    in.files.push_back({"reference-profile", latest->first.string(), crypto::sha256_hex(text), text.size()});
    in.reference_origin = latest->first.string();
    in.reference = std::move(latest->second);
  }
}

void load_labels(Inputs& in, const fsys::path& path) {
  std::string text = read_evidence(in, "labels", path);
  std::vector<LabelRow> rows;
  auto first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && text[first] == '{') {
    std::size_t line_no = 0, start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      ++line_no;
      std::string_view line = str::trim(std::string_view(text).substr(start, end - start));
      start = end + 1;
      if (line.empty()) continue;
      json o = json::parse(line, nullptr, false);
      std::string where = fmt::format("{}:{}", path.string(), line_no);
      if (!o.is_object()) throw Error::usage(where + ": not a JSON object");
      rows.push_back(label_from_json(in, o, where));
    }
  } else {
    auto table = detail::parse_csv(text, path.string());
    for (const auto& row : table.rows) {
      json o = json::object();
      for (std::size_t i = 0; i < table.header.size() && i < row.fields.size(); ++i) {
        const std::string& cell = row.fields[i];
        if (cell.empty()) continue;
        std::string key = table.header[i];
        // CSV headers are lower-cased by the reader: map them to the NDJSON spellings.
        if (key == "deviceid") key = "deviceId";
        if (key == "modelversion") key = "modelVersion";
        if (key == "messageid") key = "messageId";
        char* end = nullptr;
        double v = std::strtod(cell.c_str(), &end);
        if (key == "confidence" && end && *end == '\0') {
          o[key] = v;
        } else {
          o[key] = cell;
        }
      }
      rows.push_back(label_from_json(in, o, fmt::format("{}:{}", path.string(), row.line)));
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const LabelRow& a, const LabelRow& b) {
    return std::tie(a.ts, a.device_id) < std::tie(b.ts, b.device_id);
  });
  in.labels = std::move(rows);
}

void load_decisions(Inputs& in, const std::vector<std::string>& patterns) {
  // Labels without a prediction of their own wait to be joined by message id.
  std::unordered_map<std::string, bool> label_of;
  std::vector<LabelRow> decisions;
  if (in.labels) {
    for (auto& r : *in.labels) {
      if (r.predicted) {
        decisions.push_back(std::move(r));
      } else if (r.actual && !r.message_id.empty()) {
        label_of[r.message_id] = *r.actual;
      }
    }
  }
  auto files = lineage::discover_files(patterns);
  lineage::ReadOptions opt;
  std::string fav = in.policy.models.size() == 1 ? in.policy.models.begin()->second.favourable : "1";
  double fav_number = 1;
  try {
    fav_number = std::stod(fav);
  } catch (const std::logic_error&) {
  }
  const std::int64_t end_ms = std::chrono::duration_cast<std::chrono::milliseconds>(in.period.to.time_since_epoch()).count();
  for (std::uint32_t i = 0; i < files.size(); ++i) {
    auto stats = lineage::read_input(files[i], i, opt, [&](lineage::RecordBatch&& batch) {
      for (const auto& rec : batch.records) {
        auto ts = rec.device_ts_ms ? rec.device_ts_ms : rec.hub_ts_ms;
        if (!ts || *ts >= end_ms) continue;
        const lineage::Field* fields = batch.fields_of(rec);
        std::optional<bool> predicted;
        std::optional<double> confidence;
        for (std::uint32_t f = 0; f < rec.field_count; ++f) {
          const auto& field = fields[f];
          if (field.name == "prediction") {
            if (field.kind == lineage::Field::Kind::number || field.kind == lineage::Field::Kind::boolean) predicted = field.number == fav_number;
            if (field.kind == lineage::Field::Kind::text) predicted = field.text == fav;
          } else if (field.name == "confidence" && field.kind == lineage::Field::Kind::number) {
            confidence = field.number;
          }
        }
        if (!predicted) continue;
        LabelRow r;
        r.device_id = std::string(rec.device_id);
        r.message_id = std::string(rec.message_id);
        r.ts = TimePoint{std::chrono::milliseconds(*ts)};
        r.model_version = std::string(rec.model_version);
        r.predicted = predicted;
        r.confidence = confidence;
        if (auto it = label_of.find(r.message_id); it != label_of.end()) r.actual = it->second;
        decisions.push_back(std::move(r));
      }
    });
    in.files.push_back({"decisions", files[i].name, stats.sha256, stats.bytes});
  }
  std::stable_sort(decisions.begin(), decisions.end(), [](const LabelRow& a, const LabelRow& b) {
    return std::tie(a.ts, a.device_id) < std::tie(b.ts, b.device_id);
  });
  in.labels = std::move(decisions);
}

void load_billing(Inputs& in, const fsys::path& path) {
  std::string text = read_evidence(in, "billing", path);
  in.billing = parse_billing_csv(text, path.string());
}

void load_energy(Inputs& in, const fsys::path& path) {
  std::string text = read_evidence(in, "energy", path);
  in.energy = parse_energy_csv(text, path.string());
}

void load_intensity(Inputs& in, const fsys::path& path) {
  read_evidence(in, "intensity", path);
  in.carbon.load_csv(path.string());
}

void load_journals(Inputs& in, const fsys::path& dir,
                   const std::function<std::optional<rollout::JournalHead>(const std::string&)>& hub_head) {
  if (!fsys::is_directory(dir)) return;
  std::vector<fsys::path> files;
  for (const auto& e : fsys::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".jsonl") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    JournalInput j;
    j.rollout = f.stem().string();
    j.path = f.string();
    j.hub_head = hub_head ? hub_head(j.rollout) : std::nullopt;
    j.verify = rollout::verify_journal(f, j.hub_head);
    try {
      j.events = rollout::read_journal(f);
    } catch (const Error& e) {
      j.verify.ok = false;
      if (j.verify.problem.empty()) j.verify.problem = e.message();
    }
    std::string text = fs::read_file(f);
    in.files.push_back({"journal", f.string(), crypto::sha256_hex(text), text.size()});
    in.journals.push_back(std::move(j));
  }
}

void load_previous(Inputs& in, const fsys::path& out_dir) {
  Period prev = previous_period(in.period);
  fsys::path path = out_dir / report_file_name(prev.label, Format::json);
  if (!fsys::exists(path)) return;
  json j = json::parse(fs::read_file(path), nullptr, false);
  if (!j.is_object() || j.value("schema", "") != k_report_schema) {
    in.notes.push_back(fmt::format("{}: not an {} document; no changes shown", path.string(), k_report_schema));
    return;
  }
  in.previous = std::move(j);
  in.previous_path = path.string();
}

}  // namespace aiot::report
