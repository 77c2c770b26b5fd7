#pragma once
// The HTTP server under both emulator dialects (`aiot hub serve`). A thin layer over cpp-httplib
// that keeps httplib.h out of this header (it is heavy to compile): dialects see only the plain
// HttpRequest / HttpResponse below. It adds what every dialect needs: binding (port 0 = any free
// port) and the --port-file, a log line per request at verbosity >= 1, --faults injection and
// --throttle checks through the Governor, errors thrown by handlers turned into answers, and a
// clean stop when the stop flag turns true.
//
//   Governor governor(options.throttle, options.faults, options.seed);
//   HttpServer server(options, log, governor, hooks);
//   server.Get(R"(/devices/([^/]+))", [&](const HttpRequest& req, HttpResponse& res) {
//     if (server.over_limit("identity", req, res)) return;   // the dialect's throttling answer is set
//     res.set(200, registry_json(req.match(1)));
//   });
//   server.bind();             // optional: to learn port() before run(), e.g. for --credentials-out
//   return server.run(stop);
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/emulator/server.hpp"
#include "aiot/http/transport.hpp"

namespace aiot::emulator {

struct HttpRequest {
  std::string method;                 // "GET", "POST", ...
  std::string path;                   // percent-decoded path without the query: what routes match
  std::string target;                 // the request target as sent: raw path and query
  std::vector<std::string> matches;   // [0] the whole path, [1..] the route pattern's groups
  std::vector<std::pair<std::string, std::string>> query;  // decoded query parameters, by name
  http::Headers headers;              // as received; look up with header() (case-insensitive)
  std::string body;
  std::string remote_addr;
  int remote_port = 0;

  std::optional<std::string> header(std::string_view name) const;
  // First value of a query parameter; nullopt when absent.
  std::optional<std::string> param(std::string_view name) const;
  // The i-th group of the route pattern ("" when there is no such group).
  const std::string& match(std::size_t i) const;
};

struct HttpResponse {
  int status = 200;
  http::Headers headers;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";

  // Status and body at once (JSON unless told otherwise).
  void set(int status_code, std::string body_text, std::string type = "application/json; charset=utf-8");
  void set_header(std::string name, std::string value);
};

using RouteHandler = std::function<void(const HttpRequest&, HttpResponse&)>;
using ExceptionHandler = std::function<void(const HttpRequest&, HttpResponse&, std::exception_ptr)>;

// How a dialect words the answers the server makes on its own. Every member is optional: the
// defaults are plain JSON {"message": "..."} bodies.
struct DialectHooks {
  // The throttling answer: Azure 429 ThrottlingException, AWS 400/429 ThrottlingException.
  // Used for the `429=` fault and by over_limit(). Default: 429 {"message":"throttled"}.
  RouteHandler throttled;
  // The `503=` fault's answer; the server has set status 503 before calling it. Default body:
  // {"message":"service unavailable"}.
  RouteHandler unavailable;
  // A request no route matched (status 404 set before the call). Default: {"message":"no route for GET /x"}.
  RouteHandler no_route;
  // A handler threw. Default: status from http_status_for(aiot::Error), 500 for anything else,
  // body {"message": what()}.
  ExceptionHandler exception;
};

// The usual HTTP status for an aiot::Error: not_found 404, conflict 409, precondition_failed 412,
// throttled 429, invalid/usage 400, auth 401, unavailable 503, anything else 500.
int http_status_for(const Error& error);

class HttpServer {
 public:
  // `governor` must outlive the server. Faults are drawn for every request that matches a route,
  // after its body has been read and before the handler runs.
  HttpServer(const ServeOptions& options, LogSink log, Governor& governor, DialectHooks hooks = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes: `pattern` is an ECMAScript regex that must match the whole decoded path; its groups
  // arrive in HttpRequest::matches. Register all routes before bind()/run().
  void Get(const std::string& pattern, RouteHandler handler);
  void Post(const std::string& pattern, RouteHandler handler);
  void Put(const std::string& pattern, RouteHandler handler);
  void Patch(const std::string& pattern, RouteHandler handler);
  void Delete(const std::string& pattern, RouteHandler handler);

  // True when one more `op_class` operation (costing `cost`, e.g. devices in a bulk call) would
  // exceed its --throttle rate; `res` then holds the dialect's throttling answer and the handler
  // should return. False (and `res` untouched) otherwise or when the class has no rate.
  bool over_limit(const std::string& op_class, const HttpRequest& req, HttpResponse& res, double cost = 1.0);

  // Binds options.bind:options.port (0 = any free port), starts listening and writes
  // options.port_file; returns the port. Throws Error::failure when the address cannot be used.
  // run() calls it when it has not been called.
  int bind();
  // Serves until `stop` turns true (the CLI sets it on SIGINT/SIGTERM); returns the exit code (0).
  int run(std::atomic<bool>& stop);
  // The bound port (0 before bind()).
  int port() const;
  // "http://127.0.0.1:PORT" ([...] around IPv6 addresses).
  std::string base_url() const;
  // True while run() is accepting connections (for tests that run the server on a thread).
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aiot::emulator
