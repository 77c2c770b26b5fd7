#pragma once
// The AWS IoT Core wire: the control plane (`iot` 2015-05-28: things, certificates, policies, thing
// groups, jobs) and the device-shadow data plane (`iot-data`), SigV4-signed, paced at the default
// TPS of ../shared/reference/aws-iot.md §3.1 and retried on ThrottlingException whatever the HTTP
// status (the control plane answers 400). Errors become aiot::Error with the AWS code in the text.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aiot/auth/cloud/sigv4.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/time.hpp"
#include "aiot/http/client.hpp"

namespace aiot::hub::aws {

using json = nlohmann::json;

// ---- errors and retries ----------------------------------------------------------------------

struct AwsError {
  int status = 0;
  std::string code;     // "ThrottlingException" (from x-amzn-ErrorType, else the body's __type/code)
  std::string message;  // the body's message / Message / errorMessage
};

// Reads the AWS error of a response: `x-amzn-ErrorType: Code:ns`, or `{"__type":"ns#Code"}`,
// `{"code":...}`; message from `message`/`Message`. Code is empty when there is none.
AwsError parse_error(const http::Response& response);

// Throttling codes botocore retries whatever the status (ThrottlingException, Throttling,
// TooManyRequestsException, RequestLimitExceeded, LimitExceededException, SlowDown, ...).
bool is_throttling_code(std::string_view code);

// Retries throttling codes (also on HTTP 400/410), 429, 5xx and transport failures.
http::Verdict classify(const http::Response& response);

// The aiot::Error for a failed answer: 401/403 and signature/credential codes -> auth (exit 4);
// 404 -> not_found; VersionConflict -> precondition; other 409 -> conflict; 400 -> usage with the
// provider's words; 5xx / throttling -> unavailable. `operation` names the call ("CreateThing").
Error to_error(const http::Response& response, std::string_view operation);

// ---- configuration ---------------------------------------------------------------------------

struct Rate {
  const char* operation;
  double per_second;
};
// Default TPS per operation (reference §3.1; operations the reference has no number for get a
// conservative 10/s, the data plane 100/s).
std::span<const Rate> default_rates();
double default_rate(std::string_view operation);

struct Config {
  sigv4::Credentials credentials;
  std::string region;
  std::string control_endpoint;  // "https://iot.eu-west-1.amazonaws.com" or "http://127.0.0.1:PORT"
  std::string data_endpoint;     // empty: found with DescribeEndpoint(iot:Data-ATS) on first use
  std::string control_signing_name = "iot";
  std::string data_signing_name = "iotdata";
  aiot::Clock now;               // signing time
  http::ClientOptions client;    // retry policy, trace, clocks (sign/classify are set by AwsClient)
  bool pace = true;              // token buckets at default_rates()
};

// "https://iot.{region}.amazonaws.com" (".amazonaws.com.cn" for cn-* regions).
std::string default_control_endpoint(std::string_view region);

// ---- the resources ---------------------------------------------------------------------------

struct Thing {
  std::string name;
  std::string arn;
  std::string id;
  std::string type;
  std::map<std::string, std::string> attributes;
  std::int64_t version = 0;
};

struct ThingPage {
  std::vector<Thing> things;
  std::string next_token;
};

// One thing of a Fleet Indexing answer (SearchIndex on AWS_Things).
struct IndexedThing {
  std::string name;
  std::string id;
  std::string type;
  std::map<std::string, std::string> attributes;
  std::vector<std::string> groups;  // thingGroupNames
  // The `shadow` string parsed: the classic shadow's {desired, reported, metadata, version, hasDelta}
  // at the top, named shadows under "name": {"<shadow>": {desired, reported, ...}}; null when absent.
  json shadow;
};

struct IndexPage {
  std::vector<IndexedThing> things;
  std::string next_token;
};

// GetBucketsAggregation: things counted by a field's value (terms aggregation, most frequent first).
struct Buckets {
  std::int64_t total = 0;  // things the query matches, with or without the field
  std::vector<std::pair<std::string, std::int64_t>> buckets;  // keyValue (as AWS renders it), count
};

struct Certificate {
  std::string arn;
  std::string id;   // AWS: the SHA-256 of the DER certificate, lower-case hex
  std::string pem;  // set by CreateKeysAndCertificate
};

struct KeysAndCertificate {
  Certificate certificate;
  std::string public_key_pem;
  std::string private_key_pem;  // a secret: returned once by AWS
};

// A shadow document: {"state": {"desired":..., "reported":..., "delta":...}, "metadata":..., "version": N, "timestamp": T}.
struct Shadow {
  json document = json::object();
  std::int64_t version = 0;
  json desired() const;
  json reported() const;
};

struct JobSpec {
  std::string job_id;
  std::vector<std::string> targets;   // thing or thing-group ARNs
  json document = json::object();     // sent as a JSON *string* (the wire wants a string)
  std::string description;
  std::string target_selection = "SNAPSHOT";
  json rollout_config;   // jobExecutionsRolloutConfig; null = omitted
  json abort_config;     // abortConfig
  json timeout_config;   // timeoutConfig
  json retry_config;     // jobExecutionsRetryConfig
};

class AwsClient {
 public:
  AwsClient(std::shared_ptr<http::Transport> transport, Config config);

  const Config& config() const { return config_; }
  http::Client& control_client() { return *control_; }
  http::Client& data_client() { return *data_; }

  // Requests: `path` segments must already be encoded (use seg()); query values are encoded here.
  using Query = std::vector<std::pair<std::string, std::string>>;
  http::Request control_request(std::string method, const std::string& path, const Query& query = {},
                                std::string body = {}) const;
  http::Request data_request(std::string method, const std::string& path, const Query& query = {},
                             std::string body = {});
  // One call: throws to_error(response) unless 2xx.
  http::Response call(http::Request request, const std::string& operation, bool data_plane = false);
  // Many calls of one operation concurrently under its rate; raw answers (4xx are not thrown).
  std::vector<http::Response> call_all(std::vector<http::Request> requests, const std::string& operation,
                                       bool data_plane = false);
  static std::string seg(std::string_view name);  // one path segment, percent-encoded

  // Things.
  http::Request create_thing_request(const std::string& name, const std::map<std::string, std::string>& attributes,
                                     const std::string& thing_type) const;
  Thing create_thing(const std::string& name, const std::map<std::string, std::string>& attributes,
                     const std::string& thing_type = {});
  std::optional<Thing> describe_thing(const std::string& name);
  // attributes: with merge, only these change (an empty value removes one); without, they replace all.
  void update_thing(const std::string& name, const std::map<std::string, std::string>& attributes, bool merge,
                    std::optional<std::int64_t> expected_version = std::nullopt);
  void delete_thing(const std::string& name, std::optional<std::int64_t> expected_version = std::nullopt);
  ThingPage list_things(const std::string& next_token = {}, int max_results = 250);
  // ListThings filtered on one attribute (attributeName / attributeValue): one page.
  ThingPage list_things_with_attribute(const std::string& name, const std::string& value,
                                       const std::string& next_token = {}, int max_results = 250);
  void ensure_thing_type(const std::string& name);
  static Thing parse_thing(const json& j);

  // Certificates, principals, policies.
  Certificate register_certificate_without_ca(const std::string& certificate_pem, bool active = true);
  // The same, but a certificate registered before is found and returned (from the 409's resourceArn /
  // resourceId, else by its SHA-256 id) instead of being an error: re-runs are idempotent.
  Certificate register_or_find_certificate(const std::string& certificate_pem, bool active = true);
  KeysAndCertificate create_keys_and_certificate(bool active = true);
  // The `certificateDescription` object; nullopt when there is no such certificate.
  std::optional<json> describe_certificate(const std::string& certificate_id);
  void update_certificate(const std::string& certificate_id, const std::string& new_status);
  void delete_certificate(const std::string& certificate_id, bool force_delete = false);
  void attach_thing_principal(const std::string& thing, const std::string& principal_arn);
  void detach_thing_principal(const std::string& thing, const std::string& principal_arn);
  std::vector<std::string> list_thing_principals(const std::string& thing);
  std::optional<json> get_policy(const std::string& name);
  json create_policy(const std::string& name, const json& document);
  void attach_policy(const std::string& name, const std::string& target_arn);
  // The least-privilege device policy: connect as the thing's own name (client id = thing name),
  // publish/receive/subscribe on its own shadow and job topics only (policy variables).
  static json device_policy(std::string_view partition, std::string_view region, std::string_view account);

  // Thing groups (static).
  json create_thing_group(const std::string& name, const std::string& description = {},
                          const std::map<std::string, std::string>& attributes = {});
  std::optional<json> describe_thing_group(const std::string& name);
  void delete_thing_group(const std::string& name);
  void add_thing_to_thing_group(const std::string& group, const std::string& thing);
  // The same as a request, so many adds can go through call_all("AddThingToThingGroup") at once.
  http::Request add_thing_to_thing_group_request(const std::string& group, const std::string& thing) const;
  void remove_thing_from_thing_group(const std::string& group, const std::string& thing);
  std::vector<std::string> list_things_in_thing_group(const std::string& group, bool recursive = false);

  // Shadows (data plane). shadow_name "" = the classic shadow.
  std::optional<Shadow> get_shadow(const std::string& thing, const std::string& shadow_name);
  // `state` is {"desired": ..., "reported": ...}; with expected_version a stale one is
  // Error::precondition (409 VersionConflict).
  Shadow update_shadow(const std::string& thing, const std::string& shadow_name, const json& state,
                       std::optional<std::int64_t> expected_version = std::nullopt);
  void delete_shadow(const std::string& thing, const std::string& shadow_name);
  http::Request update_shadow_request(const std::string& thing, const std::string& shadow_name, const json& state);
  std::string data_endpoint();

  // Jobs.
  static json create_job_body(const JobSpec& spec);
  json create_job(const JobSpec& spec);
  json describe_job(const std::string& job_id);  // the `job` object
  std::vector<json> list_job_executions(const std::string& job_id, const std::string& status = {});
  void cancel_job(const std::string& job_id, const std::string& reason_code, const std::string& comment,
                  bool force = false);
  // ListJobs, every page: the `jobs[]` summaries ({jobArn, jobId, status, targetSelection, createdAt, ...}),
  // optionally only those targeting `thing_group` and/or in `status` (IN_PROGRESS, COMPLETED, CANCELED, ...).
  std::vector<json> list_jobs(const std::string& thing_group = {}, const std::string& status = {});

  // Fleet Indexing (SearchIndex on AWS_Things, query syntax of the fleet indexing guide, e.g.
  // "thingGroupNames:wave-1"). AWS returns at most 100 things a page whatever maxResults says
  // (the model accepts 1..500), so pages are of 100 by default.
  IndexPage search_index(const std::string& query, const std::string& next_token = {}, int max_results = 100);
  // Every page of the query (follows nextToken).
  std::vector<IndexedThing> search_all(const std::string& query);
  // The same, or nullopt when the account's thing index cannot answer (see index_unavailable), so
  // a caller with another way to read the fleet can fall back to it.
  std::optional<std::vector<IndexedThing>> try_search_all(const std::string& query);
  // Whether a SearchIndex error means "no usable thing index here" rather than a failure to report:
  // fleet indexing off (ResourceNotFoundException, 404), the index still building
  // (IndexNotReadyException), or SearchIndex not allowed for these credentials (401/403).
  static bool index_unavailable(const AwsError& error);
  // GetBucketsAggregation (POST /indices/buckets) on AWS_Things with a terms aggregation of at most
  // max_buckets (AWS: 1..10,000) buckets; nullopt when the index cannot answer (index_unavailable)
  // or cannot aggregate this field (InvalidAggregationException: not an indexed custom field).
  std::optional<Buckets> try_buckets(const std::string& query, const std::string& field, int max_buckets = 10000);
  // The {desired, reported} of a named shadow in an indexed thing ("" = the classic shadow), or
  // null when the index holds no such shadow: callers need not know the wire's nesting.
  static json named_shadow_state(const IndexedThing& t, const std::string& shadow_name);
  // The same shadow in GetThingShadow's shape ({"state": {desired, reported}, "metadata", "version"},
  // the parts the index holds), or null when the index holds no such shadow.
  static json named_shadow_document(const IndexedThing& t, const std::string& shadow_name);
  static IndexedThing parse_indexed_thing(const json& j);

 private:
  void sign(http::Request& request, const std::string& service) const;
  std::vector<json> list_all(const std::string& path, const Query& query, const std::string& operation,
                             const std::string& key);
  http::Request search_index_request(const std::string& query, const std::string& next_token, int max_results) const;
  static IndexPage parse_index_page(const http::Response& response);

  std::shared_ptr<http::Transport> transport_;
  Config config_;
  std::unique_ptr<http::Client> control_;
  std::unique_ptr<http::Client> data_;
  std::mutex endpoint_mutex_;
};

}  // namespace aiot::hub::aws
