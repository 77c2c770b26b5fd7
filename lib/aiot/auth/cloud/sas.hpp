#pragma once
// Azure IoT Hub shared access signatures and service connection strings
// (../shared/reference/azure-iothub.md §2). Secrets (keys, signatures) never appear in an error
// message thrown from here.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::auth::sas {

// RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ becomes %XX with upper-case hex.
// The reference's recommendation, which matches every SDK test vector (V1-V6).
std::string url_encode(std::string_view s);
// Decodes %XX (either hex case) and '+' as a space; throws Error::usage on a malformed escape.
std::string url_decode(std::string_view s);

// base64 of HMAC-SHA256(base64-decode(key), data). Keys are decoded leniently like the Node SDK:
// missing '=' padding is added (the reference's vector V3 signs with the unpadded key "key").
// Throws Error::usage when the key is not base64.
std::string sign(std::string_view key_base64, std::string_view data);

// "SharedAccessSignature sr=<enc uri>&sig=<enc sig>&se=<expiry>[&skn=<enc name>]": the string to
// sign is the *encoded* sr, a newline, and the decimal expiry (seconds since the Unix epoch).
std::string make_token(std::string_view resource_uri, std::string_view key_base64, std::int64_t expiry,
                       std::string_view key_name = {});

// A token's fields as sent (sr and sig still URL-encoded, the way they were signed).
struct TokenFields {
  std::string sr;
  std::string sig;
  std::string se;
  std::string skn;  // empty when absent (device-key tokens)
};
// Parses an Authorization value "SharedAccessSignature sr=..&sig=..&se=..[&skn=..]" (fields in
// any order). nullopt when it is not such a token or a required field is missing.
std::optional<TokenFields> parse_token(std::string_view header);

enum class TokenCheck { valid, malformed, expired, wrong_resource, unknown_key_name, bad_signature };
// What an emulator checks: well-formed, not expired at `now` (seconds since the epoch), sr covers
// `host` (the decoded sr is the host or starts with "host/"), skn names `key_name`, and sig is the
// HMAC of the sent sr and se under `key_base64`.
TokenCheck check_token(std::string_view header, std::string_view host, std::string_view key_name,
                       std::string_view key_base64, std::int64_t now);
std::string_view to_string(TokenCheck c);

// A service (shared access policy) connection string:
//   HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;SharedAccessKey=<base64>
struct ServiceConnectionString {
  std::string host_name;  // may carry a port for emulators: 127.0.0.1:41234
  std::string key_name;
  std::string key;  // base64; a secret
};

// Splits on ';', each part at its first '=' (keys end in '='); a later duplicate wins; names are
// matched case-insensitively. Throws Error::usage naming what is wrong and where the text came from
// (`source`, e.g. "IOTHUB_CONNECTION_STRING") without ever quoting the key. A device connection
// string (DeviceId=...) is refused with a hint.
ServiceConnectionString parse_service_connection_string(std::string_view text, std::string_view source);

// The hub-level token of a policy, signed for `lifetime` and renewed once less than `renew_before`
// is left, so every request of a long import carries a valid token without re-signing each time.
// Thread-safe. `now` returns seconds since the Unix epoch.
class TokenCache {
 public:
  using Now = std::function<std::int64_t()>;
  TokenCache(ServiceConnectionString credentials, Now now, std::chrono::seconds lifetime = std::chrono::hours(1),
             std::chrono::seconds renew_before = std::chrono::minutes(5));
  // The Authorization header value.
  std::string token();
  int tokens_made() const { return tokens_made_; }

 private:
  ServiceConnectionString credentials_;
  Now now_;
  std::chrono::seconds lifetime_, renew_before_;
  std::string token_;
  std::int64_t expiry_ = 0;
  int tokens_made_ = 0;
  std::mutex mutex_;
};

// Seconds since the Unix epoch from the system clock: SAS expiry is checked against real time by
// the hub, so tokens are not made from a pinned AIOT_NOW.
std::int64_t system_now_seconds();

}  // namespace aiot::auth::sas
