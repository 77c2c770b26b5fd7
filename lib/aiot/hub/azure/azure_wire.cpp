#include "aiot/hub/azure/azure_wire.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "aiot/core/strings.hpp"
#include "aiot/hub/query.hpp"

namespace aiot::hub::azure {

namespace {

// The codes of the C# SDK's ErrorCode enum that a service client meets (Azure/azure-iot-sdk-csharp,
// Common/Exceptions/ErrorCode.cs) plus the configuration codes of the reference's §1.1.
struct CodeName {
  int code;
  const char* name;
};
constexpr CodeName k_codes[] = {
    {400001, "InvalidProtocolVersion"},
    {400003, "InvalidOperation"},
    {400004, "ArgumentInvalid"},
    {400005, "ArgumentNull"},
    {400006, "IotHubFormatError"},
    {400011, "DeviceDefinedMultipleTimes"},
    {400013, "BulkRegistryOperationFailure"},
    {400401, "InvalidConfigurationTargetCondition"},
    {400403, "CannotModifyImmutableConfigurationContent"},
    {400404, "InvalidConfigurationCustomMetricsQuery"},
    {401001, "IotHubNotFound"},
    {401002, "IotHubUnauthorizedAccess"},
    {401003, "IotHubUnauthorized"},
    {403001, "IotHubSuspended"},
    {403002, "IotHubQuotaExceeded"},
    {403010, "InvalidTier"},
    {404001, "DeviceNotFound"},
    {404010, "ModuleNotFound"},
    {409001, "DeviceAlreadyExists"},
    {409301, "ModuleAlreadyExistsOnDevice"},
    {412001, "PreconditionFailed"},
    {413002, "TooManyDevices"},
    {429001, "ThrottlingException"},
    {429002, "ThrottleBacklogLimitExceeded"},
    {500001, "ServerError"},
    {503001, "ServiceUnavailable"},
};

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// "Tracking ID:abc-G:11-TimeStamp:07/16/2016 00:12:41" -> "abc-G:11".
std::string tracking_id_of(std::string_view exception_message) {
  constexpr std::string_view k_prefix = "Tracking ID:";
  auto at = exception_message.find(k_prefix);
  if (at == std::string_view::npos) return {};
  auto rest = exception_message.substr(at + k_prefix.size());
  auto end = rest.find("-TimeStamp:");
  return std::string(str::trim(rest.substr(0, end)));
}

std::string shorten(std::string_view text, std::size_t max = 200) {
  std::string t(str::trim(text));
  for (auto& c : t) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (t.size() > max) t = t.substr(0, max) + "...";
  return t;
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

json null_or(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string wire_auth_type(AuthType t) {
  switch (t) {
    case AuthType::sas: return "sas";
    case AuthType::self_signed: return "selfSigned";
    case AuthType::certificate_authority: return "certificateAuthority";
    case AuthType::none: return "none";
  }
  return "none";
}

// properties.desired / reported without the service's bookkeeping keys.
json strip_metadata(const json& props, std::int64_t& version) {
  json out = json::object();
  if (!props.is_object()) return out;
  for (auto it = props.begin(); it != props.end(); ++it) {
    if (it.key() == "$version") {
      if (it->is_number_integer()) version = it->get<std::int64_t>();
    } else if (it.key() != "$metadata") {
      out[it.key()] = *it;
    }
  }
  return out;
}

}  // namespace

std::string_view error_name(int code) {
  for (const auto& c : k_codes) {
    if (c.code == code) return c.name;
  }
  return {};
}

int error_code(std::string_view name) {
  for (const auto& c : k_codes) {
    if (name == c.name) return c.code;
  }
  return 0;
}

HubError parse_error(int status, const http::Headers& headers, std::string_view body) {
  HubError e;
  e.status = status;
  if (auto name = http::find_header(headers, "iothub-errorcode")) e.name = *name;
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    std::string message = string_field(parsed, "Message");
    if (message.empty()) message = string_field(parsed, "message");
    std::string exception = string_field(parsed, "ExceptionMessage");
    auto inner = json::parse(message, nullptr, false);
    if (inner.is_object() && inner.contains("errorCode")) {
      // Current form: a JSON document inside Message.
      const auto& code = inner["errorCode"];
      if (code.is_number_integer()) e.code = std::to_string(code.get<std::int64_t>());
      else if (code.is_string()) e.code = code.get<std::string>();
      e.message = string_field(inner, "message");
      e.tracking_id = string_field(inner, "trackingId");
    } else if (message.rfind("ErrorCode:", 0) == 0) {
      // Legacy form: "ErrorCode:<Name>;<text>".
      auto semi = message.find(';');
      std::string name = message.substr(10, semi == std::string::npos ? std::string::npos : semi - 10);
      if (e.name.empty()) e.name = name;
      e.message = semi == std::string::npos ? std::string() : message.substr(semi + 1);
      e.tracking_id = tracking_id_of(exception);
    } else {
      e.message = message.empty() ? exception : message;
    }
    if (e.message.empty() && !exception.empty() && e.tracking_id.empty()) e.message = exception;
  } else if (!str::trim(body).empty()) {
    e.message = shorten(body);
  }
  if (e.code.empty() && !e.name.empty()) {
    if (int c = error_code(e.name)) e.code = std::to_string(c);
  }
  if (e.name.empty() && !e.code.empty()) {
    int c = 0;
    try {
      c = std::stoi(e.code);
    } catch (...) {
      c = 0;
    }
    e.name = std::string(error_name(c));
  }
  e.message = shorten(e.message, 500);
  return e;
}

std::string describe(const HubError& e) {
  std::string out = "IoT Hub";
  if (!e.code.empty()) out += " " + e.code;
  if (!e.name.empty()) out += " " + e.name;
  if (e.code.empty() && e.name.empty()) out += fmt::format(" HTTP {}", e.status);
  if (!e.message.empty()) out += ": " + e.message;
  return out;
}

bool is_throttling(const http::Response& r) { return r.status == 429; }

http::Verdict classify(const http::Response& r) {
  if (r.status == 0) return r.transport_error == http::TransportError::tls ? http::Verdict::fail : http::Verdict::retry;
  if (r.status >= 200 && r.status < 300) return http::Verdict::success;
  if (r.status == 408 || r.status == 429) return http::Verdict::retry;
  if (r.status >= 500 && r.status != 501 && r.status != 505) return http::Verdict::retry;
  return http::Verdict::fail;
}

Error to_error(const http::Response& r, std::string_view context) {
  if (r.status == 0) {
    return Error::unavailable(fmt::format("{}: no answer from IoT Hub: {}", context,
                                          r.error_text.empty() ? "connection failed" : r.error_text),
                              "Check the network, the hub name, and azure.endpoint (AIOT_AZURE_ENDPOINT).");
  }
  HubError e = parse_error(r.status, r.headers, r.body);
  std::string message = fmt::format("{}: {}", context, describe(e));
  std::string hint = e.tracking_id.empty() ? std::string() : "IoT Hub tracking ID: " + e.tracking_id;
  switch (r.status) {
    case 401:
    case 403:
      return Error::auth(message,
                         "Check the service connection string (IOTHUB_CONNECTION_STRING or azure.connection_string_file) "
                         "and that its policy has the permission this needs (registry read/write, service connect).");
    case 404: return Error::not_found(message, hint);
    case 409: return Error::conflict(message, hint);
    case 412: return Error::precondition(message, "Read it again (aiot device show) and retry with the new etag.");
    case 400: return Error::usage(message, hint);
    default: break;
  }
  if (r.status == 408 || r.status == 429 || r.status >= 500)
    return Error::unavailable(message, "IoT Hub kept failing after retries; try again later.");
  return Error::failure(message, hint);
}

std::string error_body(int code, std::string_view message, std::string_view tracking_id, std::string_view timestamp) {
  json inner = {{"errorCode", code},
                {"trackingId", tracking_id},
                {"message", message},
                {"info", json::object()},
                {"timestampUtc", timestamp}};
  return json{{"Message", inner.dump()}, {"ExceptionMessage", ""}}.dump();
}

std::string legacy_error_body(std::string_view name, std::string_view message, std::string_view tracking_id,
                              std::string_view timestamp) {
  return json{{"Message", fmt::format("ErrorCode:{};{}", name, message)},
              {"ExceptionMessage", fmt::format("Tracking ID:{}-TimeStamp:{}", tracking_id, timestamp)}}
      .dump();
}

std::string quote_etag(std::string_view etag) {
  if (etag == "*") return "*";
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return std::string(etag);
  return fmt::format("\"{}\"", etag);
}

std::string unquote_etag(std::string_view etag) {
  std::string_view e = str::trim(etag);
  if (e.substr(0, 2) == "W/") e.remove_prefix(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return std::string(e);
}

std::string wire_thumbprint(const Thumbprints& t) { return t.sha1.empty() ? t.sha256 : t.sha1; }

Thumbprints thumbprints_from_wire(std::string_view text) {
  std::string t = str::to_upper(str::trim(text));
  Thumbprints out;
  if (t.empty()) return out;
  if (t.size() == 64 && is_hex(t)) out.sha256 = t;
  else out.sha1 = t;
  return out;
}

Auth wire_view(const Auth& auth) {
  Auth a = auth;
  a.primary = thumbprints_from_wire(wire_thumbprint(auth.primary));
  a.secondary = thumbprints_from_wire(wire_thumbprint(auth.secondary));
  return a;
}

json to_wire_auth(const Auth& auth) {
  json a = {{"type", wire_auth_type(auth.type)}};
  switch (auth.type) {
    case AuthType::sas:
      a["symmetricKey"] = {{"primaryKey", auth.primary_key}, {"secondaryKey", auth.secondary_key}};
      break;
    case AuthType::self_signed:
      a["x509Thumbprint"] = {{"primaryThumbprint", null_or(wire_thumbprint(auth.primary))},
                             {"secondaryThumbprint", null_or(wire_thumbprint(auth.secondary))}};
      break;
    case AuthType::certificate_authority:
    case AuthType::none: break;
  }
  return a;
}

Auth auth_from_wire(const json& authentication) {
  Auth a;
  a.type = AuthType::none;
  if (!authentication.is_object()) return a;
  a.type = parse_auth_type(string_field(authentication, "type")).value_or(AuthType::none);
  if (auto sk = authentication.find("symmetricKey"); sk != authentication.end() && sk->is_object()) {
    a.primary_key = string_field(*sk, "primaryKey");
    a.secondary_key = string_field(*sk, "secondaryKey");
  }
  if (auto tp = authentication.find("x509Thumbprint"); tp != authentication.end() && tp->is_object()) {
    a.primary = thumbprints_from_wire(string_field(*tp, "primaryThumbprint"));
    a.secondary = thumbprints_from_wire(string_field(*tp, "secondaryThumbprint"));
  }
  if (a.type != AuthType::sas) a.primary_key = a.secondary_key = "";
  if (a.type != AuthType::self_signed) a.primary = a.secondary = Thumbprints{};
  return a;
}

json to_identity(const Device& d, bool with_etag) {
  json j = {{"deviceId", d.id},
            {"status", d.enabled ? "enabled" : "disabled"},
            {"authentication", to_wire_auth(d.auth)},
            {"capabilities", {{"iotEdge", false}}}};
  if (with_etag && !d.etag.empty()) j["etag"] = d.etag;
  return j;
}

Device from_identity(const json& identity) {
  Device d;
  d.id = string_field(identity, "deviceId");
  d.enabled = string_field(identity, "status") != "disabled";
  d.etag = unquote_etag(string_field(identity, "etag"));
  d.generation_id = string_field(identity, "generationId");
  d.auth = auth_from_wire(identity.value("authentication", json::object()));
  return d;
}

void apply_twin(Device& d, const json& twin) {
  if (auto id = string_field(twin, "deviceId"); !id.empty()) d.id = id;
  if (auto status = string_field(twin, "status"); !status.empty()) d.enabled = status != "disabled";
  if (auto etag = string_field(twin, "etag"); !etag.empty()) d.twin_etag = unquote_etag(etag);
  if (auto etag = string_field(twin, "deviceEtag"); !etag.empty() && d.etag.empty()) d.etag = unquote_etag(etag);
  if (d.generation_id.empty()) d.generation_id = string_field(twin, "generationId");
  if (auto v = twin.find("version"); v != twin.end() && v->is_number_integer()) d.version = v->get<std::int64_t>();
  if (auto type = parse_auth_type(string_field(twin, "authenticationType")); type && *type != d.auth.type) {
    d.auth = Auth{};
    d.auth.type = *type;
  }
  if (auto tp = twin.find("x509Thumbprint"); tp != twin.end() && tp->is_object() && d.auth.type == AuthType::self_signed) {
    if (d.auth.primary.empty()) {
      d.auth.primary = thumbprints_from_wire(string_field(*tp, "primaryThumbprint"));
      d.auth.secondary = thumbprints_from_wire(string_field(*tp, "secondaryThumbprint"));
    }
  }
  auto tags = twin.find("tags");
  d.tags = tags != twin.end() && tags->is_object() ? *tags : json::object();
  if (auto props = twin.find("properties"); props != twin.end() && props->is_object()) {
    d.desired = strip_metadata(props->value("desired", json::object()), d.desired_version);
    d.reported = strip_metadata(props->value("reported", json::object()), d.reported_version);
  }
  if (auto t = parse_rfc3339(string_field(twin, "createdTime"))) d.created = *t;
  if (auto t = parse_rfc3339(string_field(twin, "lastUpdated"))) d.updated = *t;
}

Device from_twin(const json& twin) {
  Device d;
  d.auth.type = AuthType::none;
  apply_twin(d, twin);
  return d;
}

json to_wire_twin(const Device& d) {
  json twin = to_twin_json(d, false);
  twin["x509Thumbprint"] = {{"primaryThumbprint", null_or(wire_thumbprint(d.auth.primary))},
                            {"secondaryThumbprint", null_or(wire_thumbprint(d.auth.secondary))}};
  twin["connectionState"] = "Disconnected";
  twin["cloudToDeviceMessageCount"] = 0;
  twin["capabilities"] = {{"iotEdge", false}};
  return twin;
}

json to_wire_identity(const Device& d, std::string_view updated_time) {
  return {{"deviceId", d.id},
          {"generationId", d.generation_id},
          {"etag", d.etag},
          {"connectionState", "Disconnected"},
          {"status", d.enabled ? "enabled" : "disabled"},
          {"statusReason", nullptr},
          {"connectionStateUpdatedTime", "0001-01-01T00:00:00Z"},
          {"statusUpdatedTime", updated_time},
          {"lastActivityTime", "0001-01-01T00:00:00Z"},
          {"cloudToDeviceMessageCount", 0},
          {"authentication", to_wire_auth(d.auth)},
          {"capabilities", {{"iotEdge", false}}}};
}

json to_export_import(const Device& d, std::string_view mode) {
  json j = {{"id", d.id}, {"importMode", mode}};
  bool twin_only = str::to_lower(mode).rfind("updatetwin", 0) == 0;
  if (!twin_only) {
    j["status"] = d.enabled ? "enabled" : "disabled";
    j["authentication"] = to_wire_auth(d.auth);
  }
  // updateTwin replaces the tags (empty = none); desired is sent only when there is some, so
  // an import row without desired properties leaves the twin's alone.
  if (twin_only || !d.tags.empty()) j["tags"] = d.tags;
  if (!d.desired.empty()) j["properties"] = {{"desired", d.desired}};
  return j;
}

ImportRequest from_export_import(const json& item) {
  ImportRequest r;
  if (!item.is_object()) throw Error::usage("a bulk registry item must be a JSON object");
  r.device.id = string_field(item, "id");
  r.mode = string_field(item, "importMode");
  r.etag = unquote_etag(string_field(item, "eTag"));
  r.twin_etag = unquote_etag(string_field(item, "twinETag"));
  r.has_status = item.contains("status") && item["status"].is_string();
  r.device.enabled = string_field(item, "status") != "disabled";
  r.has_auth = item.contains("authentication") && item["authentication"].is_object();
  if (r.has_auth) r.device.auth = auth_from_wire(item["authentication"]);
  if (auto tags = item.find("tags"); tags != item.end() && tags->is_object()) {
    r.has_tags = true;
    r.device.tags = *tags;
  }
  if (auto props = item.find("properties"); props != item.end() && props->is_object()) {
    if (auto desired = props->find("desired"); desired != props->end() && desired->is_object()) {
      r.has_desired = true;
      std::int64_t ignored = 0;
      r.device.desired = strip_metadata(*desired, ignored);
    }
  }
  return r;
}

std::optional<BulkResult> parse_bulk_result(std::string_view body) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("isSuccessful")) return std::nullopt;
  BulkResult r;
  r.successful = j["isSuccessful"].is_boolean() && j["isSuccessful"].get<bool>();
  auto read = [](const json& list, bool warning) {
    std::vector<BulkItem> out;
    if (!list.is_array()) return out;
    for (const auto& e : list) {
      if (!e.is_object()) continue;
      BulkItem item;
      item.device_id = string_field(e, "deviceId");
      const auto& code = e.value(warning ? "warningCode" : "errorCode", json());
      if (code.is_string()) item.error_code = code.get<std::string>();
      else if (code.is_number_integer()) item.error_code = std::to_string(code.get<std::int64_t>());
      item.error_status = string_field(e, warning ? "warningStatus" : "errorStatus");
      item.operation = string_field(e, "operation");
      out.push_back(std::move(item));
    }
    return out;
  };
  r.errors = read(j.value("errors", json::array()), false);
  r.warnings = read(j.value("warnings", json::array()), true);
  return r;
}

json to_json(const BulkResult& r) {
  json errors = json::array();
  for (const auto& e : r.errors) {
    errors.push_back({{"deviceId", e.device_id},
                      {"moduleId", nullptr},
                      {"errorCode", e.error_code},
                      {"errorStatus", e.error_status},
                      {"operation", e.operation}});
  }
  json warnings = json::array();
  for (const auto& w : r.warnings) {
    warnings.push_back({{"deviceId", w.device_id}, {"warningCode", w.error_code}, {"warningStatus", w.error_status}});
  }
  return {{"isSuccessful", r.successful}, {"errors", errors}, {"warnings", warnings}};
}

bool is_already_exists(const BulkItem& item) {
  return item.error_code == "DeviceAlreadyExists" || item.error_code == "409001";
}

Error bulk_item_error(const BulkItem& item, std::string_view context) {
  HubError e;
  if (!item.error_code.empty() && std::isdigit(static_cast<unsigned char>(item.error_code[0]))) {
    e.code = item.error_code;
    try {
      e.name = std::string(error_name(std::stoi(item.error_code)));
    } catch (...) {
    }
  } else {
    e.name = item.error_code;
    if (int c = error_code(item.error_code)) e.code = std::to_string(c);
  }
  e.message = item.error_status;
  int status = e.code.size() == 6 && std::all_of(e.code.begin(), e.code.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ? std::stoi(e.code.substr(0, 3)) : 400;
  std::string message = fmt::format("{}: {}", context, describe(e));
  switch (status) {
    case 401:
    case 403: return Error::auth(message);
    case 404: return Error::not_found(message);
    case 409: return Error::conflict(message);
    case 412: return Error::precondition(message);
    case 429:
    case 500:
    case 503: return Error::unavailable(message);
    default: return Error::usage(message);
  }
}

std::string device_query_text(std::string_view where) {
  auto condition = query::Query::parse(where).to_string();
  return condition.empty() ? "SELECT * FROM devices" : "SELECT * FROM devices WHERE " + condition;
}

}  // namespace aiot::hub::azure
