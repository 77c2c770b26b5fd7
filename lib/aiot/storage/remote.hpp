#pragma once
// The pieces behind storage/inputs.hpp, exposed for unit tests: spec parsing, the two stores
// (Azure Blob, S3) behind one listing interface, Shared Key signing, the list-response parsers,
// the --window walk over time-based folders, and the resumable object stream.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/auth/cloud/sigv4.hpp"
#include "aiot/core/time.hpp"
#include "aiot/http/client.hpp"
#include "aiot/http/stream.hpp"
#include "aiot/lineage/source.hpp"

namespace aiot::storage {

// Where a spec points. For Azure, `endpoint` is the blob service base URL without a trailing
// '/' (https://ACCOUNT.blob.core.windows.net, or path-style http://127.0.0.1:10000/devstoreaccount1);
// empty = not given in the spec (az://: the connection string's BlobEndpoint or the default).
struct Location {
  enum class Service { azure, s3 } service = Service::azure;
  std::string account;    // Azure storage account; empty for S3
  std::string container;  // Azure container or S3 bucket
  std::string prefix;     // blob name / key prefix, not encoded
  std::string endpoint;
  std::string sas;  // a SAS query from the URL, without '?'
};

// Error::usage for anything that is not a remote spec (see inputs.hpp for the forms).
Location parse_spec(std::string_view spec);

struct ObjectInfo {
  std::string name;  // blob name / key
  std::string etag;  // as listed (S3 keeps its quotes)
  std::string version_id;
  std::uint64_t size = 0;
};

struct Page {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> prefixes;  // with a delimiter: the "folders" (BlobPrefix / CommonPrefixes)
  std::string next;                   // NextMarker / NextContinuationToken; empty = last page
};

// A container or bucket.
class Store {
 public:
  virtual ~Store() = default;
  // One List Blobs / ListObjectsV2 call. Throws Error::auth on 401/403, not_found on 404.
  virtual Page list_page(const std::string& prefix, const std::string& delimiter, const std::string& token,
                         std::size_t page_size) = 0;
  // An unsigned GET of one object (sign() adds auth to each attempt).
  virtual http::Request object_request(const ObjectInfo& object) const = 0;
  virtual void sign(http::Request& request) const = 0;
  // Input::name and the OpenLineage naming.
  virtual std::string object_url(const ObjectInfo& object) const = 0;
  virtual std::string ol_namespace() const = 0;
};

// Every object under `prefix` (no delimiter), page after page.
std::vector<ObjectInfo> list_all(Store& store, const std::string& prefix, std::size_t page_size);

// Only what the time-based layout allows for [from, to] (inputs.hpp, ListOptions). The walk lists
// folder by folder with delimiter '/', skips folders outside the window and lists a folder inside
// it in one flat listing.
std::vector<ObjectInfo> list_window(Store& store, const std::string& prefix, std::optional<TimePoint> from,
                                    std::optional<TimePoint> to, std::size_t page_size);

// The time span a path's time components cover: "2026" -> the year, "2026/11/26/04" -> the hour;
// nullopt when `components` (folder names after the non-time ones) are not a time layout.
struct Span {
  TimePoint begin, end;
};
std::optional<Span> time_span(const std::vector<int>& parts);

namespace azure {

struct ConnectionString {
  std::string account;
  std::string key;  // base64 account key; a secret
  std::string sas;  // SharedAccessSignature, without '?'
  std::string blob_endpoint;
  std::string protocol = "https";
  std::string endpoint_suffix = "core.windows.net";
};
// Error::usage when malformed. UseDevelopmentStorage=true gives Azurite's well-known account.
ConnectionString parse_connection_string(std::string_view text);

inline constexpr const char* k_api_version = "2021-08-06";

// The Shared Key string-to-sign of a request (Authorize with Shared Key, version 2009-09-19 and later):
// VERB, the eleven standard headers (Content-Length empty when 0), canonicalized x-ms-* headers,
// canonicalized resource "/ACCOUNT/PATH" + "\nname:value" per query parameter (sorted, decoded).
std::string shared_key_string_to_sign(const http::Request& request, std::string_view account);
// Sets x-ms-date (from `now`) and x-ms-version when missing, and Authorization: SharedKey ACCOUNT:SIG.
void sign_shared_key(http::Request& request, std::string_view account, std::string_view key_base64, TimePoint now);

Page parse_list_blobs(std::string_view xml);

}  // namespace azure

namespace s3 {
Page parse_list_objects_v2(std::string_view xml);
}

// "<Error><Code>X</Code><Message>Y</Message>" -> "X: Y" (both services); the raw text cut short otherwise.
std::string error_summary(std::string_view body);

// Everything an object stream needs: the store (request + signing), the stream transport and the
// retry policy of the HTTP layer.
struct Fetcher {
  std::shared_ptr<Store> store;
  std::shared_ptr<http::StreamTransport> stream;
  http::RetryPolicy retry;
  http::Sleeper sleep;
  std::uint64_t seed = 0;
  http::Tracer trace;  // --debug: one line per GET and per answer, redacted
};

// An object as a ByteSource: the transfer starts in the constructor; a failed or broken attempt is
// retried (Range from the bytes already delivered, If-Match the listed etag) with the policy's
// backoff. Throws Error::auth (401/403), not_found (404), failure (412: changed while read; other
// statuses), unavailable (attempts exhausted).
std::unique_ptr<lineage::ByteSource> open_object(std::shared_ptr<const Fetcher> fetcher, ObjectInfo object);

// Stores over a buffering or streaming client (inputs.cpp builds them from the Context).
struct AzureAuth {
  std::string sas;         // without '?'
  std::string shared_key;  // base64 account key
};
// The signer of every request to the account: the SAS appended, or Shared Key headers, or nothing.
http::Signer azure_signer(const std::string& account, const AzureAuth& auth, std::function<TimePoint()> now);
std::shared_ptr<Store> make_azure_store(const Location& where, AzureAuth auth, std::shared_ptr<http::Client> client,
                                        std::function<TimePoint()> now, std::string display_base);
// `endpoint` empty = AWS (https://BUCKET.s3.REGION.amazonaws.com, path-style when the bucket has a
// dot); else a custom endpoint addressed path-style (ENDPOINT/BUCKET/KEY).
// SigV4 with S3's rules: the wire path signed as is (no normalising, no double encoding),
// x-amz-content-sha256 signed, Host taken from the URL.
http::Signer s3_signer(sigv4::Credentials credentials, std::string region, std::function<TimePoint()> now);
std::shared_ptr<Store> make_s3_store(const Location& where, sigv4::Credentials credentials, std::string region,
                                     std::string endpoint, std::shared_ptr<http::Client> client,
                                     std::function<TimePoint()> now);

}  // namespace aiot::storage
