// libcurl behind the Transport interface. One curl multi handle per transport: it owns the
// connection cache, so connections are reused across send() and send_all() calls, and
// send_all() keeps up to max_in_flight transfers running at once on one thread.
#include "aiot/http/transport.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <mutex>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::http {

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return std::nullopt;
}

void set_header(Headers& headers, std::string name, std::string value) {
  const std::string lower = str::to_lower(name);
  bool replaced = false;
  // Replace the first match and drop any duplicates, so a header is set exactly once.
  for (auto it = headers.begin(); it != headers.end();) {
    if (str::to_lower(it->first) == lower) {
      if (!replaced) {
        it->first = name;
        it->second = value;
        replaced = true;
        ++it;
      } else {
        it = headers.erase(it);
      }
    } else {
      ++it;
    }
  }
  if (!replaced) {
    headers.emplace_back(std::move(name), std::move(value));
  }
}

std::string url_encode(std::string_view s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 0x0F]);
    }
  }
  return out;
}

namespace {

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

}  // namespace

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    // A stray '%' is kept as it is: decoding is lenient, encoding is strict.
    out.push_back(s[i]);
  }
  return out;
}

namespace {

struct UrlParts {
  std::string scheme;  // lower case
  std::string host;    // lower case, without brackets
};

std::optional<UrlParts> parse_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return std::nullopt;
  }
  UrlParts parts;
  parts.scheme = str::to_lower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    rest = rest.substr(at + 1);  // userinfo
  }
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    parts.host = str::to_lower(rest.substr(1, close - 1));
  } else {
    parts.host = str::to_lower(rest.substr(0, rest.find(':')));
  }
  if (parts.host.empty()) {
    return std::nullopt;
  }
  return parts;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") {
    return true;
  }
  // 127.0.0.0/8 written as a dotted quad.
  const auto octets = str::split(host, '.');
  if (octets.size() != 4 || octets[0] != "127") {
    return false;
  }
  for (const auto& o : octets) {
    if (o.empty() || o.size() > 3 || !std::all_of(o.begin(), o.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
        std::stoi(o) > 255) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_loopback_url(std::string_view url) {
  const auto parts = parse_url(url);
  return parts && is_loopback_host(parts->host);
}

namespace {

// Throws before anything is sent: TLS stays on against anything that is not this machine.
void check_url(const Request& request) {
  const auto parts = parse_url(request.url);
  if (!parts || (parts->scheme != "https" && parts->scheme != "http")) {
    throw Error::usage(fmt::format("not an http(s) URL: '{}'", request.url));
  }
  if (parts->scheme == "http" && !is_loopback_host(parts->host)) {
    throw Error::usage(fmt::format("refusing {} {}: plain HTTP is only allowed for loopback endpoints; use https",
                                   request.method, request.url.substr(0, request.url.find('?'))),
                       "Use an https:// endpoint.");
  }
}

TransportError map_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return TransportError::none;
    case CURLE_COULDNT_CONNECT:
      return TransportError::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::timeout;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportError::reset;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return TransportError::tls;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportError::dns;
    default:
      return TransportError::other;
  }
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One request in flight: what curl writes into, and what it reads from.
struct Transfer {
  const Request* request = nullptr;
  std::size_t index = 0;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  Response response;
  char error[CURL_ERROR_SIZE] = {};
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->response.body.append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after 100 Continue, or a proxy CONNECT): keep the last response's headers only.
    t->response.headers.clear();
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers.emplace_back(std::string(str::trim(line.substr(0, colon))),
                                     std::string(str::trim(line.substr(colon + 1))));
  }
  return size * count;
}

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(TransportOptions options) : options_(std::move(options)) {
    global_init();
    options_.max_in_flight = std::max<std::size_t>(1, options_.max_in_flight);
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      throw Error::failure("cannot initialise libcurl");
    }
    const long in_flight = static_cast<long>(options_.max_in_flight);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, in_flight);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, in_flight * 2);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  }

  ~CurlTransport() override {
    for (CURL* easy : idle_) {
      curl_easy_cleanup(easy);
    }
    curl_multi_cleanup(multi_);
  }

  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Response send(const Request& request) override {
    auto responses = send_all(std::span<const Request>(&request, 1));
    return std::move(responses.front());
  }

  std::vector<Response> send_all(std::span<const Request> requests) override {
    for (const auto& r : requests) {
      check_url(r);
    }
    // One multi handle is driven by one thread at a time; callers on other threads queue here.
    std::lock_guard lock(mutex_);
    std::vector<Response> responses(requests.size());
    std::deque<std::unique_ptr<Transfer>> running;
    std::size_t next = 0;
    std::size_t done = 0;
    while (done < requests.size()) {
      while (next < requests.size() && running.size() < options_.max_in_flight) {
        auto t = std::make_unique<Transfer>();
        t->request = &requests[next];
        t->index = next;
        start(*t);
        running.push_back(std::move(t));
        ++next;
      }
      int still_running = 0;
      curl_multi_perform(multi_, &still_running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) {
          continue;
        }
        auto it = std::find_if(running.begin(), running.end(), [&](const auto& t) { return t->easy == msg->easy_handle; });
        if (it == running.end()) {
          continue;
        }
        responses[(*it)->index] = finish(**it, msg->data.result);
        running.erase(it);
        ++done;
      }
      if (done < requests.size() && !(next < requests.size() && running.size() < options_.max_in_flight)) {
        curl_multi_poll(multi_, nullptr, 0, 200, nullptr);
      }
    }
    return responses;
  }

 private:
  CURL* take_easy() {
    if (!idle_.empty()) {
      CURL* easy = idle_.back();
      idle_.pop_back();
      curl_easy_reset(easy);
      return easy;
    }
    CURL* easy = curl_easy_init();
    if (easy == nullptr) {
      throw Error::failure("cannot initialise a libcurl handle");
    }
    return easy;
  }

  void start(Transfer& t) {
    const Request& r = *t.request;
    CURL* e = take_easy();
    t.easy = e;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) {
      curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!options_.user_agent.empty()) {
      curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
    }

    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      if (r.method != "POST") {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      }
      if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      }
    }

    for (const auto& [name, value] : r.headers) {
      const std::string line = value.empty() ? name + ";" : name + ": " + value;
      t.header_list = curl_slist_append(t.header_list, line.c_str());
    }
    // curl would otherwise add these on its own: no 100-continue round trip, and no form
    // content type the provider did not ask for.
    t.header_list = curl_slist_append(t.header_list, "Expect:");
    if (!find_header(r.headers, "Content-Type")) {
      t.header_list = curl_slist_append(t.header_list, "Content-Type:");
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);

    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_multi_add_handle(multi_, e);
  }

  Response finish(Transfer& t, CURLcode result) {
    Response response = std::move(t.response);
    curl_off_t total_us = 0;
    curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME_T, &total_us);
    response.elapsed = std::chrono::milliseconds(total_us / 1000);
    if (result == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
      response.status = static_cast<int>(status);
    } else {
      response.status = 0;
      response.transport_error = map_curl_error(result);
      response.error_text = t.error[0] != '\0' ? std::string(t.error) : std::string(curl_easy_strerror(result));
    }
    curl_multi_remove_handle(multi_, t.easy);
    curl_slist_free_all(t.header_list);
    t.header_list = nullptr;
    idle_.push_back(t.easy);
    t.easy = nullptr;
    return response;
  }

  TransportOptions options_;
  CURLM* multi_ = nullptr;
  std::vector<CURL*> idle_;
  std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace aiot::http
