#pragma once
// HTTP for the cloud providers (design.md §2): a Transport interface with a libcurl implementation
// (connection reuse, several requests in flight, HTTP/2 where offered), and fakes in unit tests.
// A Transport never retries and never throws for HTTP statuses: the Client above it decides.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; nullopt when absent.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);
void set_header(Headers& headers, std::string name, std::string value);

struct Request {
  std::string method = "GET";
  std::string url;  // absolute: https://host/path?query
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};  // total, per attempt
};

// What came back, or why nothing did. `status` is 0 when the request failed below HTTP
// (refused, reset, timeout, DNS, TLS); `transport_error` then says which.
enum class TransportError { none, connect, timeout, reset, tls, dns, other };

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  TransportError transport_error = TransportError::none;
  std::string error_text;  // curl's message for transport errors
  std::chrono::milliseconds elapsed{0};
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::string ca_file;        // --cacert: an extra CA bundle; verification itself is never off
  std::size_t max_in_flight = 8;
  std::string user_agent = "aiot";
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Response send(const Request& request) = 0;
  // Sends all requests with up to max_in_flight at once; responses in request order.
  virtual std::vector<Response> send_all(std::span<const Request> requests) = 0;
};

// libcurl. Plain http:// is refused for hosts other than loopback (127.0.0.0/8, ::1, localhost):
// TLS stays on against real clouds. Proxy variables (HTTPS_PROXY, NO_PROXY, ...) are honoured.
std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options);

// True for 127.0.0.0/8, ::1 and localhost.
bool is_loopback_url(std::string_view url);

// Percent-encoding of everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), upper-case hex.
std::string url_encode(std::string_view s);
std::string url_decode(std::string_view s);

}  // namespace aiot::http
