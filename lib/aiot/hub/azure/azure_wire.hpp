#pragma once
// The IoT Hub service REST wire format (api-version 2021-04-12) on both sides: the provider writes
// requests and reads answers with it, the emulator reads requests and writes answers with it.
// Pure functions, no I/O. Facts: ../shared/reference/azure-iothub.md §1.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/http/client.hpp"
#include "aiot/http/transport.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/hub/query.hpp"

namespace aiot::hub::azure {

using json = nlohmann::json;

inline constexpr std::string_view k_api_version = "2021-04-12";
inline constexpr std::size_t k_bulk_limit = 100;  // devices per POST /devices

// ---- errors -------------------------------------------------------------------------------------

// An IoT Hub error answer, from either body format:
//   current: {"Message":"{\"errorCode\":404001,\"trackingId\":\"..\",\"message\":\"..\",\"timestampUtc\":\"..\"}",
//             "ExceptionMessage":""}  plus the header iothub-errorcode: DeviceNotFound
//   legacy:  {"Message":"ErrorCode:DeviceNotFound;Device d1 not found","ExceptionMessage":"Tracking ID:..."}
struct HubError {
  int status = 0;
  std::string code;  // "404001"; empty when neither the body nor the table knows it
  std::string name;  // "DeviceNotFound"; empty when unknown
  std::string message;
  std::string tracking_id;
};
HubError parse_error(int status, const http::Headers& headers, std::string_view body);
// "IoT Hub 404001 DeviceNotFound: Device d1 not found" (parts that are unknown are left out).
std::string describe(const HubError& e);

// The IoT Hub error-code table both ways: 404001 <-> DeviceNotFound. Empty / 0 when unknown.
std::string_view error_name(int code);
int error_code(std::string_view name);

// Maps an unsuccessful answer to aiot::Error: 401/403 auth (exit 4), 404 not_found, 409 conflict,
// 412 precondition, 400 usage, 429/5xx/no answer unavailable (exit 5), else failure.
// `context` says what was being done: "get device 'd1'".
Error to_error(const http::Response& response, std::string_view context);

// Retry classification for the Client: 2xx success; 408, 429 (429001/429002), 5xx and transport
// failures other than TLS retry; every other 4xx fails at once.
http::Verdict classify(const http::Response& response);
bool is_throttling(const http::Response& response);

// The emulator's answers. Current form with the numeric code (and the header it goes with):
std::string error_body(int code, std::string_view message, std::string_view tracking_id, std::string_view timestamp);
// Legacy form: {"Message":"ErrorCode:<name>;<message>","ExceptionMessage":"Tracking ID:<id>-TimeStamp:<time>"}.
std::string legacy_error_body(std::string_view name, std::string_view message, std::string_view tracking_id,
                              std::string_view timestamp);

// ---- etags --------------------------------------------------------------------------------------

// If-Match values are sent quoted ("AAAA"); "*" stays bare. Already-quoted values are kept.
std::string quote_etag(std::string_view etag);
// ETag headers and bodies may be quoted or not; aiot keeps them bare.
std::string unquote_etag(std::string_view etag);

// ---- devices and twins --------------------------------------------------------------------------

// X.509 thumbprints carry one hash per slot on the wire: SHA-1 when known, else SHA-256.
std::string wire_thumbprint(const Thumbprints& t);
// 64 hex digits are a SHA-256, anything else is kept as the SHA-1 slot; upper-cased.
Thumbprints thumbprints_from_wire(std::string_view text);
// What survives a trip over the wire: the Auth as IoT Hub will store it (used before comparing).
Auth wire_view(const Auth& auth);

// authentication{type, symmetricKey{primaryKey, secondaryKey} | x509Thumbprint{primaryThumbprint,
// secondaryThumbprint}}. Empty SAS keys are sent as "" (the hub generates them).
json to_wire_auth(const Auth& auth);
Auth auth_from_wire(const json& authentication);

// The body of PUT /devices/{id}: deviceId, status, authentication, capabilities, and the etag when
// updating.
json to_identity(const Device& d, bool with_etag = false);
// Reads a Device answer (identity only: no tags or properties).
Device from_identity(const json& identity);

// Reads a Twin answer into `d`: tags, properties (without $version/$metadata; their $version into
// the *_version fields), version, etag, status and authentication type (keys stay as they are).
void apply_twin(Device& d, const json& twin);
Device from_twin(const json& twin);
// The Twin answer the emulator sends: hub::to_twin_json with x509Thumbprint in the wire shape.
json to_wire_twin(const Device& d);
// The Device answer the emulator sends (keys included, as IoT Hub does for registry readers).
json to_wire_identity(const Device& d, std::string_view updated_time);

// ---- bulk registry (POST /devices) ------------------------------------------------------------

// One ExportImportDevice: id, importMode, and the parts that `mode` uses. "create" and "update"
// carry status and authentication; "updateTwin" carries the tags (replacing them) and no identity.
// Tags go with create/update when non-empty; desired goes whenever non-empty.
json to_export_import(const Device& d, std::string_view mode);
// The emulator's reading: the device, its importMode as written (modes are matched without regard
// to case), and the eTag/twinETag for the *IfMatchETag modes.
struct ImportRequest {
  Device device;
  std::string mode;
  std::string etag;
  std::string twin_etag;
  bool has_tags = false;
  bool has_desired = false;
  bool has_auth = false;
  bool has_status = false;
};
ImportRequest from_export_import(const json& item);

struct BulkItem {
  std::string device_id;
  std::string error_code;    // a name ("DeviceAlreadyExists") or number, as the hub sent it
  std::string error_status;  // human text
  std::string operation;
};
struct BulkResult {
  bool successful = true;
  std::vector<BulkItem> errors;
  std::vector<BulkItem> warnings;
};
// Accepts errorCode as a name or a number; nullopt when the body is not a BulkRegistryOperationResult.
std::optional<BulkResult> parse_bulk_result(std::string_view body);
json to_json(const BulkResult& r);
// True when a bulk error item means "the id is already registered" (DeviceAlreadyExists / 409001).
bool is_already_exists(const BulkItem& item);
// A failed bulk item as aiot::Error, kinds as in to_error (by the HTTP status the code implies):
// "create device 'd1': IoT Hub 400004 ArgumentInvalid: <errorStatus>".
Error bulk_item_error(const BulkItem& item, std::string_view context);

// ---- query ------------------------------------------------------------------------------------

// "SELECT * FROM devices [WHERE <canonical condition>]" from a user's --where text (a bare
// condition or a whole SELECT). Throws Error::usage for bad syntax, like the local hub.
std::string device_query_text(std::string_view where);
// A query-language string literal: 'it''s'.
using query::quote_literal;

}  // namespace aiot::hub::azure
