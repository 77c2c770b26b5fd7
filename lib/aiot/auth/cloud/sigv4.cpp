#include "aiot/auth/cloud/sigv4.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <ctime>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::sigv4 {

namespace {

constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 0xF]);
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Percent-decoding; '+' stays '+' (SigV4 clients encode spaces as %20) and a stray '%' stays as is.
std::string uri_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Removes "." and ".." segments and empty segments (repeated '/'), keeping a trailing '/'
// (botocore's normpath plus trailing slash; aws-c-auth agrees on the suite).
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += segments[i];
  }
  if (!segments.empty() && !path.empty() && path.back() == '/') {
    out += '/';
  }
  return out;
}

std::string collapse_whitespace(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : str::trim(value)) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) {
      out.push_back(' ');
    }
    in_space = false;
    out.push_back(c);
  }
  return out;
}

void remove_header(Headers& headers, std::string_view lower_name) {
  std::erase_if(headers, [&](const auto& h) { return str::to_lower(h.first) == lower_name; });
}

std::optional<std::string> header_value(const Headers& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (str::to_lower(name) == lower_name) {
      return value;
    }
  }
  return std::nullopt;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) {
    return {target, {}};
  }
  return {target.substr(0, q), target.substr(q + 1)};
}

std::string hex_hmac(std::string_view key, std::string_view data) { return str::hex(crypto::hmac_sha256(key, data)); }

Signed finish(const SignableRequest& request, const std::vector<std::string>& names, std::string_view payload_hash,
              std::string_view date_time, std::string_view access_key_id, std::string_view secret,
              const Config& config) {
  Signed s;
  s.canonical_request = canonical_request(request, names, payload_hash, config);
  std::string date(date_time.substr(0, 8));
  std::string scope = credential_scope(date, config.region, config.service);
  s.string_to_sign =
      fmt::format("{}\n{}\n{}\n{}", k_algorithm, date_time, scope, crypto::sha256_hex(s.canonical_request));
  s.signature = hex_hmac(signing_key(secret, date, config.region, config.service), s.string_to_sign);
  s.signed_headers = str::join(names, ";");
  s.authorization = fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", k_algorithm, access_key_id, scope,
                                s.signed_headers, s.signature);
  return s;
}

}  // namespace

bool is_unsigned_header(std::string_view n) {
  return n == "authorization" || n == "user-agent" || n == "expect" || n == "connection" || n == "keep-alive" ||
         n == "transfer-encoding" || n == "x-amzn-trace-id" || n == "proxy-authorization" || n == "te" ||
         n == "upgrade" || n == "accept-encoding";
}

std::string canonical_uri(std::string_view path, const Config& config) {
  std::string p = path.empty() ? std::string("/") : std::string(path);
  if (config.normalize_path) {
    p = normalize_path(p);
  }
  if (config.double_encode_path) {
    p = uri_encode(p, true);
  }
  return p;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& item : str::split(query, '&')) {
    if (item.empty()) {
      continue;
    }
    auto eq = item.find('=');
    std::string key = eq == std::string::npos ? item : item.substr(0, eq);
    std::string value = eq == std::string::npos ? std::string() : item.substr(eq + 1);
    pairs.emplace_back(uri_encode(uri_decode(key), false), uri_encode(uri_decode(value), false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) {
      out += '&';
    }
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string canonical_headers(const Headers& headers, const std::vector<std::string>& signed_names) {
  std::string out;
  for (const auto& name : signed_names) {
    std::vector<std::string> values;
    for (const auto& [n, v] : headers) {
      if (str::to_lower(n) == name) {
        values.push_back(collapse_whitespace(v));
      }
    }
    out += name;
    out += ':';
    out += str::join(values, ",");
    out += '\n';
  }
  return out;
}

std::string canonical_request(const SignableRequest& request, const std::vector<std::string>& signed_names,
                              std::string_view payload_hash, const Config& config) {
  auto [path, query] = split_target(request.target);
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method, canonical_uri(path, config), canonical_query(query),
                     canonical_headers(request.headers, signed_names), str::join(signed_names, ";"), payload_hash);
}

std::string amz_date(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string credential_scope(std::string_view yyyymmdd, std::string_view region, std::string_view service) {
  return fmt::format("{}/{}/{}/aws4_request", yyyymmdd, region, service);
}

std::string signing_key(std::string_view secret, std::string_view yyyymmdd, std::string_view region,
                        std::string_view service) {
  std::string k = crypto::hmac_sha256("AWS4" + std::string(secret), yyyymmdd);
  k = crypto::hmac_sha256(k, region);
  k = crypto::hmac_sha256(k, service);
  return crypto::hmac_sha256(k, "aws4_request");
}

Signed sign(SignableRequest& request, const Credentials& credentials, const Config& config) {
  if (!header_value(request.headers, "host")) {
    throw Error::failure("SigV4: the request has no Host header");
  }
  for (auto name : {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}) {
    remove_header(request.headers, name);
  }
  std::string date_time = amz_date(config.time);
  request.headers.emplace_back("X-Amz-Date", date_time);
  std::string payload_hash = crypto::sha256_hex(request.body);
  if (config.add_content_sha256_header) {
    request.headers.emplace_back("x-amz-content-sha256", payload_hash);
  }
  bool has_token = !credentials.session_token.empty();
  if (has_token && !config.omit_session_token) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  std::vector<std::string> names;
  for (const auto& [n, v] : request.headers) {
    std::string lower = str::to_lower(n);
    if (!is_unsigned_header(lower)) {
      names.push_back(lower);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  Signed s = finish(request, names, payload_hash, date_time, credentials.access_key_id, credentials.secret_access_key,
                    config);
  request.headers.emplace_back("Authorization", s.authorization);
  if (has_token && config.omit_session_token) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  return s;
}

std::optional<Authorization> parse_authorization(std::string_view value) {
  value = str::trim(value);
  if (value.substr(0, k_algorithm.size()) != k_algorithm || value.size() == k_algorithm.size() ||
      value[k_algorithm.size()] != ' ') {
    return std::nullopt;
  }
  Authorization a;
  bool have_credential = false, have_headers = false, have_signature = false;
  for (const auto& part : str::split(value.substr(k_algorithm.size() + 1), ',')) {
    std::string key, v;
    if (!str::split_kv(str::trim(part), key, v)) {
      return std::nullopt;
    }
    if (key == "Credential") {
      auto pieces = str::split(v, '/');
      if (pieces.size() != 5 || pieces[4] != "aws4_request" || pieces[1].size() != 8) {
        return std::nullopt;
      }
      a.access_key_id = pieces[0];
      a.date = pieces[1];
      a.region = pieces[2];
      a.service = pieces[3];
      have_credential = true;
    } else if (key == "SignedHeaders") {
      a.signed_headers = str::split(v, ';');
      have_headers = !v.empty();
    } else if (key == "Signature") {
      a.signature = v;
      have_signature = !v.empty();
    }
  }
  if (!have_credential || !have_headers || !have_signature) {
    return std::nullopt;
  }
  return a;
}

Signed recompute(const SignableRequest& request, const Authorization& auth, std::string_view secret,
                 const Config& config) {
  std::string date_time = header_value(request.headers, "x-amz-date").value_or("");
  std::string payload_hash = crypto::sha256_hex(request.body);
  if (auto declared = header_value(request.headers, "x-amz-content-sha256"); declared && *declared == "UNSIGNED-PAYLOAD") {
    payload_hash = *declared;
  }
  Config c = config;
  c.region = auth.region;
  c.service = auth.service;
  // The scope's date, not X-Amz-Date's, goes into the key: a mismatch then fails the comparison.
  Signed s = finish(request, auth.signed_headers, payload_hash, date_time, auth.access_key_id, secret, c);
  if (date_time.substr(0, 8) != auth.date) {
    s.signature.clear();
  }
  return s;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace aiot::sigv4
