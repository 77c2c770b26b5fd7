#pragma once
// The IoT Hub service REST client (api-version 2021-04-12): one method per endpoint the provider,
// the rollout controller and reports use. Every call goes through http::Client (SAS signing per
// attempt, a token bucket per operation class, retries with backoff) and turns an unsuccessful
// answer into aiot::Error with the hub's error code (azure_wire.hpp to_error).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/auth/cloud/sas.hpp"
#include "aiot/core/error.hpp"
#include "aiot/http/client.hpp"

namespace aiot::hub::azure {

using json = nlohmann::json;

// ---- throttles ----------------------------------------------------------------------------------

enum class Tier { f1, s1, s2, s3 };
// "F1", "S1", "s3" ... (B tiers have the same registry throttles as their S peers); nullopt otherwise.
std::optional<Tier> parse_tier(std::string_view text);

// Operations per second a hub of this tier and unit count allows, per throttle class
// (reference §3.1). Client-side pacing runs a little under these (k_pace_margin).
struct Rates {
  double identity = 0;     // registry CRUD; a bulk call costs one per device
  double query = 0;
  double twin_read = 0;
  double twin_update = 0;
  double config = 0;       // configurations CRUD
};
Rates rates_for(Tier tier, int units);
inline constexpr double k_pace_margin = 0.97;

// Operation classes: the Client's token buckets and the emulator's --throttle classes.
inline constexpr const char* k_identity = "identity";
inline constexpr const char* k_query = "query";
inline constexpr const char* k_twin = "twin";
inline constexpr const char* k_twin_update = "twin-update";
inline constexpr const char* k_config = "config";

// ---- configurations (automatic device management) ---------------------------------------------

struct Configuration {
  std::string id;  // lower case: IoT Hub lower-cases it too
  std::string schema_version = "1.0";
  std::map<std::string, std::string> labels;
  json content = json::object();  // {"deviceContent": {"properties.desired.x": {...}}} or modulesContent
  std::string target_condition;   // "tags.ring='canary'", "*" = all devices, "" = none
  int priority = 0;
  std::map<std::string, std::string> metric_queries;  // custom metrics (at most 5): name -> query
  // Read-only, filled in by the hub:
  std::map<std::string, std::int64_t> metric_results;
  std::map<std::string, std::string> system_metric_queries;
  std::map<std::string, std::int64_t> system_metric_results;  // targetedCount, appliedCount
  std::string etag;
  std::string created_time;
  std::string last_updated_time;

  json to_json() const;  // the wire body (read-only parts left out when empty)
  static Configuration from_json(const json& j);
};

struct TestQueriesResult {
  std::string target_condition_error;                           // empty = valid
  std::map<std::string, std::string> custom_metric_query_errors;  // only the failing ones
  bool ok() const { return target_condition_error.empty() && custom_metric_query_errors.empty(); }
};

// ---- the client -------------------------------------------------------------------------------

struct QueryPage {
  std::vector<json> items;
  std::string continuation;  // empty on the last page
};

struct ClientSettings {
  auth::sas::ServiceConnectionString credentials;
  std::string base_url;  // "https://<HostName>" unless azure.endpoint overrides it; no trailing '/'
  std::optional<Rates> rates;  // nullopt: no client-side pacing (the emulator, by default)
  http::RetryPolicy retry;
  http::Tracer trace;
  http::Clock clock = http::steady_clock_now();
  http::Sleeper sleep = http::real_sleeper();
  std::function<std::int64_t()> now_seconds = auth::sas::system_now_seconds;  // SAS expiry clock
  std::uint64_t seed = 0;  // 0: random
};

class AzureClient {
 public:
  AzureClient(std::shared_ptr<http::Transport> transport, ClientSettings settings);

  const std::string& host_name() const { return settings_.credentials.host_name; }
  const std::string& base_url() const { return settings_.base_url; }
  const http::RetryStats& stats() const { return client_.stats(); }

  // Device identities. put_device without if_match creates (409 conflict when the id exists);
  // with it (an etag or "*") it replaces the identity.
  json get_device(std::string_view id);
  json put_device(const json& identity, std::string_view if_match = {});
  void delete_device(std::string_view id, std::string_view if_match = "*");

  json get_twin(std::string_view id);
  // Merge patch {"tags":{...},"properties":{"desired":{...}}}; if_match empty = unconditional ("*").
  json patch_twin(std::string_view id, const json& patch, std::string_view if_match = {});

  // Many PATCH /twins/{id} concurrently (rollout dispatch). Per item: the twin, or the error the
  // hub answered (404, 412...). Throws when retries run out or on 401/403.
  struct TwinPatch {
    std::string id;
    json patch;
    std::string if_match;  // empty = "*"
  };
  struct TwinPatchResult {
    std::optional<json> twin;
    std::optional<Error> error;
  };
  std::vector<TwinPatchResult> patch_twins(const std::vector<TwinPatch>& patches);

  // GET /twins/{id} (or /devices/{id}) for many ids concurrently, in order; nullopt where the hub
  // answers 404. Other failures throw.
  std::vector<std::optional<json>> get_twins(const std::vector<std::string>& ids);
  std::vector<std::optional<json>> get_devices(const std::vector<std::string>& ids);

  // POST /devices once per body (a JSON array of at most 100 ExportImportDevice), concurrently.
  // Answers come back raw and in order after retries (200; 400 with a BulkRegistryOperationResult
  // for partial failures; or another final error the caller maps per batch). Throws only when
  // retries run out (Error::unavailable). Each call costs `devices_per_call` identity tokens.
  struct BulkAnswer {
    http::Response response;
    // An earlier attempt of this call ended without a definite answer (connection reset, timeout,
    // 500/502/504): the hub may have applied it, so "already exists" may be this call's own work.
    bool maybe_applied_before = false;
  };
  std::vector<BulkAnswer> bulk(const std::vector<json>& bodies, double devices_per_call);

  // The twins of many ids through queries (SELECT * FROM devices WHERE deviceId IN [...], up to
  // 100 ids each, sent concurrently): one request per 100 devices instead of one each, so a re-run
  // over thousands of existing devices stays cheap. Ids a query did not return (query results lag
  // writes) are read one by one; nullopt where the hub has no such device.
  std::vector<std::optional<json>> find_twins(const std::vector<std::string>& ids);

  // POST /devices/query: one page. max_items 0 = the hub's default page size.
  QueryPage query(std::string_view text, std::string_view continuation = {}, std::size_t max_items = 0);
  // Every page until `limit` items (0 = all) or the last page.
  std::vector<json> query_all(std::string_view text, std::size_t limit = 0);

  // Configurations. create sends no If-Match and fails with conflict when the id exists;
  // update needs the etag (or "*"). id and content are immutable on the hub.
  Configuration create_configuration(const Configuration& c);
  Configuration update_configuration(const Configuration& c, std::string_view if_match);
  Configuration get_configuration(std::string_view id);
  std::vector<Configuration> list_configurations(std::size_t top = 0);
  void delete_configuration(std::string_view id, std::string_view if_match = "*");
  // POST /configurations/testQueries: a dry run of a target condition and custom metric queries.
  TestQueriesResult test_queries(std::string_view target_condition,
                                 const std::map<std::string, std::string>& custom_metric_queries = {});

 private:
  http::Request request(std::string method, const std::string& path, std::string body = {}) const;
  http::Request query_request(std::string_view text, std::string_view continuation, std::size_t max_items) const;
  QueryPage read_page(const http::Response& answer, std::string_view context);
  // Sends and returns a successful answer, else throws to_error(answer, context).
  http::Response call(http::Request r, const char* op_class, std::string_view context);
  std::vector<std::optional<json>> get_many(const char* collection, const std::vector<std::string>& ids,
                                            const char* op_class);

  ClientSettings settings_;
  std::shared_ptr<auth::sas::TokenCache> tokens_;
  class Observer;  // sits between the Client and the transport to spot attempts without a definite answer
  std::shared_ptr<Observer> observer_;
  http::Client client_;
};

// "/devices/<percent-encoded id>": ids may hold # % ; + $ which must not reach the path raw.
std::string device_path(std::string_view id);

}  // namespace aiot::hub::azure
