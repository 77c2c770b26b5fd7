// The HTTP layer without sockets: URL helpers, redaction, retry policy, rate limiter and the Client
// over a scripted FakeTransport with a fake clock and sleeper.
#include <doctest/doctest.h>

#include <random>

#include "aiot/core/error.hpp"
#include "aiot/http/client.hpp"
#include "aiot/http/transport.hpp"
#include "support/fake_transport.hpp"

using namespace aiot;
using namespace aiot::http;
using std::chrono::milliseconds;

namespace {

// Time moves only when the code under test sleeps.
struct FakeTime {
  std::chrono::steady_clock::time_point now{};
  std::vector<milliseconds> sleeps;
  Clock clock() {
    return [this] { return now; };
  }
  Sleeper sleeper() {
    return [this](milliseconds d) {
      sleeps.push_back(d);
      now += d;
    };
  }
  milliseconds elapsed() const { return std::chrono::duration_cast<milliseconds>(now.time_since_epoch()); }
};

ClientOptions options_with(FakeTime& time) {
  ClientOptions o;
  o.clock = time.clock();
  o.sleep = time.sleeper();
  o.seed = 42;
  o.retry.base = milliseconds(100);
  o.retry.cap = milliseconds(2000);
  return o;
}

Request get(std::string url) {
  Request r;
  r.method = "GET";
  r.url = std::move(url);
  return r;
}

}  // namespace

TEST_CASE("url_encode keeps only unreserved characters") {
  CHECK(url_encode("") == "");
  CHECK(url_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(url_encode("a b") == "a%20b");
  CHECK(url_encode("edge:cam-01") == "edge%3Acam-01");
  CHECK(url_encode("a/b?c=d&e") == "a%2Fb%3Fc%3Dd%26e");
  CHECK(url_encode("+=") == "%2B%3D");
  CHECK(url_encode("\xC3\xA9") == "%C3%A9");  // é in UTF-8, upper-case hex
  CHECK(url_decode("edge%3Acam-01") == "edge:cam-01");
  CHECK(url_decode("%c3%a9") == "\xC3\xA9");
  CHECK(url_decode("100%") == "100%");
  CHECK(url_decode("%zz") == "%zz");
  CHECK(url_decode(url_encode("x y/z:é~")) == "x y/z:é~");
}

TEST_CASE("is_loopback_url accepts 127/8, ::1 and localhost only") {
  CHECK(is_loopback_url("http://127.0.0.1:8080/devices"));
  CHECK(is_loopback_url("http://127.1.2.3/"));
  CHECK(is_loopback_url("http://localhost/x"));
  CHECK(is_loopback_url("http://LOCALHOST:1"));
  CHECK(is_loopback_url("http://[::1]:9000/x"));
  CHECK(is_loopback_url("https://user@127.0.0.1/"));
  CHECK_FALSE(is_loopback_url("http://128.0.0.1/"));
  CHECK_FALSE(is_loopback_url("http://127.0.0.1.evil.com/"));
  CHECK_FALSE(is_loopback_url("http://localhost.evil.com/"));
  CHECK_FALSE(is_loopback_url("http://127.0.0.256/"));
  CHECK_FALSE(is_loopback_url("http://evil.com/?h=127.0.0.1"));
  CHECK_FALSE(is_loopback_url("http://127.0.0.1@evil.com/"));
  CHECK_FALSE(is_loopback_url("http://[::2]/"));
  CHECK_FALSE(is_loopback_url("not a url"));
}

TEST_CASE("headers are case-insensitive and set once") {
  Headers h{{"Content-Type", "text/plain"}, {"content-type", "dup"}};
  CHECK(find_header(h, "CONTENT-TYPE") == "text/plain");
  CHECK_FALSE(find_header(h, "Accept"));
  set_header(h, "Content-Type", "application/json");
  CHECK(h.size() == 1);
  CHECK(find_header(h, "content-type") == "application/json");
  set_header(h, "Accept", "*/*");
  CHECK(h.size() == 2);
}

TEST_CASE("redact removes every secret and keeps the rest of the line") {
  SUBCASE("Authorization header (SAS and SigV4)") {
    const auto out = redact("> Authorization: SharedAccessSignature sr=h%2Fdevices&sig=SECRET1%3D&se=1&skn=iothubowner");
    CHECK(out == "> Authorization: ***");
    const auto aws = redact("> authorization: AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/iot/aws4_request, Signature=SECRET2");
    CHECK(aws.find("SECRET2") == std::string::npos);
    CHECK(aws.rfind("> authorization: ", 0) == 0);
  }
  SUBCASE("SAS sig= in a URL or token") {
    const auto out = redact("> GET https://h/devices?sr=h&sig=SECRET%2B3&se=99 (attempt 2)");
    CHECK(out.find("SECRET") == std::string::npos);
    CHECK(out == "> GET https://h/devices?sr=h&sig=***&se=99 (attempt 2)");
    CHECK(redact("sig=SECRET") == "sig=***");
  }
  SUBCASE("connection strings") {
    const auto out = redact("HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=SECRET4=;x=1");
    CHECK(out == "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=***;x=1");
  }
  SUBCASE("AWS presigned query and security token header") {
    const auto out = redact("GET https://x/?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=SECRET5&X-Amz-Security-Token=SECRET6&a=b");
    CHECK(out.find("SECRET") == std::string::npos);
    CHECK(out.find("X-Amz-Credential=AKIA%2F1") != std::string::npos);
    CHECK(out.find("&a=b") != std::string::npos);
    CHECK(redact("> X-Amz-Security-Token: SECRET7") == "> X-Amz-Security-Token: ***");
  }
  SUBCASE("JSON key fields, any case, escaped quotes inside") {
    const std::string body =
        R"({"deviceId":"d1","authentication":{"symmetricKey":{"primaryKey":"SECRET8","SecondaryKey":"SEC\"RET9"}},)"
        R"("credentials":{"SecretAccessKey":"SECRET10","SessionToken":"SECRET11","AccessKeyId":"AKIA"},)"
        R"("keyPair":{"PublicKey":"pub","PrivateKey":"SECRET12"},"password" : "SECRET13"})";
    const auto out = redact(body);
    CHECK(out.find("SECRET") == std::string::npos);
    CHECK(out.find("RET9") == std::string::npos);
    CHECK(out.find(R"("deviceId":"d1")") != std::string::npos);
    CHECK(out.find(R"("AccessKeyId":"AKIA")") != std::string::npos);
    CHECK(out.find(R"("PublicKey":"pub")") != std::string::npos);
    CHECK(out.find(R"("primaryKey":"***")") != std::string::npos);
  }
  SUBCASE("PEM private keys anywhere") {
    const auto out = redact("key: -----BEGIN RSA PRIVATE KEY-----\nSECRET14\n-----END RSA PRIVATE KEY----- done "
                            "-----BEGIN CERTIFICATE-----\nPUBLIC\n-----END CERTIFICATE-----");
    CHECK(out.find("SECRET") == std::string::npos);
    CHECK(out.find("done") != std::string::npos);
    CHECK(out.find("PUBLIC") != std::string::npos);
  }
  SUBCASE("nothing secret: unchanged") {
    const std::string line = R"(> PUT https://h/devices/d1?api-version=2021-04-12 {"tags":{"site":"x"}})";
    CHECK(redact(line) == line);
  }
}

TEST_CASE("default_classify") {
  Response r;
  for (int s : {200, 201, 204, 304}) {
    r.status = s;
    CHECK(default_classify(r) == Verdict::success);
  }
  for (int s : {408, 429, 500, 502, 503, 504}) {
    r.status = s;
    CHECK(default_classify(r) == Verdict::retry);
  }
  for (int s : {400, 401, 403, 404, 409, 412, 501}) {
    r.status = s;
    CHECK(default_classify(r) == Verdict::fail);
  }
  r.status = 0;
  for (auto e : {TransportError::connect, TransportError::timeout, TransportError::reset, TransportError::other}) {
    r.transport_error = e;
    CHECK(default_classify(r) == Verdict::retry);
  }
  r.transport_error = TransportError::tls;
  CHECK(default_classify(r) == Verdict::fail);
  r.transport_error = TransportError::dns;
  CHECK(default_classify(r) == Verdict::fail);
}

TEST_CASE("RetryPolicy: full jitter within the exponential ceiling, Retry-After as a floor") {
  RetryPolicy p;
  p.base = milliseconds(100);
  p.cap = milliseconds(1000);
  std::mt19937_64 rng(7);
  Response none;
  for (int attempt = 1; attempt <= 8; ++attempt) {
    const auto ceiling = std::min<long long>(1000, 100LL << (attempt - 1));
    long long max_seen = 0;
    for (int i = 0; i < 200; ++i) {
      const long long d = p.delay(attempt, none, rng).count();
      CHECK(d >= 0);
      CHECK(d <= ceiling);
      max_seen = std::max(max_seen, d);
    }
    // Full jitter spreads over the whole range, not just a corner of it.
    CHECK(max_seen > ceiling / 2);
  }
  Response throttled;
  throttled.status = 429;
  throttled.headers = {{"retry-after", "3"}};
  for (int i = 0; i < 20; ++i) {
    CHECK(p.delay(1, throttled, rng) >= milliseconds(3000));
  }
  throttled.headers = {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}};  // in the past: no floor
  CHECK(p.delay(1, throttled, rng) <= milliseconds(100));
  throttled.headers = {{"Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT"}};  // far future: capped, still a floor
  CHECK(p.delay(1, throttled, rng) >= milliseconds(60'000));
  throttled.headers = {{"x-amz-retry-after", "1500"}};
  CHECK(p.delay(1, throttled, rng) >= milliseconds(1500));
}

TEST_CASE("RateLimiter paces N acquisitions at rate r to about N/r of fake time") {
  FakeTime time;
  RateLimiter limiter(10.0, 1.0, time.clock(), time.sleeper());
  for (int i = 0; i < 51; ++i) {
    limiter.acquire();
  }
  // The first token is free (full bucket), the other 50 take 5 s at 10/s.
  CHECK(time.elapsed() >= milliseconds(4950));
  CHECK(time.elapsed() <= milliseconds(5200));

  FakeTime t2;
  RateLimiter bursty(2.0, 5.0, t2.clock(), t2.sleeper());
  for (int i = 0; i < 5; ++i) {
    CHECK(bursty.try_acquire());
  }
  CHECK_FALSE(bursty.try_acquire());
  CHECK(t2.sleeps.empty());
  // A cost above the burst goes once the bucket is full again, leaving a debt.
  bursty.acquire(8.0);
  CHECK(t2.elapsed() >= milliseconds(2400));
  CHECK_FALSE(bursty.try_acquire());
}

TEST_CASE("Client retries 503 then succeeds, signing every attempt") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  fake->expect("GET", "https://h/devices/d1.*").reply(503).then(503).then(200, R"({"deviceId":"d1"})");
  auto o = options_with(time);
  int signed_count = 0;
  o.sign = [&](Request& r) { set_header(r.headers, "Authorization", "token-" + std::to_string(++signed_count)); };
  std::vector<std::string> trace;
  o.trace = [&](const std::string& line) { trace.push_back(line); };
  Client client(fake, o);
  const auto r = client.send(get("https://h/devices/d1?api-version=1"));
  CHECK(r.status == 200);
  CHECK(signed_count == 3);
  const auto sent = fake->requests();
  REQUIRE(sent.size() == 3);
  CHECK(find_header(sent[0].headers, "Authorization") == "token-1");
  CHECK(find_header(sent[2].headers, "Authorization") == "token-3");
  CHECK(client.stats().requests == 3);
  CHECK(client.stats().retries == 2);
  CHECK(client.stats().throttled == 0);
  CHECK(time.sleeps.size() == 2);
  fake->verify_done();
  // The trace names the attempt and never shows the token.
  bool saw_attempt_3 = false;
  for (const auto& line : trace) {
    CHECK(line.find("token-") == std::string::npos);
    saw_attempt_3 = saw_attempt_3 || line == "> GET https://h/devices/d1?api-version=1 (attempt 3)";
  }
  CHECK(saw_attempt_3);
}

TEST_CASE("Client does not retry 404") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  fake->expect("GET", ".*/devices/nope.*").reply(404, R"({"Message":"not found"})");
  Client client(fake, options_with(time));
  const auto r = client.send(get("https://h/devices/nope"));
  CHECK(r.status == 404);
  CHECK(fake->requests().size() == 1);
  CHECK(time.sleeps.empty());
  CHECK(client.stats().retries == 0);
}

TEST_CASE("Client gives up after max_attempts with Error::unavailable") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  auto stub = fake->expect("POST", ".*/devices.*").reply(429, R"({"Message":"ErrorCode:ThrottlingBacklogTimeout;Wait"})");
  for (int i = 1; i < 4; ++i) {
    stub = stub.then(429, R"({"Message":"ErrorCode:ThrottlingBacklogTimeout;Wait"})");
  }
  auto o = options_with(time);
  o.retry.max_attempts = 4;
  Client client(fake, o);
  Request req;
  req.method = "POST";
  req.url = "https://h/devices?api-version=1&sig=SECRET";
  try {
    client.send(req);
    FAIL("expected Error::unavailable");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::unavailable);
    CHECK(to_int(e.code()) == 5);
    const std::string msg = e.message();
    CHECK(msg.find("POST https://h/devices") != std::string::npos);
    CHECK(msg.find("429") != std::string::npos);
    CHECK(msg.find("after 4 attempts") != std::string::npos);
    CHECK(msg.find("SECRET") == std::string::npos);
    CHECK_FALSE(e.hint().empty());
  }
  CHECK(fake->requests().size() == 4);
  CHECK(client.stats().throttled == 4);
  fake->verify_done();
}

TEST_CASE("Client retries transport resets but not TLS failures") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  fake->expect("GET", ".*/a").fail(TransportError::reset).then(200);
  fake->expect("GET", ".*/b").fail(TransportError::tls);
  Client client(fake, options_with(time));
  CHECK(client.send(get("https://h/a")).status == 200);
  const auto tls = client.send(get("https://h/b"));
  CHECK(tls.status == 0);
  CHECK(tls.transport_error == TransportError::tls);
  CHECK(fake->requests().size() == 3);
  fake->verify_done();
}

TEST_CASE("the retry budget is shared across requests of one client") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  fake->expect("GET", ".*/a").reply(503).then(503).then(200);
  fake->expect("GET", ".*/b").reply(503).then(503);
  auto o = options_with(time);
  o.retry.budget = 3;
  Client client(fake, o);
  CHECK(client.send(get("https://h/a")).status == 200);  // uses 2 of 3
  try {
    client.send(get("https://h/b"));  // one retry left, then out
    FAIL("expected Error::unavailable");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::unavailable);
    CHECK(std::string(e.message()).find("budget") != std::string::npos);
  }
  CHECK(client.stats().retries == 3);
  CHECK(fake->requests().size() == 5);
  fake->verify_done();
}

TEST_CASE("Retry-After is honoured") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  fake->expect("GET", ".*/t").reply(429, "", {{"Retry-After", "7"}}).then(200);
  Client client(fake, options_with(time));
  CHECK(client.send(get("https://h/t")).status == 200);
  REQUIRE(time.sleeps.size() == 1);
  CHECK(time.sleeps[0] >= milliseconds(7000));
  CHECK(client.stats().throttled == 1);
}

TEST_CASE("an AWS-style classifier retries 400 ThrottlingException and counts it as throttling") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  fake->expect("GET", ".*/things").reply(400, R"({"message":"Rate exceeded"})", {{"x-amzn-ErrorType", "ThrottlingException:"}}).then(200);
  auto o = options_with(time);
  o.classify = [](const Response& r) {
    auto type = find_header(r.headers, "x-amzn-ErrorType");
    if (r.status == 400 && type && type->rfind("ThrottlingException", 0) == 0) {
      return Verdict::retry;
    }
    return default_classify(r);
  };
  Client client(fake, o);
  CHECK(client.send(get("https://h/things")).status == 200);
  CHECK(client.stats().throttled == 1);
  CHECK(client.stats().retries == 1);
}

TEST_CASE("send_all: concurrent rounds, retries only what needs it, answers in order") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  fake->expect("GET", ".*/r0").reply(200, "0");
  fake->expect("GET", ".*/r1").reply(503).then(200, "1");
  fake->expect("GET", ".*/r2").reply(429, "", {{"Retry-After", "2"}}).then(200, "2");
  fake->expect("GET", ".*/r3").reply(404, "3");
  Client client(fake, options_with(time));
  std::vector<Request> reqs;
  for (int i = 0; i < 4; ++i) {
    reqs.push_back(get("https://h/r" + std::to_string(i)));
  }
  const auto out = client.send_all(reqs);
  REQUIRE(out.size() == 4);
  CHECK(out[0].body == "0");
  CHECK(out[1].body == "1");
  CHECK(out[2].body == "2");
  CHECK(out[3].status == 404);
  CHECK(fake->send_all_calls() == 2);
  CHECK(fake->max_batch() == 4);
  REQUIRE(time.sleeps.size() == 1);
  CHECK(time.sleeps[0] >= milliseconds(2000));
  CHECK(client.stats().requests == 6);
  fake->verify_done();
}

TEST_CASE("send_all paces with the op-class bucket and throws when a request runs out") {
  FakeTime time;
  auto fake = std::make_shared<test::FakeTransport>();
  for (int i = 0; i < 10; ++i) {
    fake->expect("PUT", ".*/d" + std::to_string(i)).reply(200);
  }
  Client client(fake, options_with(time));
  client.set_rate("identity", 5.0, 2.0);
  std::vector<Request> reqs;
  for (int i = 0; i < 10; ++i) {
    Request r;
    r.method = "PUT";
    r.url = "https://h/d" + std::to_string(i);
    reqs.push_back(r);
  }
  const auto out = client.send_all(reqs, "identity");
  CHECK(out.size() == 10);
  // 2 from the burst, 8 more at 5/s.
  CHECK(time.elapsed() >= milliseconds(1550));
  CHECK(time.elapsed() <= milliseconds(1700));
  CHECK(fake->max_batch() <= 2);
  fake->verify_done();

  auto failing = std::make_shared<test::FakeTransport>();
  failing->expect("GET", ".*/ok").reply(200);
  failing->expect("GET", ".*/bad").reply(503).then(503);
  auto o = options_with(time);
  o.retry.max_attempts = 2;
  Client c2(failing, o);
  CHECK_THROWS_AS(c2.send_all({get("https://h/ok"), get("https://h/bad")}), Error);
  failing->verify_done();
}
