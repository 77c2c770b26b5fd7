#include "aiot/fleet/device_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "aiot/core/crypto.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::fleet {

using json = nlohmann::json;

std::optional<FileFormat> parse_file_format(std::string_view s) {
  if (s == "csv") return FileFormat::csv;
  if (s == "yaml" || s == "yml") return FileFormat::yaml;
  if (s == "jsonl" || s == "ndjson" || s == "json") return FileFormat::jsonl;
  return std::nullopt;
}

FileFormat detect_format(const std::filesystem::path& path, std::string_view content) {
  auto ext = str::to_lower(path.extension().string());
  if (ext == ".csv") return FileFormat::csv;
  if (ext == ".yaml" || ext == ".yml") return FileFormat::yaml;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return FileFormat::jsonl;
  auto t = str::trim(content);
  if (!t.empty() && t.front() == '{') return FileFormat::jsonl;
  if (!t.empty() && (t.front() == '-' || t.rfind("---", 0) == 0)) return FileFormat::yaml;
  return FileFormat::csv;
}

namespace {

// The fields of one row, whatever the file format, before validation.
struct RawRow {
  std::size_t line = 0;
  std::optional<std::string> id, auth, status, primary_key, secondary_key, primary_tp, secondary_tp, primary_tp256,
      secondary_tp256, cert;
  json tags = json::object();
  json desired = json::object();
};

std::string normalise_thumbprint(const std::string& field, const std::string& text) {
  std::string hex;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      throw Error::usage(fmt::format("{}: '{}' is not a hex thumbprint", field, text));
    hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 40 && hex.size() != 64)
    throw Error::usage(fmt::format("{}: a thumbprint has 40 (SHA-1) or 64 (SHA-256) hex digits, got {}", field, hex.size()));
  return hex;
}

void set_thumbprint(hub::Thumbprints& tp, const std::string& field, const std::string& text) {
  auto hex = normalise_thumbprint(field, text);
  (hex.size() == 40 ? tp.sha1 : tp.sha256) = hex;
}

void check_key(const std::string& field, const std::string& key) {
  std::string raw;
  try {
    raw = crypto::base64_decode(key);
  } catch (const Error&) {
    throw Error::usage(fmt::format("{} is not base64", field));
  }
  if (raw.size() < 16 || raw.size() > 64)
    throw Error::usage(fmt::format("{} must decode to 16 to 64 bytes, got {}", field, raw.size()));
}

void check_tags(const json& tags) {
  for (auto& [k, v] : tags.items()) {
    if (k.empty() || k.find_first_of(". $") != std::string::npos)
      throw Error::usage(fmt::format("tag name '{}' must not be empty or contain '.', '$' or spaces", k));
    (void)v;
  }
}

DeviceRow validate(const RawRow& raw, const std::filesystem::path& base_dir) {
  DeviceRow row;
  row.line = raw.line;
  if (!raw.id || raw.id->empty()) throw Error::usage("id is missing");
  if (auto why = hub::invalid_device_id(*raw.id)) throw Error::usage(*why);
  auto& d = row.spec;
  d.id = *raw.id;
  if (raw.auth && !raw.auth->empty()) {
    auto t = hub::parse_auth_type(*raw.auth);
    if (!t || *t == hub::AuthType::none)
      throw Error::usage(fmt::format("auth '{}' is not one of sas, x509-self-signed, x509-ca", *raw.auth));
    d.auth.type = *t;
  }
  if (raw.status && !raw.status->empty()) {
    if (*raw.status == "enabled") d.enabled = true;
    else if (*raw.status == "disabled") d.enabled = false;
    else throw Error::usage(fmt::format("status '{}' is not enabled or disabled", *raw.status));
  }
  bool sas = d.auth.type == hub::AuthType::sas;
  if (raw.primary_key && !raw.primary_key->empty()) {
    if (!sas) throw Error::usage("primary_key goes with auth sas");
    check_key("primary_key", *raw.primary_key);
    d.auth.primary_key = *raw.primary_key;
  }
  if (raw.secondary_key && !raw.secondary_key->empty()) {
    if (!sas) throw Error::usage("secondary_key goes with auth sas");
    check_key("secondary_key", *raw.secondary_key);
    d.auth.secondary_key = *raw.secondary_key;
  }
  bool has_tp = false;
  for (auto [field, value, tp] :
       {std::tuple{"primary_thumbprint", &raw.primary_tp, &d.auth.primary},
        std::tuple{"primary_thumbprint_sha256", &raw.primary_tp256, &d.auth.primary},
        std::tuple{"secondary_thumbprint", &raw.secondary_tp, &d.auth.secondary},
        std::tuple{"secondary_thumbprint_sha256", &raw.secondary_tp256, &d.auth.secondary}}) {
    if (*value && !(*value)->empty()) {
      if (d.auth.type != hub::AuthType::self_signed)
        throw Error::usage(fmt::format("{} goes with auth x509-self-signed", field));
      set_thumbprint(*tp, field, **value);
      has_tp = true;
    }
  }
  if (raw.cert && !raw.cert->empty()) {
    if (sas) throw Error::usage("cert goes with auth x509-self-signed or x509-ca");
    if (has_tp) throw Error::usage("give either cert or thumbprints, not both");
    std::filesystem::path p = *raw.cert;
    row.cert_path = (p.is_relative() && !base_dir.empty() ? base_dir / p : p).string();
  }
  check_tags(raw.tags);
  d.tags = raw.tags;
  if (!raw.desired.is_object()) throw Error::usage("desired must be an object");
  d.desired = raw.desired;
  return row;
}

// Applies one named field to a raw row; unknown names are errors.
void set_field(RawRow& r, const std::string& name, const json& value) {
  auto text = [&]() -> std::string {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_null()) return {};
    return value.dump();
  };
  if (name == "id" || name == "deviceId") r.id = text();
  else if (name == "auth" || name == "authenticationType") r.auth = text();
  else if (name == "status") r.status = text();
  else if (name == "primary_key") r.primary_key = text();
  else if (name == "secondary_key") r.secondary_key = text();
  else if (name == "primary_thumbprint") r.primary_tp = text();
  else if (name == "secondary_thumbprint") r.secondary_tp = text();
  else if (name == "primary_thumbprint_sha256") r.primary_tp256 = text();
  else if (name == "secondary_thumbprint_sha256") r.secondary_tp256 = text();
  else if (name == "cert") r.cert = text();
  else if (name == "tags") {
    if (!value.is_object()) throw Error::usage("tags must be a map of name: value");
    r.tags = value;
  } else if (name == "desired") {
    if (!value.is_object()) throw Error::usage("desired must be a map");
    r.desired = value;
  } else if (name.rfind("tags.", 0) == 0 && name.size() > 5) {
    if (!value.is_null() && !(value.is_string() && value.get<std::string>().empty())) r.tags[name.substr(5)] = value;
  } else {
    throw Error::usage(fmt::format("unknown field '{}'", name));
  }
}

// ---- CSV (RFC 4180: quoted fields may hold commas, quotes and newlines) ----

struct CsvRecord {
  std::size_t line;
  std::vector<std::string> fields;
  std::string error;  // set when the record is malformed
};

std::vector<CsvRecord> read_csv(std::string_view text) {
  std::vector<CsvRecord> records;
  std::size_t i = 0, line = 1;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 BOM from spreadsheet exports
  while (i < text.size()) {
    CsvRecord rec{line, {}, {}};
    std::string field;
    bool in_quotes = false, field_started = false, record_done = false;
    while (i < text.size() && !record_done) {
      char c = text[i];
      if (in_quotes) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          in_quotes = false;
          ++i;
          if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r' && rec.error.empty())
            rec.error = "text after a closing quote";
          continue;
        }
        if (c == '\n') ++line;
        field += c;
        ++i;
        continue;
      }
      if (c == '"' && !field_started) {
        in_quotes = true;
        field_started = true;
        ++i;
      } else if (c == ',') {
        rec.fields.push_back(std::move(field));
        field.clear();
        field_started = false;
        ++i;
      } else if (c == '\r' || c == '\n') {
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        ++line;
        record_done = true;
      } else {
        if (c == '"' && rec.error.empty()) rec.error = "a quote inside an unquoted field";
        field += c;
        field_started = true;
        ++i;
      }
    }
    if (in_quotes) rec.error = "a quoted field is not closed";
    rec.fields.push_back(std::move(field));
    bool blank = rec.fields.size() == 1 && rec.fields[0].empty() && rec.error.empty();
    if (!blank) records.push_back(std::move(rec));
  }
  return records;
}

DeviceFile parse_csv(std::string_view content, const std::string& source, const std::filesystem::path& base_dir) {
  DeviceFile out;
  auto records = read_csv(content);
  if (records.empty()) return out;
  const auto& header = records.front();
  if (!header.error.empty())
    throw Error::usage(fmt::format("{}:{}: header row: {}", source, header.line, header.error));
  std::vector<std::string> names;
  for (const auto& h : header.fields) {
    auto name = std::string(str::trim(h));
    RawRow probe;
    try {
      set_field(probe, name, json(nullptr));
    } catch (const Error& e) {
      throw Error::usage(fmt::format("{}:{}: header row: {}", source, header.line, e.message()),
                         "Fields: id, auth, status, primary_key, secondary_key, primary_thumbprint, "
                         "secondary_thumbprint, cert, tags.NAME");
    }
    if (std::find(names.begin(), names.end(), name) != names.end())
      throw Error::usage(fmt::format("{}:{}: header row: column '{}' appears twice", source, header.line, name));
    names.push_back(name);
  }
  if (std::find(names.begin(), names.end(), "id") == names.end() &&
      std::find(names.begin(), names.end(), "deviceId") == names.end())
    throw Error::usage(fmt::format("{}:{}: header row has no 'id' column", source, header.line));
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    try {
      if (!rec.error.empty()) throw Error::usage(rec.error);
      if (rec.fields.size() != names.size())
        throw Error::usage(fmt::format("{} fields, the header has {}", rec.fields.size(), names.size()));
      RawRow raw;
      raw.line = rec.line;
      for (size_t c = 0; c < names.size(); ++c) set_field(raw, names[c], json(std::string(str::trim(rec.fields[c]))));
      out.rows.push_back(validate(raw, base_dir));
    } catch (const Error& e) {
      out.errors.push_back({rec.line, e.message()});
    }
  }
  return out;
}

// ---- YAML ----

json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(yaml_to_json(item));
      return a;
    }
    case YAML::NodeType::Scalar: {
      // Plain scalars keep YAML's meaning (true, 12, 1.5); quoted ones stay strings.
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s == "null" || s == "~" || s == "Null") return nullptr;
      auto j = json::parse(s, nullptr, false);
      if (!j.is_discarded() && j.is_number()) return j;
      return s;
    }
    default:
      return nullptr;
  }
}

DeviceFile parse_yaml(std::string_view content, const std::string& source, const std::filesystem::path& base_dir) {
  DeviceFile out;
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(content));
  } catch (const YAML::ParserException& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (doc.IsNull()) return out;
  if (doc.IsMap() && doc["devices"]) doc = doc["devices"];
  if (!doc.IsSequence())
    throw Error::usage(fmt::format("{}:{}: expected a list of devices", source, doc.Mark().line + 1));
  std::set<std::string> seen;
  for (const auto& item : doc) {
    std::size_t line = static_cast<std::size_t>(item.Mark().line + 1);
    try {
      if (!item.IsMap()) throw Error::usage("a device is a map of fields (id: ..., auth: ...)");
      RawRow raw;
      raw.line = line;
      for (const auto& kv : item) set_field(raw, kv.first.as<std::string>(), yaml_to_json(kv.second));
      out.rows.push_back(validate(raw, base_dir));
    } catch (const YAML::Exception& e) {
      out.errors.push_back({line, e.msg});
    } catch (const Error& e) {
      out.errors.push_back({line, e.message()});
    }
  }
  return out;
}

// ---- JSON Lines ----

DeviceFile parse_jsonl(std::string_view content, const std::filesystem::path& base_dir) {
  DeviceFile out;
  std::size_t line = 0, pos = 0;
  while (pos <= content.size()) {
    auto nl = content.find('\n', pos);
    auto text = content.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    ++line;
    pos = nl == std::string_view::npos ? content.size() + 1 : nl + 1;
    if (str::trim(text).empty()) continue;
    try {
      json obj;
      try {
        obj = json::parse(text);
      } catch (const json::parse_error& e) {
        throw Error::usage(fmt::format("not valid JSON (at byte {})", e.byte));
      }
      if (!obj.is_object()) throw Error::usage("each line is a JSON object");
      RawRow raw;
      raw.line = line;
      for (auto& [k, v] : obj.items()) set_field(raw, k, v);
      out.rows.push_back(validate(raw, base_dir));
    } catch (const Error& e) {
      out.errors.push_back({line, e.message()});
    }
  }
  return out;
}

}  // namespace

DeviceFile parse_device_file(std::string_view content, FileFormat format, const std::string& source,
                             const std::filesystem::path& base_dir) {
  DeviceFile out;
  switch (format) {
    case FileFormat::csv: out = parse_csv(content, source, base_dir); break;
    case FileFormat::yaml: out = parse_yaml(content, source, base_dir); break;
    case FileFormat::jsonl: out = parse_jsonl(content, base_dir); break;
  }
  // The same id twice in one file: the later rows are errors, the first one stands.
  std::set<std::string> seen;
  std::vector<DeviceRow> unique;
  unique.reserve(out.rows.size());
  for (auto& row : out.rows) {
    if (!seen.insert(row.spec.id).second) {
      out.errors.push_back({row.line, fmt::format("device '{}' appears earlier in the file", row.spec.id)});
      continue;
    }
    unique.push_back(std::move(row));
  }
  out.rows = std::move(unique);
  std::sort(out.errors.begin(), out.errors.end(), [](const RowError& a, const RowError& b) { return a.line < b.line; });
  return out;
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
}  // namespace

std::string to_csv(const std::vector<hub::Device>& devices) {
  std::set<std::string> tag_names;
  for (const auto& d : devices)
    for (auto& [k, v] : d.tags.items()) tag_names.insert(k);
  std::string out = "id,auth,status,primary_thumbprint,primary_thumbprint_sha256,secondary_thumbprint,secondary_thumbprint_sha256";
  for (const auto& t : tag_names) out += "," + csv_field("tags." + t);
  out += '\n';
  for (const auto& d : devices) {
    out += csv_field(d.id) + "," + std::string(hub::to_string(d.auth.type)) + "," + (d.enabled ? "enabled" : "disabled");
    out += "," + d.auth.primary.sha1 + "," + d.auth.primary.sha256 + "," + d.auth.secondary.sha1 + "," +
           d.auth.secondary.sha256;
    for (const auto& t : tag_names) {
      out += ',';
      if (d.tags.contains(t)) {
        const auto& v = d.tags[t];
        out += csv_field(v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    out += '\n';
  }
  return out;
}

std::string to_jsonl(const std::vector<hub::Device>& devices) {
  std::string out;
  for (const auto& d : devices) {
    json o = {{"id", d.id}, {"auth", hub::to_string(d.auth.type)}, {"status", d.enabled ? "enabled" : "disabled"},
              {"tags", d.tags}};
    if (!d.desired.empty()) o["desired"] = d.desired;
    if (!d.auth.primary.sha1.empty()) o["primary_thumbprint"] = d.auth.primary.sha1;
    if (!d.auth.primary.sha256.empty()) o["primary_thumbprint_sha256"] = d.auth.primary.sha256;
    if (!d.auth.secondary.sha1.empty()) o["secondary_thumbprint"] = d.auth.secondary.sha1;
    if (!d.auth.secondary.sha256.empty()) o["secondary_thumbprint_sha256"] = d.auth.secondary.sha256;
    out += o.dump() + '\n';
  }
  return out;
}

}  // namespace aiot::fleet
