// The one unit test file with real sockets (loopback only): the libcurl transport against the
// emulator's cpp-httplib server in this process. Kept fast: no test waits more than ~0.5 s.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/emulator/http_server.hpp"
#include "aiot/http/client.hpp"
#include "aiot/http/transport.hpp"
#include <unistd.h>

using namespace aiot;
using namespace aiot::emulator;
using std::chrono::milliseconds;

namespace {

// An HttpServer on 127.0.0.1:<any> running on its own thread for the life of the object.
class LiveServer {
 public:
  explicit LiveServer(FaultSpec faults = {}, int verbosity = 0, std::filesystem::path port_file = {})
      : governor_(ThrottleSpec{{{"limited", 1.0 / 3600}}}, faults, 7) {
    options_.api = "test";
    options_.bind = "127.0.0.1";
    options_.port = 0;
    options_.verbosity = verbosity;
    options_.port_file = std::move(port_file);
    DialectHooks hooks;
    hooks.throttled = [](const HttpRequest&, HttpResponse& res) {
      res.set(429, R"({"Message":"ErrorCode:ThrottlingBacklogTimeout;throttled"})");
      res.set_header("Retry-After", "1");
    };
    hooks.no_route = [](const HttpRequest& req, HttpResponse& res) { res.body = R"({"Message":"no such route )" + req.path + "\"}"; };
    server_ = std::make_unique<HttpServer>(options_, [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      log_.push_back(line);
    }, governor_, hooks);

    server_->Get(R"(/echo/(\w+))", [this](const HttpRequest& req, HttpResponse& res) {
      note_peer(req);
      res.set(200, req.match(1), "text/plain");
      res.set_header("X-Seen-Query", req.param("q").value_or("-"));
    });
    server_->Post(R"(/echo)", [this](const HttpRequest& req, HttpResponse& res) {
      note_peer(req);
      res.set(201, req.body);
      res.set_header("X-Content-Type", req.header("content-type").value_or("-"));
    });
    server_->Delete(R"(/things/([^/]+))", [](const HttpRequest& req, HttpResponse& res) {
      res.set(204, "");
      res.set_header("X-Thing", req.match(1));
    });
    server_->Get(R"(/limited)", [this](const HttpRequest& req, HttpResponse& res) {
      if (server_->over_limit("limited", req, res)) {
        return;
      }
      res.set(200, "ok");
    });
    server_->Get(R"(/slow)", [](const HttpRequest&, HttpResponse& res) {
      std::this_thread::sleep_for(milliseconds(300));
      res.set(200, "late");
    });
    server_->Get(R"(/missing/(.+))", [](const HttpRequest& req, HttpResponse&) {
      throw Error::not_found("no device " + req.match(1));
    });
    server_->bind();
    thread_ = std::thread([this] { exit_code_ = server_->run(stop_); });
    for (int i = 0; i < 400 && !server_->running(); ++i) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    REQUIRE(server_->running());
  }
  ~LiveServer() {
    stop_ = true;
    thread_.join();
  }
  std::string url(const std::string& path) const { return server_->base_url() + path; }
  std::set<int> peers() {
    std::lock_guard lock(mutex_);
    return peers_;
  }
  std::vector<std::string> log() {
    std::lock_guard lock(mutex_);
    return log_;
  }
  HttpServer& server() { return *server_; }

 private:
  void note_peer(const HttpRequest& req) {
    std::lock_guard lock(mutex_);
    peers_.insert(req.remote_port);
  }
  ServeOptions options_;
  Governor governor_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int exit_code_ = -1;
  std::mutex mutex_;
  std::set<int> peers_;
  std::vector<std::string> log_;
};

http::Request get(const std::string& url) {
  http::Request r;
  r.url = url;
  r.timeout = milliseconds(5000);
  return r;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);  // nothing listens there now
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("curl transport against a loopback cpp-httplib server") {
  const auto port_file = std::filesystem::temp_directory_path() / ("aiot-http-test-" + std::to_string(getpid()) + ".port");
  LiveServer live({}, 1, port_file);
  CHECK(fs::read_file(port_file) == std::to_string(live.server().port()) + "\n");
  std::filesystem::remove(port_file);
  http::TransportOptions options;
  options.max_in_flight = 8;
  options.connect_timeout = milliseconds(2000);
  auto transport = http::make_curl_transport(options);

  SUBCASE("keep-alive: several sends share one connection") {
    for (int i = 0; i < 6; ++i) {
      const auto r = transport->send(get(live.url("/echo/n" + std::to_string(i) + "?q=a%20b")));
      CHECK(r.status == 200);
      CHECK(r.body == "n" + std::to_string(i));
      CHECK(http::find_header(r.headers, "x-seen-query") == "a b");
      CHECK(r.transport_error == http::TransportError::none);
    }
    CHECK(live.peers().size() == 1);
    // One log line per request, in the documented shape.
    bool found = false;
    for (const auto& line : live.log()) {
      found = found || (line.rfind("127.0.0.1 GET /echo/n0?q=a%20b 200 ", 0) == 0 && line.find("ms") != std::string::npos);
    }
    CHECK(found);
  }

  SUBCASE("POST body, content type and DELETE with 204") {
    http::Request post;
    post.method = "POST";
    post.url = live.url("/echo");
    post.body = R"({"a":1})";
    post.headers = {{"Content-Type", "application/json"}};
    const auto r = transport->send(post);
    CHECK(r.status == 201);
    CHECK(r.body == post.body);
    CHECK(http::find_header(r.headers, "X-Content-Type") == "application/json");

    http::Request del;
    del.method = "DELETE";
    del.url = live.url("/things/edge%3Acam-01");
    const auto d = transport->send(del);
    CHECK(d.status == 204);
    CHECK(http::find_header(d.headers, "X-Thing") == "edge:cam-01");
    // The connection is still good after a body-less answer.
    CHECK(transport->send(get(live.url("/echo/after"))).body == "after");
  }

  SUBCASE("send_all: 20 requests, up to 8 in flight, answers in order") {
    std::vector<http::Request> requests;
    for (int i = 0; i < 20; ++i) {
      requests.push_back(get(live.url("/echo/r" + std::to_string(i))));
    }
    const auto out = transport->send_all(requests);
    REQUIRE(out.size() == 20);
    for (int i = 0; i < 20; ++i) {
      CHECK(out[i].status == 200);
      CHECK(out[i].body == "r" + std::to_string(i));
    }
    CHECK(live.peers().size() <= 8);
    // A second batch reuses the pooled connections.
    const auto before = live.peers().size();
    CHECK(transport->send_all(requests).size() == 20);
    CHECK(live.peers().size() == before);
  }

  SUBCASE("errors from handlers and unknown routes become answers") {
    const auto missing = transport->send(get(live.url("/missing/d9")));
    CHECK(missing.status == 404);
    CHECK(missing.body.find("no device d9") != std::string::npos);
    const auto nowhere = transport->send(get(live.url("/nowhere")));
    CHECK(nowhere.status == 404);
    CHECK(nowhere.body.find("no such route /nowhere") != std::string::npos);
  }

  SUBCASE("over_limit answers with the dialect's throttling response") {
    CHECK(transport->send(get(live.url("/limited"))).status == 200);
    const auto second = transport->send(get(live.url("/limited")));
    CHECK(second.status == 429);
    CHECK(second.body.find("ThrottlingBacklogTimeout") != std::string::npos);
    CHECK(http::find_header(second.headers, "Retry-After") == "1");
  }

  SUBCASE("a server slower than the timeout gives a timeout") {
    auto r = get(live.url("/slow"));
    r.timeout = milliseconds(100);
    const auto out = transport->send(r);
    CHECK(out.status == 0);
    CHECK(out.transport_error == http::TransportError::timeout);
  }

  SUBCASE("a refused port gives status 0 / connect") {
    const auto out = transport->send(get("http://127.0.0.1:" + std::to_string(free_port()) + "/x"));
    CHECK(out.status == 0);
    CHECK(out.transport_error == http::TransportError::connect);
    CHECK_FALSE(out.error_text.empty());
  }

  SUBCASE("plain http to a non-loopback host is refused before anything is sent") {
    try {
      transport->send(get("http://example.invalid/devices"));
      FAIL_CHECK("expected Error::usage");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
      CHECK(std::string(e.message()).find("plain HTTP is only allowed for loopback endpoints; use https") != std::string::npos);
    }
    std::vector<http::Request> mixed{get(live.url("/echo/x")), get("http://10.0.0.1/y")};
    CHECK_THROWS_AS(transport->send_all(mixed), Error);
    CHECK(live.peers().empty());  // the loopback one in the batch was not sent either
  }
}

// Each subcase makes its transport after its server, so the client's idle keep-alive connections
// are closed before the server stops (else the server waits out its keep-alive timeout).
TEST_CASE("emulator faults as a client sees them") {

  SUBCASE("reset: the connection drops with no answer") {
    FaultSpec f;
    f.reset = 1.0;
    LiveServer live(f);
    auto transport = http::make_curl_transport({});
    for (int i = 0; i < 3; ++i) {
      const auto out = transport->send(get(live.url("/echo/x")));
      CHECK(out.status == 0);
      CHECK(out.transport_error == http::TransportError::reset);
    }
    CHECK(live.peers().empty());  // the handler never ran
  }

  SUBCASE("throttle: the dialect's answer, and the Client retries it with Retry-After") {
    FaultSpec f;
    f.throttle = 1.0;
    LiveServer live(f);
    auto transport = http::make_curl_transport({});
    const auto out = transport->send(get(live.url("/echo/x")));
    CHECK(out.status == 429);
    CHECK(out.body.find("ThrottlingBacklogTimeout") != std::string::npos);

    std::vector<milliseconds> sleeps;
    http::ClientOptions o;
    o.retry.max_attempts = 3;
    o.sleep = [&](milliseconds d) { sleeps.push_back(d); };  // no real waiting
    http::Client client(std::shared_ptr<http::Transport>(std::move(transport)), o);
    try {
      client.send(get(live.url("/echo/x")));
      FAIL_CHECK("expected Error::unavailable");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::unavailable);
      CHECK(std::string(e.message()).find("429 Too Many Requests after 3 attempts") != std::string::npos);
    }
    REQUIRE(sleeps.size() == 2);
    CHECK(sleeps[0] >= milliseconds(1000));
    CHECK(client.stats().throttled == 3);
  }

  SUBCASE("unavailable: 503") {
    FaultSpec f;
    f.unavailable = 1.0;
    LiveServer live(f);
    auto transport = http::make_curl_transport({});
    const auto out = transport->send(get(live.url("/echo/x")));
    CHECK(out.status == 503);
    CHECK(out.body.find("service unavailable") != std::string::npos);
  }
}
