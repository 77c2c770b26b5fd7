#include "aiot/lineage/profile.hpp"

#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/time.hpp"

namespace aiot::lineage {

using nlohmann::json;

namespace {

// Error messages name the file and the member: "profile.json: models.1.2.0.fields.temp.quantiles:
// "k" must be ...". `where` is that prefix without the last colon.
std::string sub(const std::string& where, std::string_view member) { return fmt::format("{}.{}", where, member); }

[[noreturn]] void bad(const std::string& where, const std::string& message) {
  throw Error::usage(fmt::format("{}: {}", where, message));
}

// Runs `read` and prefixes any Error::usage it throws with "where: ".
template <typename F>
auto at(const std::string& where, F&& read) {
  try {
    return read();
  } catch (const Error& e) {
    throw e.with_prefix(where + ": ");
  } catch (const json::exception& e) {
    bad(where, e.what());
  }
}

const json& need(const json& j, const char* key, const std::string& where) {
  if (!j.is_object()) {
    bad(where, "expected an object");
  }
  const auto it = j.find(key);
  if (it == j.end()) {
    bad(where, fmt::format("missing \"{}\"", key));
  }
  return *it;
}

std::uint64_t need_u64(const json& j, const char* key, const std::string& where) {
  const auto& v = need(j, key, where);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    bad(sub(where, key), "must be a non-negative integer");
  }
  return v.get<std::uint64_t>();
}

const json& need_object(const json& j, const char* key, const std::string& where) {
  const auto& v = need(j, key, where);
  if (!v.is_object()) {
    bad(sub(where, key), "must be an object");
  }
  return v;
}

json time_or_null(const std::optional<std::int64_t>& ms) {
  if (!ms) {
    return nullptr;
  }
  return format_rfc3339(TimePoint(std::chrono::milliseconds(*ms)));
}

std::optional<std::int64_t> read_time(const json& j, const char* key, const std::string& where) {
  const auto& v = need(j, key, where);
  if (v.is_null()) {
    return std::nullopt;
  }
  const auto parsed = v.is_string() ? parse_rfc3339(v.get_ref<const std::string&>()) : std::nullopt;
  if (!parsed) {
    bad(sub(where, key), "must be an RFC 3339 time or null");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(parsed->time_since_epoch()).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// FieldProfile

void FieldProfile::add(const Field& field) {
  switch (field.kind) {
    case Field::Kind::number:
    case Field::Kind::boolean:
      add_number(field.number);
      break;
    case Field::Kind::text:
      add_text(field.text);
      break;
    case Field::Kind::null:
      add_null();
      break;
  }
}

void FieldProfile::add_number(double x) {
  ++count;
  ++numbers;
  moments.update(x);
  quantiles.update(x);
  // Distinct numbers by bit pattern, with -0 folded into 0 so they count once.
  const double folded = x == 0.0 ? 0.0 : x;
  char bytes[sizeof(double)];
  std::memcpy(bytes, &folded, sizeof bytes);
  distinct.update(std::string_view(bytes, sizeof bytes));
}

void FieldProfile::add_text(std::string_view text) {
  ++count;
  ++texts;
  distinct.update(text);
  top_text.update(text);
}

void FieldProfile::merge(const FieldProfile& other) {
  count += other.count;
  nulls += other.nulls;
  missing += other.missing;
  numbers += other.numbers;
  texts += other.texts;
  moments.merge(other.moments);
  quantiles.merge(other.quantiles);
  distinct.merge(other.distinct);
  top_text.merge(other.top_text);
}

json FieldProfile::to_json() const {
  return json{{"count", count},
              {"nulls", nulls},
              {"missing", missing},
              {"numbers", numbers},
              {"texts", texts},
              {"moments", moments.to_json()},
              {"quantiles", quantiles.to_json()},
              {"distinct", distinct.to_json()},
              {"top_text", top_text.to_json()}};
}

FieldProfile FieldProfile::from_json(const json& j, const std::string& where) {
  FieldProfile f;
  f.count = need_u64(j, "count", where);
  f.nulls = need_u64(j, "nulls", where);
  f.missing = need_u64(j, "missing", where);
  f.numbers = need_u64(j, "numbers", where);
  f.texts = need_u64(j, "texts", where);
  f.moments = at(sub(where, "moments"), [&] { return Moments::from_json(need(j, "moments", where)); });
  f.quantiles = at(sub(where, "quantiles"), [&] { return KllSketch::from_json(need(j, "quantiles", where)); });
  f.distinct = at(sub(where, "distinct"), [&] { return HllSketch::from_json(need(j, "distinct", where)); });
  f.top_text = at(sub(where, "top_text"), [&] { return FrequentItems::from_json(need(j, "top_text", where)); });
  if (f.numbers + f.texts != f.count) {
    bad(where, fmt::format("count {} is not numbers {} + texts {}", f.count, f.numbers, f.texts));
  }
  if (f.moments.n > f.numbers || f.quantiles.n() > f.numbers) {
    bad(where, "moments or quantiles hold more values than \"numbers\"");
  }
  if (f.top_text.total_weight() != f.texts) {
    bad(where, fmt::format("top_text.total {} differs from texts {}", f.top_text.total_weight(), f.texts));
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// ModelProfile and Profile

FieldProfile& ModelProfile::field(std::string_view name) {
  if (const auto it = fields.find(name); it != fields.end()) {
    return it->second;
  }
  return fields.try_emplace(std::string(name)).first->second;
}

void ModelProfile::merge(const ModelProfile& other) {
  records += other.records;
  for (const auto& [name, field_profile] : other.fields) {
    field(name).merge(field_profile);
  }
}

ModelProfile& Profile::model(std::string_view model_version) {
  const std::string_view key = model_version.empty() ? k_unattributed : model_version;
  if (const auto it = models.find(key); it != models.end()) {
    return it->second;
  }
  return models.try_emplace(std::string(key)).first->second;
}

FieldProfile& Profile::field(std::string_view model_version, std::string_view name) {
  return model(model_version).field(name);
}

void Profile::add_record(std::string_view device_id, std::string_view device_class, std::string_view model_version) {
  ++records;
  devices.update(device_id);
  if (!device_class.empty()) {
    if (const auto it = device_classes.find(device_class); it != device_classes.end()) {
      ++it->second;
    } else {
      device_classes.emplace(std::string(device_class), 1);
    }
  }
  ++model(model_version).records;
}

void Profile::merge(const Profile& other) {
  if (other.window_from_ms && (!window_from_ms || *other.window_from_ms < *window_from_ms)) {
    window_from_ms = other.window_from_ms;
  }
  if (other.window_to_ms && (!window_to_ms || *other.window_to_ms > *window_to_ms)) {
    window_to_ms = other.window_to_ms;
  }
  records += other.records;
  malformed += other.malformed;
  bytes += other.bytes;
  inputs += other.inputs;
  devices.merge(other.devices);
  for (const auto& [name, count] : other.device_classes) {
    device_classes[name] += count;
  }
  for (const auto& [version, model_profile] : other.models) {
    model(version).merge(model_profile);
  }
}

json Profile::to_json() const {
  json models_json = json::object();
  for (const auto& [version, model_profile] : models) {
    json fields_json = json::object();
    for (const auto& [name, field_profile] : model_profile.fields) {
      fields_json[name] = field_profile.to_json();
    }
    models_json[version] = json{{"records", model_profile.records}, {"fields", std::move(fields_json)}};
  }
  json classes = json::object();
  for (const auto& [name, count] : device_classes) {
    classes[name] = count;
  }
  return json{{"schema", std::string(k_profile_schema)},
              {"window", json{{"from", time_or_null(window_from_ms)}, {"to", time_or_null(window_to_ms)}}},
              {"records", records},
              {"malformed", malformed},
              {"bytes", bytes},
              {"inputs", inputs},
              {"devices", devices.to_json()},
              {"device_classes", std::move(classes)},
              {"models", std::move(models_json)}};
}

std::string Profile::to_json_text() const { return to_json().dump(2) + "\n"; }

Profile Profile::from_json(const json& j, const std::string& origin) {
  if (!j.is_object()) {
    bad(origin, "a profile must be a JSON object");
  }
  const auto schema_it = j.find("schema");
  if (schema_it == j.end() || !schema_it->is_string()) {
    bad(origin, fmt::format("\"schema\" is missing; expected \"{}\" (is this an aiot profile?)", k_profile_schema));
  }
  const auto& schema = schema_it->get_ref<const std::string&>();
  if (schema != k_profile_schema) {
    bad(origin, fmt::format("schema \"{}\" is not supported: this aiot reads \"{}\", and profiles of different "
                            "schema versions cannot be merged or compared",
                            schema, k_profile_schema));
  }
  const std::string top = origin;
  Profile p;
  const auto& window = need_object(j, "window", top);
  const std::string window_where = origin + ": window";
  p.window_from_ms = read_time(window, "from", window_where);
  p.window_to_ms = read_time(window, "to", window_where);
  if (p.window_from_ms && p.window_to_ms && *p.window_from_ms > *p.window_to_ms) {
    bad(window_where, "\"from\" is after \"to\"");
  }
  p.records = need_u64(j, "records", top);
  p.malformed = need_u64(j, "malformed", top);
  p.bytes = need_u64(j, "bytes", top);
  p.inputs = need_u64(j, "inputs", top);
  p.devices = at(origin + ": devices", [&] { return HllSketch::from_json(need(j, "devices", top)); });
  for (const auto& [name, count] : need_object(j, "device_classes", top).items()) {
    if (!count.is_number_unsigned()) {
      bad(origin + ": device_classes." + name, "must be a non-negative integer");
    }
    p.device_classes[name] = count.get<std::uint64_t>();
  }
  std::uint64_t model_records = 0;
  for (const auto& [version, model_json] : need_object(j, "models", top).items()) {
    if (version.empty()) {
      bad(origin + ": models", fmt::format("a model version key is empty (use \"{}\")", k_unattributed));
    }
    const std::string model_where = origin + ": models." + version;
    ModelProfile m;
    m.records = need_u64(model_json, "records", model_where);
    model_records += m.records;
    for (const auto& [name, field_json] : need_object(model_json, "fields", model_where).items()) {
      m.fields.emplace(name, FieldProfile::from_json(field_json, model_where + ".fields." + name));
    }
    p.models.emplace(version, std::move(m));
  }
  if (model_records != p.records) {
    bad(origin + ": models", fmt::format("records per model add up to {}, not records {}", model_records, p.records));
  }
  return p;
}

Profile Profile::from_json_text(std::string_view text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error::usage(fmt::format("{}: not valid JSON (byte {}): {}", origin, e.byte, e.what()));
  }
  return from_json(j, origin);
}

Profile Profile::load(const std::filesystem::path& path) {
  return from_json_text(fs::read_file(path), path.string());
}

void Profile::save(const std::filesystem::path& path) const { fs::write_atomic(path, to_json_text()); }

}  // namespace aiot::lineage
