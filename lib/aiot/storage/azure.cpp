// Azure Blob Storage: connection strings, Shared Key signing (learn.microsoft.com "Authorize with
// Shared Key", the same string-to-sign as azure-storage-blob's SharedKeyCredentialPolicy), SAS, and
// the container as a Store.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/storage/remote.hpp"

namespace aiot::storage {

namespace azure {

namespace {

// Azurite's documented development account.
constexpr const char* k_dev_account = "devstoreaccount1";
constexpr const char* k_dev_key =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string rfc1123(TimePoint t) {
  static constexpr const char* k_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", k_days[tm.tm_wday], tm.tm_mday, k_months[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// The path (as on the wire) and the raw query of an absolute URL.
std::pair<std::string, std::string> path_and_query(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path_start == std::string::npos) {
    const auto q = url.find('?');
    return {"/", q == std::string::npos ? std::string() : url.substr(q + 1)};
  }
  const auto q = url.find('?', path_start);
  if (q == std::string::npos) {
    return {url.substr(path_start), {}};
  }
  return {url.substr(path_start, q - path_start), url.substr(q + 1)};
}

}  // namespace

ConnectionString parse_connection_string(std::string_view text) {
  ConnectionString cs;
  std::map<std::string, std::string> fields;
  for (const auto& part : str::split(text, ';')) {
    const auto trimmed = str::trim(part);
    if (trimmed.empty()) {
      continue;
    }
    std::string key;
    std::string value;
    if (!str::split_kv(trimmed, key, value)) {
      throw Error::usage("malformed Azure Storage connection string: expected Key=Value pairs separated by ';'");
    }
    fields[str::to_lower(str::trim(key))] = std::string(str::trim(value));
  }
  auto take = [&](const char* k) {
    const auto it = fields.find(k);
    return it == fields.end() ? std::string() : it->second;
  };
  if (str::to_lower(take("usedevelopmentstorage")) == "true") {
    cs.account = k_dev_account;
    cs.key = k_dev_key;
    cs.protocol = "http";
    cs.blob_endpoint = take("developmentstorageproxyuri").empty()
                           ? std::string("http://127.0.0.1:10000/devstoreaccount1")
                           : take("developmentstorageproxyuri") + ":10000/devstoreaccount1";
    return cs;
  }
  cs.account = take("accountname");
  cs.key = take("accountkey");
  cs.sas = take("sharedaccesssignature");
  if (!cs.sas.empty() && cs.sas.front() == '?') {
    cs.sas.erase(0, 1);
  }
  cs.blob_endpoint = take("blobendpoint");
  while (!cs.blob_endpoint.empty() && cs.blob_endpoint.back() == '/') {
    cs.blob_endpoint.pop_back();
  }
  if (!take("defaultendpointsprotocol").empty()) {
    cs.protocol = str::to_lower(take("defaultendpointsprotocol"));
  }
  if (!take("endpointsuffix").empty()) {
    cs.endpoint_suffix = take("endpointsuffix");
  }
  if (cs.account.empty() && cs.blob_endpoint.empty()) {
    throw Error::usage("the Azure Storage connection string names neither AccountName nor BlobEndpoint");
  }
  if (cs.key.empty() && cs.sas.empty()) {
    throw Error::usage("the Azure Storage connection string has neither AccountKey nor SharedAccessSignature");
  }
  return cs;
}

std::string shared_key_string_to_sign(const http::Request& request, std::string_view account) {
  auto header = [&](std::string_view name) { return http::find_header(request.headers, name).value_or(""); };
  std::string content_length = header("Content-Length");
  if (content_length == "0") {
    content_length.clear();  // versions 2015-02-21 and later sign an empty string for 0
  }
  std::string out = request.method + "\n";
  out += header("Content-Encoding") + "\n";
  out += header("Content-Language") + "\n";
  out += content_length + "\n";
  out += header("Content-MD5") + "\n";
  out += header("Content-Type") + "\n";
  out += (http::find_header(request.headers, "x-ms-date") ? std::string() : header("Date")) + "\n";
  out += header("If-Modified-Since") + "\n";
  out += header("If-Match") + "\n";
  out += header("If-None-Match") + "\n";
  out += header("If-Unmodified-Since") + "\n";
  out += header("Range") + "\n";

  // x-ms-* headers: lower-case names, sorted, values trimmed.
  std::vector<std::pair<std::string, std::string>> ms;
  for (const auto& [name, value] : request.headers) {
    const auto lower = str::to_lower(name);
    if (lower.rfind("x-ms-", 0) == 0) {
      ms.emplace_back(lower, std::string(str::trim(value)));
    }
  }
  std::stable_sort(ms.begin(), ms.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [name, value] : ms) {
    out += name + ":" + value + "\n";
  }

  const auto [path, query] = path_and_query(request.url);
  out += "/" + std::string(account) + path;
  std::map<std::string, std::vector<std::string>> params;
  if (!query.empty()) {
    for (const auto& pair : str::split(query, '&')) {
      if (pair.empty()) {
        continue;
      }
      const auto eq = pair.find('=');
      const auto name = str::to_lower(http::url_decode(pair.substr(0, eq)));
      params[name].push_back(eq == std::string::npos ? std::string() : http::url_decode(pair.substr(eq + 1)));
    }
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":" + str::join(values, ",");
  }
  return out;
}

void sign_shared_key(http::Request& request, std::string_view account, std::string_view key_base64, TimePoint now) {
  if (!http::find_header(request.headers, "x-ms-date")) {
    http::set_header(request.headers, "x-ms-date", rfc1123(now));
  }
  if (!http::find_header(request.headers, "x-ms-version")) {
    http::set_header(request.headers, "x-ms-version", k_api_version);
  }
  const auto to_sign = shared_key_string_to_sign(request, account);
  const auto signature = crypto::base64_encode(crypto::hmac_sha256(crypto::base64_decode(key_base64), to_sign));
  http::set_header(request.headers, "Authorization", fmt::format("SharedKey {}:{}", account, signature));
}

}  // namespace azure

namespace {

// Blob names are encoded per character, '/' kept: the URL path then reads like the name.
std::string encode_path(std::string_view name) {
  std::vector<std::string> segments;
  for (const auto& segment : str::split(name, '/')) {
    segments.push_back(http::url_encode(segment));
  }
  return str::join(segments, "/");
}

[[noreturn]] void throw_for(const http::Response& r, const std::string& what) {
  const auto detail = error_summary(r.body);
  if (r.status == 401 || r.status == 403) {
    throw Error::auth(fmt::format("{}: HTTP {} {}", what, r.status, detail),
                      "Check the SAS token (permissions rl, expiry) or the account key in the connection string.");
  }
  if (r.status == 404) {
    throw Error::not_found(fmt::format("{}: HTTP 404 {}", what, detail));
  }
  throw Error::failure(fmt::format("{}: HTTP {} {}", what, r.status, detail));
}

class AzureStore final : public Store {
 public:
  AzureStore(Location where, AzureAuth auth, std::shared_ptr<http::Client> client, std::function<TimePoint()> now,
             std::string display_base)
      : where_(std::move(where)),
        auth_(std::move(auth)),
        client_(std::move(client)),
        now_(std::move(now)),
        display_base_(std::move(display_base)) {}

  Page list_page(const std::string& prefix, const std::string& delimiter, const std::string& token,
                 std::size_t page_size) override {
    std::string url = container_url() + "?restype=container&comp=list";
    if (!prefix.empty()) {
      url += "&prefix=" + http::url_encode(prefix);
    }
    if (!delimiter.empty()) {
      url += "&delimiter=" + http::url_encode(delimiter);
    }
    if (!token.empty()) {
      url += "&marker=" + http::url_encode(token);
    }
    if (page_size > 0) {
      url += fmt::format("&maxresults={}", page_size);
    }
    http::Request request;
    request.url = url;
    const auto response = client_->send(std::move(request));
    if (response.status != 200) {
      throw_for(response, fmt::format("listing {}/{}", display_base_, where_.container));
    }
    return azure::parse_list_blobs(response.body);
  }

  http::Request object_request(const ObjectInfo& object) const override {
    http::Request request;
    request.url = container_url() + encode_path("/" + object.name);
    return request;
  }

  void sign(http::Request& request) const override { sign_request(where_.account, auth_, now_, request); }

  std::string object_url(const ObjectInfo& object) const override {
    return fmt::format("{}/{}/{}", display_base_, where_.container, object.name);
  }

  std::string ol_namespace() const override {
    return fmt::format("wasbs://{}@{}.dfs.core.windows.net", where_.container, where_.account);
  }

  static void sign_request(const std::string& account, const AzureAuth& auth, const std::function<TimePoint()>& now,
                           http::Request& request) {
    if (!http::find_header(request.headers, "x-ms-version")) {
      http::set_header(request.headers, "x-ms-version", azure::k_api_version);
    }
    if (!auth.sas.empty()) {
      request.url += (request.url.find('?') == std::string::npos ? "?" : "&") + auth.sas;
    } else if (!auth.shared_key.empty()) {
      // A fresh date on every attempt.
      request.headers.erase(std::remove_if(request.headers.begin(), request.headers.end(),
                                           [](const auto& h) { return str::to_lower(h.first) == "x-ms-date"; }),
                            request.headers.end());
      azure::sign_shared_key(request, account, auth.shared_key, now());
    }
  }

 private:
  std::string container_url() const { return where_.endpoint + "/" + http::url_encode(where_.container); }

  Location where_;
  AzureAuth auth_;
  std::shared_ptr<http::Client> client_;
  std::function<TimePoint()> now_;
  std::string display_base_;
};

}  // namespace

http::Signer azure_signer(const std::string& account, const AzureAuth& auth, std::function<TimePoint()> now) {
  return [account, auth, now](http::Request& r) { AzureStore::sign_request(account, auth, now, r); };
}

std::shared_ptr<Store> make_azure_store(const Location& where, AzureAuth auth, std::shared_ptr<http::Client> client,
                                        std::function<TimePoint()> now, std::string display_base) {
  return std::make_shared<AzureStore>(where, std::move(auth), std::move(client), std::move(now),
                                      std::move(display_base));
}

}  // namespace aiot::storage
