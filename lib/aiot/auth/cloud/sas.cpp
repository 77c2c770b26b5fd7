#include "aiot/auth/cloud/sas.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <cctype>
#include <charconv>
#include <map>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::auth::sas {

namespace {

bool unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Base64 decoding that accepts missing padding, as the SDKs do.
std::string decode_key(std::string_view key_base64) {
  std::string key(str::trim(key_base64));
  if (key.empty()) throw Error::usage("the shared access key is empty");
  while (key.size() % 4 != 0) key += '=';
  try {
    return crypto::base64_decode(key);
  } catch (const Error&) {
    throw Error::usage("the shared access key is not base64 text");
  }
}

}  // namespace

std::string url_encode(std::string_view s) {
  static const char* k_hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out += ch;
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    }
  }
  return out;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      bool complete = i + 2 < s.size();
      int hi = complete ? hex_value(s[i + 1]) : -1;
      int lo = complete ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) throw Error::usage("malformed percent-encoding");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string sign(std::string_view key_base64, std::string_view data) {
  return crypto::base64_encode(crypto::hmac_sha256(decode_key(key_base64), data));
}

std::string make_token(std::string_view resource_uri, std::string_view key_base64, std::int64_t expiry,
                       std::string_view key_name) {
  std::string sr = url_encode(resource_uri);
  std::string se = std::to_string(expiry);
  std::string sig = url_encode(sign(key_base64, sr + "\n" + se));
  std::string token = fmt::format("SharedAccessSignature sr={}&sig={}&se={}", sr, sig, se);
  if (!key_name.empty()) token += "&skn=" + url_encode(key_name);
  return token;
}

std::optional<TokenFields> parse_token(std::string_view header) {
  constexpr std::string_view k_prefix = "SharedAccessSignature ";
  std::string_view text = str::trim(header);
  if (text.substr(0, k_prefix.size()) != k_prefix) return std::nullopt;
  text.remove_prefix(k_prefix.size());
  TokenFields f;
  for (const auto& part : str::split(text, '&')) {
    std::string key, value;
    if (!str::split_kv(part, key, value)) return std::nullopt;
    if (key == "sr") f.sr = value;
    else if (key == "sig") f.sig = value;
    else if (key == "se") f.se = value;
    else if (key == "skn") f.skn = value;
  }
  if (f.sr.empty() || f.sig.empty() || f.se.empty()) return std::nullopt;
  return f;
}

namespace {
// Percent-decoding that keeps '+': a base64 signature is full of them, and some HTTP servers
// (cpp-httplib 0.11) hand over header values already decoded.
std::string decode_keep_plus(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += "%2B";
    } else {
      out += s[i];
    }
  }
  return url_decode(out);
}
}  // namespace

TokenCheck check_token(std::string_view header, std::string_view host, std::string_view key_name,
                       std::string_view key_base64, std::int64_t now) {
  auto f = parse_token(header);
  if (!f) return TokenCheck::malformed;
  std::int64_t expiry = 0;
  auto [end, ec] = std::from_chars(f->se.data(), f->se.data() + f->se.size(), expiry);
  if (ec != std::errc() || end != f->se.data() + f->se.size()) return TokenCheck::malformed;
  std::string resource, name, sig;
  try {
    resource = decode_keep_plus(f->sr);
    name = decode_keep_plus(f->skn);
    sig = decode_keep_plus(f->sig);
  } catch (const Error&) {
    return TokenCheck::malformed;
  }
  if (expiry <= now) return TokenCheck::expired;
  std::string want_host = str::to_lower(host);
  std::string have = str::to_lower(resource);
  if (have != want_host && have.rfind(want_host + "/", 0) != 0) return TokenCheck::wrong_resource;
  if (name != key_name) return TokenCheck::unknown_key_name;
  // The signer signed the sr as it sent it; if the value arrives decoded, its canonical
  // (RFC 3986, upper-case hex) encoding is what SDK signers produce.
  for (const std::string& signed_sr : {f->sr, url_encode(resource)}) {
    std::string expected = sign(key_base64, signed_sr + "\n" + f->se);
    if (expected.size() == sig.size() && CRYPTO_memcmp(expected.data(), sig.data(), sig.size()) == 0)
      return TokenCheck::valid;
  }
  return TokenCheck::bad_signature;
}

std::string_view to_string(TokenCheck c) {
  switch (c) {
    case TokenCheck::valid: return "valid";
    case TokenCheck::malformed: return "the Authorization header is not a SharedAccessSignature token";
    case TokenCheck::expired: return "the token has expired";
    case TokenCheck::wrong_resource: return "the token's sr does not name this hub";
    case TokenCheck::unknown_key_name: return "the token's skn names an unknown policy";
    case TokenCheck::bad_signature: return "the token's signature does not match";
  }
  return "invalid token";
}

ServiceConnectionString parse_service_connection_string(std::string_view text, std::string_view source) {
  std::map<std::string, std::string> fields;  // lower-case name -> value
  std::string trimmed(str::trim(text));
  if (trimmed.empty()) throw Error::usage(fmt::format("the connection string from {} is empty", source));
  for (const auto& raw : str::split(trimmed, ';')) {
    std::string_view part = str::trim(raw);
    if (part.empty()) continue;  // a trailing ';' is common
    std::string key, value;
    if (!str::split_kv(part, key, value)) {
      // Quote at most the name: the part may be a key that lost its name.
      throw Error::usage(fmt::format("the connection string from {} has a part without 'Name=value'", source),
                         "Expected HostName=<hub>.azure-devices.net;SharedAccessKeyName=<policy>;SharedAccessKey=<key>.");
    }
    fields[str::to_lower(str::trim(key))] = std::string(str::trim(value));
  }
  const std::string hint =
      "Copy the connection string of a shared access policy (e.g. iothubowner or registryReadWrite) from the "
      "portal or `az iot hub connection-string show`.";
  if (fields.count("deviceid"))
    throw Error::usage(fmt::format("the connection string from {} is a device connection string (it has DeviceId); "
                                   "aiot needs a service (shared access policy) connection string",
                                   source),
                       hint);
  ServiceConnectionString cs;
  const char* missing = nullptr;
  auto take = [&](const char* lower, const char* name, std::string& out) {
    auto it = fields.find(lower);
    if (it == fields.end() || it->second.empty()) {
      if (!missing) missing = name;
      return;
    }
    out = it->second;
  };
  take("hostname", "HostName", cs.host_name);
  take("sharedaccesskeyname", "SharedAccessKeyName", cs.key_name);
  take("sharedaccesskey", "SharedAccessKey", cs.key);
  if (missing) {
    if (std::string_view(missing) == "SharedAccessKey" && fields.count("sharedaccesssignature"))
      throw Error::usage(fmt::format("the connection string from {} carries a SharedAccessSignature instead of a "
                                     "SharedAccessKey; aiot signs its own tokens and needs the key",
                                     source),
                         hint);
    throw Error::usage(fmt::format("the connection string from {} has no {}", source, missing), hint);
  }
  if (cs.host_name.find("://") != std::string::npos || cs.host_name.find('/') != std::string::npos)
    throw Error::usage(fmt::format("the HostName in the connection string from {} must be a bare host name "
                                   "(like myhub.azure-devices.net), not '{}'",
                                   source, cs.host_name),
                       "Set azure.endpoint (AIOT_AZURE_ENDPOINT) to choose a scheme or base URL.");
  try {
    decode_key(cs.key);
  } catch (const Error&) {
    throw Error::usage(fmt::format("the SharedAccessKey in the connection string from {} is not base64 text", source),
                       hint);
  }
  return cs;
}

TokenCache::TokenCache(ServiceConnectionString credentials, Now now, std::chrono::seconds lifetime,
                       std::chrono::seconds renew_before)
    : credentials_(std::move(credentials)), now_(std::move(now)), lifetime_(lifetime), renew_before_(renew_before) {}

std::string TokenCache::token() {
  std::lock_guard lock(mutex_);
  std::int64_t now = now_();
  if (token_.empty() || now >= expiry_ - renew_before_.count()) {
    expiry_ = now + lifetime_.count();
    token_ = make_token(credentials_.host_name, credentials_.key, expiry_, credentials_.key_name);
    ++tokens_made_;
  }
  return token_;
}

std::int64_t system_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace aiot::auth::sas
