// HttpServer over cpp-httplib 0.11.4 (the Debian build: declarations in httplib.h, code in
// libcpp-httplib.so, built with the OpenSSL/zlib/brotli options that the build passes on).
#include "aiot/emulator/http_server.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "aiot/core/fs.hpp"
#include "aiot/http/client.hpp"

namespace aiot::emulator {

using std::chrono::milliseconds;

// ---- request / response ----------------------------------------------------------------------

std::optional<std::string> HttpRequest::header(std::string_view name) const { return http::find_header(headers, name); }

std::optional<std::string> HttpRequest::param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

const std::string& HttpRequest::match(std::size_t i) const {
  static const std::string empty;
  return i < matches.size() ? matches[i] : empty;
}

void HttpResponse::set(int status_code, std::string body_text, std::string type) {
  status = status_code;
  body = std::move(body_text);
  content_type = std::move(type);
}

void HttpResponse::set_header(std::string name, std::string value) {
  http::set_header(headers, std::move(name), std::move(value));
}

int http_status_for(const Error& error) {
  switch (error.reason()) {
    case Reason::not_found:
      return 404;
    case Reason::conflict:
      return 409;
    case Reason::precondition_failed:
      return 412;
    case Reason::throttled:
      return 429;
    case Reason::invalid:
      return 400;
    case Reason::none:
      break;
  }
  switch (error.code()) {
    case ExitCode::usage:
      return 400;
    case ExitCode::auth:
      return 401;
    case ExitCode::unavailable:
      return 503;
    default:
      return 500;
  }
}

namespace {

constexpr std::size_t k_threads = 32;  // each keep-alive connection holds a worker while open
constexpr time_t k_keep_alive_seconds = 2;
constexpr std::size_t k_max_body = 64u << 20;

std::string message_body(std::string_view message) { return nlohmann::json{{"message", message}}.dump(); }

// Per-request bookkeeping: httplib serves one connection per worker thread, and the pre-routing
// handler, the route and the logger of one request all run on that thread.
struct RequestState {
  std::chrono::steady_clock::time_point start;
  std::string note;  // appended to the log line, e.g. " (fault: 503)"
  bool routed = false;
  bool reset = false;
};
thread_local RequestState t_request;

HttpRequest convert(const httplib::Request& req) {
  HttpRequest in;
  in.method = req.method;
  in.path = req.path;
  in.target = req.target;
  for (const auto& m : req.matches) {
    in.matches.push_back(m.str());
  }
  for (const auto& [key, value] : req.params) {
    in.query.emplace_back(key, value);
  }
  for (const auto& [key, value] : req.headers) {
    in.headers.emplace_back(key, value);
  }
  in.body = req.body;
  in.remote_addr = req.remote_addr;
  in.remote_port = req.remote_port;
  return in;
}

void apply(const HttpResponse& out, httplib::Response& res) {
  res.status = out.status;
  for (const auto& [name, value] : out.headers) {
    res.set_header(name, value);
  }
  if (out.status == 204 || out.status == 304) {
    return;
  }
  res.set_content(out.body, out.content_type);
}

std::string address_of(const sockaddr_storage& ss, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  } else {
    port = -1;
  }
  return text;
}

// httplib 0.11 has no call to drop a connection from a handler, and handlers do not see the
// socket. The connection is found by its address pair among this process's descriptors and
// shut down, so the client sees the connection close with no response at all.
bool shut_down_connection(const httplib::Request& req) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    sockaddr_storage peer{};
    sockaddr_storage local{};
    socklen_t peer_len = sizeof peer;
    socklen_t local_len = sizeof local;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
      continue;
    }
    int peer_port = -1;
    int local_port = -1;
    const std::string peer_addr = address_of(peer, peer_port);
    address_of(local, local_port);
    if (peer_port == req.remote_port && local_port == req.local_port && peer_addr == req.remote_addr) {
      const linger abort_on_close{1, 0};  // RST on close: nothing lingers in TIME_WAIT
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
      shutdown(fd, SHUT_RDWR);
      return true;
    }
  }
  return false;
}

// httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, fixed in the Debian build): a
// client opening 8 connections at once loses SYNs and waits a second for the retransmit. Linux
// lets a listening socket be given a larger backlog by calling listen() again.
class Server : public httplib::Server {
 public:
  void widen_backlog() const {
    const socket_t fd = svr_sock_.load();
    if (fd != INVALID_SOCKET) {
      ::listen(fd, 1024);
    }
  }
};

}  // namespace

// ---- server ----------------------------------------------------------------------------------

struct HttpServer::Impl {
  Impl(const ServeOptions& o, LogSink l, Governor& g, DialectHooks h)
      : options(o), log(std::move(l)), governor(g), hooks(std::move(h)) {}

  ServeOptions options;
  LogSink log;
  Governor& governor;
  DialectHooks hooks;
  Server svr;
  int port = 0;
  bool bound = false;

  void say(const std::string& line) const {
    if (log) {
      log(line);
    }
  }

  void fill_throttled(const HttpRequest& in, HttpResponse& out) const {
    out = HttpResponse{};
    out.status = 429;
    if (hooks.throttled) {
      hooks.throttled(in, out);
    } else {
      out.body = message_body("throttled");
    }
  }

  void fill_exception(const HttpRequest& in, HttpResponse& out, std::exception_ptr error) const {
    out = HttpResponse{};
    if (hooks.exception) {
      hooks.exception(in, out, error);
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      out.set(http_status_for(e), message_body(e.message()));
    } catch (const std::exception& e) {
      out.set(500, message_body(e.what()));
    } catch (...) {
      out.set(500, message_body("internal error"));
    }
  }

  void dispatch(const RouteHandler& handler, const httplib::Request& req, httplib::Response& res) {
    t_request.routed = true;
    const HttpRequest in = convert(req);
    HttpResponse out;
    switch (governor.draw_fault()) {
      case Fault::throttle:
        fill_throttled(in, out);
        t_request.note = " (fault: throttle)";
        apply(out, res);
        return;
      case Fault::unavailable:
        out.status = 503;
        if (hooks.unavailable) {
          hooks.unavailable(in, out);
        } else {
          out.body = message_body("service unavailable");
        }
        t_request.note = " (fault: 503)";
        apply(out, res);
        return;
      case Fault::reset:
        t_request.reset = true;
        if (options.verbosity >= 1) {
          say(fmt::format("{} {} {} reset (fault)", req.remote_addr, req.method, http::redact(req.target)));
        }
        if (!shut_down_connection(req)) {
          // Fallback: promise a body and deliver none, which the client sees as a cut connection.
          res.status = 200;
          res.set_header("Connection", "close");
          res.set_content_provider(
              1024, "application/json", [](size_t, size_t, httplib::DataSink&) { return false; });
        }
        return;
      case Fault::delay:
        std::this_thread::sleep_for(governor.faults().delay_by);
        t_request.note = fmt::format(" (fault: +{}ms)", governor.faults().delay_by.count());
        break;
      case Fault::none:
        break;
    }
    try {
      handler(in, out);
    } catch (...) {
      fill_exception(in, out, std::current_exception());
    }
    apply(out, res);
  }

  void add(const std::string& method, const std::string& pattern, RouteHandler handler) {
    auto route = [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
      dispatch(handler, req, res);
    };
    if (method == "GET") {
      svr.Get(pattern, route);
    } else if (method == "POST") {
      svr.Post(pattern, httplib::Server::Handler(route));
    } else if (method == "PUT") {
      svr.Put(pattern, httplib::Server::Handler(route));
    } else if (method == "PATCH") {
      svr.Patch(pattern, httplib::Server::Handler(route));
    } else {
      svr.Delete(pattern, httplib::Server::Handler(route));
    }
  }

  void configure() {
    svr.new_task_queue = [] { return new httplib::ThreadPool(k_threads); };
    svr.set_tcp_nodelay(true);  // headers and body go out in separate writes: no Nagle stall between them
    svr.set_keep_alive_max_count(1000);
    svr.set_keep_alive_timeout(k_keep_alive_seconds);
    svr.set_read_timeout(10, 0);
    svr.set_write_timeout(10, 0);
    svr.set_payload_max_length(k_max_body);

    svr.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      t_request = RequestState{};
      t_request.start = std::chrono::steady_clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });

    svr.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty() || t_request.routed) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      const HttpRequest in = convert(req);
      HttpResponse out;
      out.status = res.status;
      if (res.status == 404 && hooks.no_route) {
        hooks.no_route(in, out);
      } else if (res.status == 404) {
        out.body = message_body(fmt::format("no route for {} {}", req.method, req.path));
      } else {
        out.body = message_body(fmt::format("the request could not be served (HTTP {})", res.status));
      }
      apply(out, res);
      return httplib::Server::HandlerResponse::Handled;
    }));

    svr.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr e) {
      HttpResponse out;
      fill_exception(convert(req), out, e);
      apply(out, res);
    });

    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      if (options.verbosity >= 1 && !t_request.reset) {
        const auto ms = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t_request.start);
        say(fmt::format("{} {} {} {} {}ms{}", req.remote_addr, req.method, http::redact(req.target), res.status,
                        ms.count(), t_request.note));
      }
      t_request.routed = false;
    });
  }
};

HttpServer::HttpServer(const ServeOptions& options, LogSink log, Governor& governor, DialectHooks hooks)
    : impl_(std::make_unique<Impl>(options, std::move(log), governor, std::move(hooks))) {
  // A client that hangs up mid-answer must not kill the emulator (httplib sends without MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  impl_->configure();
}

HttpServer::~HttpServer() = default;

void HttpServer::Get(const std::string& pattern, RouteHandler handler) { impl_->add("GET", pattern, std::move(handler)); }
void HttpServer::Post(const std::string& pattern, RouteHandler handler) { impl_->add("POST", pattern, std::move(handler)); }
void HttpServer::Put(const std::string& pattern, RouteHandler handler) { impl_->add("PUT", pattern, std::move(handler)); }
void HttpServer::Patch(const std::string& pattern, RouteHandler handler) { impl_->add("PATCH", pattern, std::move(handler)); }
void HttpServer::Delete(const std::string& pattern, RouteHandler handler) {
  impl_->add("DELETE", pattern, std::move(handler));
}

bool HttpServer::over_limit(const std::string& op_class, const HttpRequest& req, HttpResponse& res, double cost) {
  if (!impl_->governor.over_limit(op_class, cost)) {
    return false;
  }
  impl_->fill_throttled(req, res);
  t_request.note = fmt::format(" (throttled: {})", op_class);
  return true;
}

int HttpServer::bind() {
  if (impl_->bound) {
    return impl_->port;
  }
  const auto& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->svr.bind_to_any_port(o.bind);
  } else {
    impl_->port = impl_->svr.bind_to_port(o.bind, o.port) ? o.port : -1;
  }
  if (impl_->port <= 0) {
    impl_->port = 0;
    throw Error::failure(fmt::format("cannot listen on {}:{}", o.bind, o.port),
                         "Is the port in use? Pass --port 0 to take any free port (see --port-file).");
  }
  impl_->bound = true;
  impl_->svr.widen_backlog();
  if (!o.port_file.empty()) {
    fs::write_atomic(o.port_file, std::to_string(impl_->port) + "\n");
  }
  impl_->say(fmt::format("aiot hub serve ({}): listening on {}", o.api.empty() ? "http" : o.api, base_url()));
  return impl_->port;
}

int HttpServer::run(std::atomic<bool>& stop) {
  bind();
  std::atomic<bool> finished{false};
  // httplib's stop() is a no-op until listen has started, so keep asking until it has returned.
  std::thread watcher([&] {
    while (!stop.load() && !finished.load()) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    while (!finished.load()) {
      impl_->svr.stop();
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  const bool ok = impl_->svr.listen_after_bind();
  finished = true;
  watcher.join();
  if (!ok && !stop.load()) {
    impl_->say("aiot hub serve: the server stopped unexpectedly");
    return to_int(ExitCode::failure);
  }
  impl_->say("aiot hub serve: stopped");
  return 0;
}

int HttpServer::port() const { return impl_->port; }

std::string HttpServer::base_url() const {
  const auto& host = impl_->options.bind;
  const bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", ipv6 ? "[" : "", host, ipv6 ? "]" : "", impl_->port);
}

bool HttpServer::running() const { return impl_->svr.is_running(); }

}  // namespace aiot::emulator
