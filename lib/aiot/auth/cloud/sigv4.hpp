#pragma once
// AWS Signature Version 4 (header signing), as in botocore's SigV4Auth and aws-c-auth; validated
// against the official suite (../shared/testdata/sigv4) and the captures in
// ../shared/reference/aws-iot.md §2 and §7. The same functions verify signatures in the emulator.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aiot/core/time.hpp"

namespace aiot::sigv4 {

using Headers = std::vector<std::pair<std::string, std::string>>;  // same shape as http::Headers

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // a secret
  std::string session_token;      // empty unless temporary credentials; a secret
};

struct Config {
  std::string region;   // "us-east-1"
  std::string service;  // signing name: "iot", "execute-api", "iotdata", "s3"...
  TimePoint time{};
  // Every service but S3 normalises the path (dot segments, repeated '/') and then URI-encodes
  // the path as it is on the wire, so '%' becomes "%25" ("double encoding"). S3 keeps the wire
  // path unchanged: set both to false for S3.
  bool normalize_path = true;
  bool double_encode_path = true;
  // Add and sign `x-amz-content-sha256` (S3, and the suite's sign_body cases).
  bool add_content_sha256_header = false;
  // Leave the session token out of the signature and add it after signing (suite: post-sts-header-after).
  bool omit_session_token = false;
};

// A request as it goes on the wire: `target` is path[?query], already percent-encoded by the
// caller (raw bytes such as spaces are encoded by the signer as the suite expects).
struct SignableRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
};

// The intermediate strings, for tests and for --debug of the emulator.
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // 64 lower-case hex digits
  std::string signed_headers; // "content-type;host;x-amz-date"
  std::string authorization;  // the Authorization header value
};

// Headers never signed: they change on the way or are added by the transport (botocore's list).
bool is_unsigned_header(std::string_view lower_name);

// Signs `request`: adds X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256 (when asked) and
// Authorization to its headers and returns the intermediate strings. A Host header must be present.
Signed sign(SignableRequest& request, const Credentials& credentials, const Config& config);

// The pieces, exposed for verification and tests.
std::string canonical_uri(std::string_view path, const Config& config);
std::string canonical_query(std::string_view query);
// Canonical header block ("name:value\n"...) over the listed lower-case names (sorted), duplicates
// joined with ',' in order, values trimmed with inner whitespace runs collapsed.
std::string canonical_headers(const Headers& headers, const std::vector<std::string>& signed_names);
std::string canonical_request(const SignableRequest& request, const std::vector<std::string>& signed_names,
                              std::string_view payload_hash, const Config& config);
std::string amz_date(TimePoint t);  // "20150830T123600Z"
std::string credential_scope(std::string_view yyyymmdd, std::string_view region, std::string_view service);
std::string signing_key(std::string_view secret, std::string_view yyyymmdd, std::string_view region,
                        std::string_view service);  // raw bytes

// The parts of an Authorization header; nullopt when it is not a well-formed AWS4-HMAC-SHA256 one.
struct Authorization {
  std::string access_key_id;
  std::string date;  // yyyymmdd of the scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
std::optional<Authorization> parse_authorization(std::string_view value);

// Recomputes the signature of a received request (headers as received, including X-Amz-Date and
// Authorization) for the given secret; the caller compares it with auth.signature.
Signed recompute(const SignableRequest& request, const Authorization& auth, std::string_view secret,
                 const Config& config);

// Constant-time comparison for signatures.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace aiot::sigv4
