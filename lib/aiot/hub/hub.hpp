#pragma once
// The provider-neutral hub model and interfaces (design.md §2). Commands, rollouts, audits and
// reports talk to these; the local engine, Azure IoT Hub and AWS IoT Core implement them.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/core/time.hpp"

namespace aiot::hub {

using json = nlohmann::json;

enum class AuthType { sas, self_signed, certificate_authority, none };

// "sas", "x509-self-signed", "x509-ca", "none": the names the CLI and files use.
std::string_view to_string(AuthType t);
// Accepts the CLI names and the IoT Hub wire names (selfSigned, certificateAuthority).
std::optional<AuthType> parse_auth_type(std::string_view s);

struct Thumbprints {
  std::string sha1;    // 40 upper-case hex digits, no colons (IoT Hub's format)
  std::string sha256;  // 64 upper-case hex digits
  bool empty() const { return sha1.empty() && sha256.empty(); }
  bool operator==(const Thumbprints&) const = default;
};

struct Auth {
  AuthType type = AuthType::sas;
  std::string primary_key;  // base64 of 32 random bytes; a secret
  std::string secondary_key;
  Thumbprints primary;  // x509-self-signed only
  Thumbprints secondary;
  bool operator==(const Auth&) const = default;
};

struct Device {
  std::string id;
  bool enabled = true;
  Auth auth;
  json tags = json::object();
  json desired = json::object();   // properties.desired without $metadata
  json reported = json::object();  // properties.reported
  std::int64_t desired_version = 0;
  std::int64_t reported_version = 0;
  std::int64_t version = 0;  // twin version: bumps on every twin change
  std::string etag;          // identity etag
  std::string twin_etag;
  std::string generation_id;
  TimePoint created{};
  TimePoint updated{};
};

// IoT Hub id rules: case-sensitive, <= 128 chars, ASCII alphanumerics and - : . + % _ # * ? ! ( ) , = @ ; $ '
// Returns an explanation when invalid, nullopt when valid.
std::optional<std::string> invalid_device_id(std::string_view id);

// The twin shape of IoT Hub (deviceId, status, authenticationType, x509Thumbprint, tags, properties
// {desired, reported} with $version, version, etag). Queries are evaluated over it; `-o json` shows it.
// Secrets are included only when with_secrets is true.
json to_twin_json(const Device& d, bool with_secrets = false);
// The same, taking the device apart instead of copying its JSON (listings of many devices).
json to_twin_json(Device&& d, bool with_secrets = false);

// Same registered content: what an idempotent import compares. Keys and thumbprints in `wanted`
// that are empty mean "anything" (the hub generated them).
bool same_content(const Device& existing, const Device& wanted);

struct ListOptions {
  std::string where;  // query condition (hub/query.hpp); empty = all
  std::size_t limit = 0;  // 0 = no limit
  // What the caller reads of each device: a hub may leave the tags, the desired or the reported
  // properties empty when they are not wanted (a rollout's gate looks judge reports only; its
  // dispatches need no tags), or fill them anyway when they cost nothing extra.
  bool with_tags = true;
  bool with_desired = true;
  bool with_reported = true;  // a dispatch without an in-flight limit reads no reports
};

// One group of a grouped count (Registry::count_by): the values of the grouped paths, in order
// (nullopt where the path is undefined on those devices), and how many devices have them.
struct GroupCount {
  std::vector<std::optional<json>> keys;
  std::int64_t count = 0;
};

struct DeviceUpdate {
  std::string id;
  std::string if_match;                    // etag; empty = unconditional
  std::optional<bool> enabled;
  json tags_patch = json::object();        // merge patch: null removes a key
  json desired_patch = json::object();     // merge patch on properties.desired
};

enum class ImportMode { create, upsert };
enum class RowOutcome { created, updated, unchanged, failed };
std::string_view to_string(RowOutcome o);

struct ImportResult {
  RowOutcome outcome = RowOutcome::failed;
  std::optional<Error> error;     // set when failed
  std::optional<Device> device;   // the stored device (with hub-generated keys) unless failed
};

class Registry {
 public:
  virtual ~Registry() = default;
  // Reason::conflict when the id exists (whatever its content).
  virtual Device create(const Device& d) = 0;
  // One result per input, in order. create: same content = unchanged, other content = conflict
  // (failed); upsert: other content = updated. A failed row never stops the others.
  virtual std::vector<ImportResult> import(std::span<const Device> devices, ImportMode mode) = 0;
  // Reason::not_found when absent.
  virtual Device get(std::string_view id) = 0;
  virtual std::vector<Device> list(const ListOptions& options) = 0;
  // How many devices match `where`, grouped by their values at `paths` (property paths of the
  // query language; none: one group with the total), in no particular order. IoT Hub answers it
  // with one query (SELECT ..., COUNT() ... GROUP BY) and the local engine in SQL, so a caller
  // that needs counts or value frequencies, not devices, costs a few requests whatever the fleet
  // size. The default lists the devices and counts them here.
  virtual std::vector<GroupCount> count_by(const std::string& where, const std::vector<std::string>& paths);
  // True when counting on the hub is cheaper than listing the devices: a remote hub, where a
  // listing costs a request per page and a count a few. The local engine reads rows faster than
  // SQLite's JSON functions group them, so its callers list (a gate look over 9,500 devices: 150
  // against 240 ms).
  virtual bool prefers_counts() const { return false; }
  // Reason::precondition_failed on an etag mismatch, not_found when absent.
  virtual Device update(const DeviceUpdate& update) = 0;
  virtual void remove(std::string_view id, std::string_view if_match = {}) = 0;
  // Many twin updates at once (rollout membership and dispatch). One result per input; a failed row
  // never stops the others. The default loops over update(); providers with a bulk path override it
  // and may leave ImportResult::device empty (callers of a bulk update check outcomes only).
  virtual std::vector<ImportResult> update_many(std::span<const DeviceUpdate> updates);
  // Hubs where a device's X.509 certificate is a resource of its own (AWS IoT: register it, attach
  // it and the device policy to the thing) take the PEM once it is issued and return the
  // certificate's id there; hubs that keep only thumbprints (local, Azure) return nullopt.
  virtual std::optional<std::string> attach_certificate(const Device& device, std::string_view certificate_pem);
};

class Hub {
 public:
  virtual ~Hub() = default;
  virtual Registry& registry() = 0;
  // "local:/path/hub.db", "azure:myhub.azure-devices.net": for messages and --debug.
  virtual std::string describe() const = 0;
  // The hub's clock: wall-clock time for the clouds; a simulated local hub keeps its own clock,
  // which `aiot sim advance` moves, so bake times of hours pass in seconds.
  virtual TimePoint now() { return std::chrono::system_clock::now(); }
};

}  // namespace aiot::hub
