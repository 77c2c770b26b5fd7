// Remote inputs over an in-memory blob/object service speaking List Blobs, ListObjectsV2, Get Blob
// and GetObject (no sockets): pagination, 10,000 objects, --window narrowing, auth, retries and
// resumed transfers, and the prefetcher.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "aiot/auth/cloud/sigv4.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/http/stream.hpp"
#include "aiot/storage/inputs.hpp"
#include "aiot/storage/remote.hpp"

using namespace aiot;
using namespace aiot::storage;

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> query_of(const std::string& url) {
  std::map<std::string, std::string> q;
  const auto mark = url.find('?');
  if (mark == std::string::npos) {
    return q;
  }
  for (const auto& pair : str::split(url.substr(mark + 1), '&')) {
    const auto eq = pair.find('=');
    q[http::url_decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : http::url_decode(pair.substr(eq + 1));
  }
  return q;
}

// Blob containers / buckets in memory, answering like Azure Blob Storage (path-style, Azurite's
// layout) on port 10000 and like S3 (path-style) on port 5000.
class FakeService final : public http::Transport {
 public:
  std::map<std::string, std::string> objects;        // name -> content
  std::map<std::string, std::vector<int>> faults;    // name -> statuses to answer first
  int list_status = 200;
  std::vector<http::Request> requests;
  std::mutex mutex;

  std::string etag(const std::string& name) const { return fmt::format("0x8D{:08X}", std::hash<std::string>{}(name) & 0xFFFFFFFF); }

  http::Response send(const http::Request& r) override {
    std::lock_guard lock(mutex);
    requests.push_back(r);
    const bool azure = r.url.find(":10000/") != std::string::npos;
    const auto q = query_of(r.url);
    std::string path = r.url.substr(r.url.find('/', 8));
    path = path.substr(0, path.find('?'));
    const auto parts = str::split(path, '/');  // "", [account,] container, key...
    const std::size_t key_at = azure ? 3 : 2;
    if (q.count("comp") || q.count("list-type")) {
      http::Response resp;
      resp.status = list_status;
      if (list_status != 200) {
        resp.body = "<?xml version=\"1.0\"?><Error><Code>AuthorizationFailure</Code><Message>no</Message></Error>";
        return resp;
      }
      resp.body = azure ? list_azure(q) : list_s3(q);
      return resp;
    }
    std::vector<std::string> key_parts(parts.begin() + static_cast<long>(key_at), parts.end());
    const std::string name = http::url_decode(str::join(key_parts, "/"));
    http::Response resp;
    if (auto f = faults.find(name); f != faults.end() && !f->second.empty()) {
      resp.status = f->second.front();
      f->second.erase(f->second.begin());
      resp.body = "<Error><Code>Injected</Code><Message>fault</Message></Error>";
      return resp;
    }
    const auto it = objects.find(name);
    if (it == objects.end()) {
      resp.status = 404;
      return resp;
    }
    if (auto match = http::find_header(r.headers, "If-Match"); match && *match != "\"" + etag(name) + "\"") {
      resp.status = 412;
      return resp;
    }
    resp.status = 200;
    resp.body = it->second;
    if (auto range = http::find_header(r.headers, "Range")) {
      const auto from = std::stoull(range->substr(6));
      resp.status = 206;
      resp.body = it->second.substr(from);
    }
    return resp;
  }

  std::vector<http::Response> send_all(std::span<const http::Request> rs) override {
    std::vector<http::Response> out;
    for (const auto& r : rs) {
      out.push_back(send(r));
    }
    return out;
  }

  int list_calls() {
    std::lock_guard lock(mutex);
    int n = 0;
    for (const auto& r : requests) {
      n += (r.url.find("comp=list") != std::string::npos || r.url.find("list-type=2") != std::string::npos);
    }
    return n;
  }

 private:
  struct Entry {
    bool is_prefix;
    std::string name;
  };

  std::pair<std::vector<Entry>, std::string> page(const std::map<std::string, std::string>& q, std::size_t default_max,
                                                  const std::string& marker_key) const {
    const std::string prefix = q.count("prefix") ? q.at("prefix") : "";
    const std::string delimiter = q.count("delimiter") ? q.at("delimiter") : "";
    const std::string marker = q.count(marker_key) ? q.at(marker_key) : "";
    const std::size_t max = q.count(marker_key == "marker" ? "maxresults" : "max-keys")
                                ? std::stoul(q.at(marker_key == "marker" ? "maxresults" : "max-keys"))
                                : default_max;
    std::vector<Entry> entries;
    for (auto it = objects.lower_bound(prefix); it != objects.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      const auto rest = it->first.substr(prefix.size());
      const auto cut = delimiter.empty() ? std::string::npos : rest.find(delimiter);
      Entry e{cut != std::string::npos, cut == std::string::npos ? it->first : prefix + rest.substr(0, cut + 1)};
      if (entries.empty() || entries.back().name != e.name) {
        entries.push_back(e);
      }
    }
    std::vector<Entry> out;
    std::string next;
    for (const auto& e : entries) {
      if (e.name < marker) {
        continue;
      }
      if (out.size() == max) {
        next = e.name;
        break;
      }
      out.push_back(e);
    }
    return {out, next};
  }

  std::string list_azure(const std::map<std::string, std::string>& q) const {
    const auto [entries, next] = page(q, 5000, "marker");
    std::string xml = R"(<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>)";
    for (const auto& e : entries) {
      if (e.is_prefix) {
        xml += fmt::format("<BlobPrefix><Name>{}</Name></BlobPrefix>", xml_escape(e.name));
      } else {
        xml += fmt::format("<Blob><Name>{}</Name><Properties><Etag>{}</Etag><Content-Length>{}</Content-Length>"
                           "</Properties></Blob>",
                           xml_escape(e.name), etag(e.name), objects.at(e.name).size());
      }
    }
    return xml + fmt::format("</Blobs><NextMarker>{}</NextMarker></EnumerationResults>", xml_escape(next));
  }

  std::string list_s3(const std::map<std::string, std::string>& q) const {
    const auto [entries, next] = page(q, 1000, "continuation-token");
    std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>)";
    xml += fmt::format("<IsTruncated>{}</IsTruncated>", next.empty() ? "false" : "true");
    for (const auto& e : entries) {
      if (e.is_prefix) {
        xml += fmt::format("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>", xml_escape(e.name));
      } else {
        xml += fmt::format("<Contents><Key>{}</Key><ETag>&quot;{}&quot;</ETag><Size>{}</Size></Contents>",
                           xml_escape(e.name), etag(e.name), objects.at(e.name).size());
      }
    }
    if (!next.empty()) {
      xml += fmt::format("<NextContinuationToken>{}</NextContinuationToken>", xml_escape(next));
    }
    return xml + "</ListBucketResult>";
  }
};

// A body that stops after `cut` bytes with a reset, for the first `breaks` transfers of each object.
class BreakingStreams final : public http::StreamTransport {
 public:
  BreakingStreams(std::shared_ptr<http::Transport> inner, std::size_t cut, int breaks)
      : inner_(std::move(inner)), cut_(cut), breaks_(breaks) {}
  std::vector<http::Request> started;

  std::unique_ptr<http::BodyStream> start(const http::Request& request) override {
    started.push_back(request);
    auto response = inner_->send(request);
    const bool do_break = breaks_ > 0 && response.body.size() > cut_;
    if (do_break) {
      --breaks_;
      response.body.resize(cut_);
    }
    return std::make_unique<Body>(std::move(response), do_break);
  }

 private:
  class Body final : public http::BodyStream {
   public:
    Body(http::Response r, bool broken) : r_(std::move(r)), broken_(broken) { body_.swap(r_.body); }
    const http::Response& head() override { return r_; }
    std::size_t read(char* buf, std::size_t n) override {
      const auto got = std::min(n, body_.size() - pos_);
      std::copy_n(body_.data() + pos_, got, buf);
      pos_ += got;
      return got;
    }
    http::TransportError broken() const override {
      return broken_ && pos_ == body_.size() ? http::TransportError::reset : http::TransportError::none;
    }
    std::string broken_text() const override { return "connection reset"; }

   private:
    http::Response r_;
    std::string body_;
    std::size_t pos_ = 0;
    bool broken_;
  };
  std::shared_ptr<http::Transport> inner_;
  std::size_t cut_;
  int breaks_;
};

std::string read_all(lineage::ByteSource& source) {
  std::string out;
  char buf[7];  // small reads cross the break points
  while (const auto n = source.read(buf, sizeof buf)) {
    out.append(buf, n);
  }
  return out;
}

struct Rig {
  std::istringstream in;
  std::ostringstream out, err;
  IOStreams io{in, out, err, false, false, false};
  Env env;
  std::unique_ptr<Context> ctx;
  std::shared_ptr<FakeService> service = std::make_shared<FakeService>();
  std::vector<std::chrono::milliseconds> sleeps;
  Backend backend;

  Rig() {
    backend.transport = service;
    backend.stream = http::buffered_stream_transport(service);
    backend.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
    backend.seed = 42;
  }
  Context& context() {
    ctx = std::make_unique<Context>(io, env, "/tmp", [] { return *parse_rfc3339("2026-11-26T06:00:00Z"); });
    return *ctx;
  }
  std::vector<lineage::Input> list(const std::string& spec, ListOptions opt = {}) {
    return list_inputs(context(), spec, opt, backend);
  }
};

constexpr const char* k_azurite = "http://127.0.0.1:10000/devstoreaccount1";

}  // namespace

TEST_CASE("Azure with a SAS URL: pages of 2, Inputs named by URL with etag and OpenLineage names") {
  Rig rig;
  for (int i = 0; i < 7; ++i) {
    rig.service->objects[fmt::format("hub/0/2026/11/26/04/{:02}.json", i)] = fmt::format("{{\"n\":{}}}\n", i);
  }
  rig.service->objects["other/x.json"] = "{}";
  ListOptions opt;
  opt.page_size = 2;
  const auto inputs = rig.list(std::string(k_azurite) + "/exports/hub/?sv=2021-08-06&sp=rl&sig=abc%2B%3D", opt);
  REQUIRE(inputs.size() == 7);
  CHECK(rig.service->list_calls() == 4);
  for (const auto& r : rig.service->requests) {
    CHECK(r.url.find("&sv=2021-08-06&sp=rl&sig=abc%2B%3D") != std::string::npos);
    CHECK(r.url.find("maxresults=2") != std::string::npos);
    CHECK_FALSE(http::find_header(r.headers, "Authorization"));
  }
  const auto& first = inputs.front();
  CHECK(first.name == std::string(k_azurite) + "/exports/hub/0/2026/11/26/04/00.json");
  CHECK(first.name.find("sig=") == std::string::npos);
  CHECK(first.version == rig.service->etag("hub/0/2026/11/26/04/00.json"));
  CHECK(first.size == 8);
  CHECK(first.ol_namespace == "wasbs://exports@devstoreaccount1.dfs.core.windows.net");
  CHECK(first.ol_name == "hub/0/2026/11/26/04/00.json");
  for (int i = 0; i < 7; ++i) {
    auto source = inputs[static_cast<std::size_t>(i)].open();
    CHECK(read_all(*source) == fmt::format("{{\"n\":{}}}\n", i));
  }
  // The object GETs carry the SAS too.
  CHECK(rig.service->requests.back().url.find("sig=abc") != std::string::npos);
}

TEST_CASE("Azure with a connection string: its BlobEndpoint and Shared Key signing") {
  Rig rig;
  rig.service->objects["hub/1/a b.json"] = "{\"a\":1}\n";
  rig.env.set("AZURE_STORAGE_CONNECTION_STRING",
              std::string("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=") +
                  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
                  "BlobEndpoint=" + k_azurite + ";");
  const auto inputs = rig.list("az://devstoreaccount1/exports/hub/");
  REQUIRE(inputs.size() == 1);
  CHECK(inputs[0].name == "az://devstoreaccount1/exports/hub/1/a b.json");
  CHECK(read_all(*inputs[0].open()) == "{\"a\":1}\n");
  const auto& list = rig.service->requests.front();
  CHECK(list.url.rfind(std::string(k_azurite) + "/exports?restype=container&comp=list&prefix=hub%2F", 0) == 0);
  CHECK(http::find_header(list.headers, "Authorization")->rfind("SharedKey devstoreaccount1:", 0) == 0);
  CHECK(http::find_header(list.headers, "x-ms-version") == "2021-08-06");
  const auto& get = rig.service->requests.back();
  CHECK(get.url == std::string(k_azurite) + "/exports/hub/1/a%20b.json");
  CHECK(http::find_header(get.headers, "Authorization"));
}

TEST_CASE("S3 on a custom endpoint: path-style, continuation tokens, SigV4 with S3's rules") {
  Rig rig;
  for (int i = 0; i < 5; ++i) {
    rig.service->objects[fmt::format("iot/2026/11/26/04/obj {}+.json", i)] = fmt::format("{{\"i\":{}}}\n", i);
  }
  rig.env.set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  rig.env.set("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  rig.env.set("AWS_REGION", "eu-west-1");
  rig.env.set("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5000/");
  ListOptions opt;
  opt.page_size = 2;
  const auto inputs = rig.list("s3://telemetry/iot/", opt);
  REQUIRE(inputs.size() == 5);
  CHECK(rig.service->list_calls() == 3);
  CHECK(inputs[0].name == "s3://telemetry/iot/2026/11/26/04/obj 0+.json");
  CHECK(inputs[0].ol_namespace == "s3://telemetry");
  CHECK(inputs[0].version == rig.service->etag("iot/2026/11/26/04/obj 0+.json"));  // quotes stripped
  CHECK(read_all(*inputs[3].open()) == "{\"i\":3}\n");

  const auto& list2 = rig.service->requests[1];
  CHECK(list2.url.rfind("http://127.0.0.1:5000/telemetry?list-type=2&continuation-token=", 0) == 0);
  const auto& get = rig.service->requests.back();
  CHECK(get.url == "http://127.0.0.1:5000/telemetry/iot/2026/11/26/04/obj%203%2B.json");  // encoded once
  CHECK(http::find_header(get.headers, "x-amz-content-sha256") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const auto auth = sigv4::parse_authorization(*http::find_header(get.headers, "Authorization"));
  REQUIRE(auth);
  CHECK(auth->region == "eu-west-1");
  CHECK(auth->service == "s3");
  CHECK(std::find(auth->signed_headers.begin(), auth->signed_headers.end(), "x-amz-content-sha256") !=
        auth->signed_headers.end());
  // The signature verifies against the wire path as sent (no double encoding).
  sigv4::SignableRequest received{"GET", get.url.substr(get.url.find("/telemetry")), get.headers, ""};
  sigv4::Config config;
  config.region = "eu-west-1";
  config.service = "s3";
  config.normalize_path = false;
  config.double_encode_path = false;
  const auto again = sigv4::recompute(received, *auth, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", config);
  CHECK(again.signature == auth->signature);
  CHECK(again.canonical_request.find("/telemetry/iot/2026/11/26/04/obj%203%2B.json\n") != std::string::npos);
}

TEST_CASE("10,000 objects list in service-sized pages") {
  Rig rig;
  for (int i = 0; i < 10'000; ++i) {
    rig.service->objects[fmt::format("hub/{}/2026/11/26/04/{:05}.json", i % 4, i)] = "{}";
  }
  SUBCASE("Azure: 5,000 a page") {
    const auto inputs = rig.list(std::string(k_azurite) + "/exports?sig=x");
    CHECK(inputs.size() == 10'000);
    CHECK(rig.service->list_calls() == 2);
    CHECK(std::is_sorted(inputs.begin(), inputs.end(), [](const auto& a, const auto& b) { return a.name < b.name; }));
  }
  SUBCASE("S3: 1,000 a page") {
    rig.env.set("AWS_ACCESS_KEY_ID", "AKID");
    rig.env.set("AWS_SECRET_ACCESS_KEY", "SECRET");
    rig.env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
    const auto inputs = rig.list("s3://b/hub/");
    CHECK(inputs.size() == 10'000);
    CHECK(rig.service->list_calls() == 10);
    std::set<std::string> names;
    for (const auto& in : inputs) {
      names.insert(in.name);
    }
    CHECK(names.size() == 10'000);
  }
}

TEST_CASE("--window lists only the time folders that can hold the window") {
  Rig rig;
  for (const char* p : {"0", "1"}) {
    for (const char* day : {"25", "26"}) {
      for (const char* hour : {"03", "04", "05"}) {
        for (const char* minute : {"10", "43"}) {
          rig.service->objects[fmt::format("myhub/{}/2026/11/{}/{}/{}.json", p, day, hour, minute)] = "{}";
        }
      }
    }
  }
  rig.service->objects["myhub/README.txt"] = "not telemetry";
  rig.service->objects["firehose/2026/11/26/04/delivery-1"] = "{}";
  rig.service->objects["firehose/2026/11/26/06/delivery-2"] = "{}";
  rig.service->objects["firehose/2025/01/01/00/delivery-0"] = "{}";
  ListOptions opt;
  opt.from = parse_rfc3339("2026-11-26T04:00:00Z");
  opt.to = parse_rfc3339("2026-11-26T04:30:00Z");  // with the slack: 03:45 .. 04:45
  opt.page_size = 3;
  const auto inputs = rig.list(std::string(k_azurite) + "/exports?sig=x", opt);
  std::vector<std::string> names;
  for (const auto& in : inputs) {
    names.push_back(in.ol_name);
  }
  CHECK(names == std::vector<std::string>{"firehose/2026/11/26/04/delivery-1", "myhub/0/2026/11/26/04/10.json",
                                          "myhub/0/2026/11/26/04/43.json", "myhub/1/2026/11/26/04/10.json",
                                          "myhub/1/2026/11/26/04/43.json", "myhub/README.txt"});
  // Folders outside the window were never listed.
  for (const auto& r : rig.service->requests) {
    const auto q = query_of(r.url);
    const auto prefix = q.count("prefix") ? q.at("prefix") : "";
    CHECK(prefix.find("/25/") == std::string::npos);
    CHECK(prefix.find("/2025/") == std::string::npos);
    CHECK(prefix.find("/05/") == std::string::npos);
  }

  SUBCASE("a prefix already inside the layout") {
    rig.service->requests.clear();
    const auto narrowed = rig.list(std::string(k_azurite) + "/exports/myhub/1/2026/11/?sig=x", opt);
    CHECK(narrowed.size() == 2);
  }
}

TEST_CASE("errors: permission stops, missing container, per-object failures after retries") {
  Rig rig;
  rig.service->objects["a.json"] = "{\"a\":1}\n";
  rig.service->objects["b.json"] = "{\"b\":2}\n";
  rig.backend.max_attempts = 3;
  const std::string spec = std::string(k_azurite) + "/exports?sig=x";

  SUBCASE("403 on listing is Error::auth, fatal") {
    rig.service->list_status = 403;
    try {
      rig.list(spec);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::auth);
      CHECK(is_fatal(e));
      CHECK(std::string(e.what()).find("AuthorizationFailure") != std::string::npos);
    }
  }
  SUBCASE("404 on listing is not_found") {
    rig.service->list_status = 404;
    try {
      rig.list(spec);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.reason() == Reason::not_found);
      CHECK_FALSE(is_fatal(e));
    }
  }
  SUBCASE("an empty prefix is a usage error") {
    CHECK_THROWS_AS(rig.list(std::string(k_azurite) + "/exports/nothing/?sig=x"), Error);
  }
  SUBCASE("503 twice, then the object") {
    const auto inputs = rig.list(spec);
    rig.service->faults["a.json"] = {503, 503};
    CHECK(read_all(*inputs[0].open()) == "{\"a\":1}\n");
    CHECK(rig.sleeps.size() == 2);
  }
  SUBCASE("500 for good: unavailable after max_attempts, named; the next object still reads") {
    const auto inputs = rig.list(spec);
    rig.service->faults["a.json"] = {500, 500, 500, 500};
    auto source = inputs[0].open();
    try {
      read_all(*source);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::unavailable);
      CHECK_FALSE(is_fatal(e));
      CHECK(std::string(e.what()).find("/exports/a.json") != std::string::npos);
    }
    CHECK(read_all(*inputs[1].open()) == "{\"b\":2}\n");
  }
  SUBCASE("403 on an object is fatal") {
    const auto inputs = rig.list(spec);
    rig.service->faults["b.json"] = {403};
    auto source = inputs[1].open();
    try {
      read_all(*source);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(is_fatal(e));
    }
  }
}

TEST_CASE("a transfer that breaks resumes with a Range pinned to the etag") {
  Rig rig;
  std::string big;
  for (int i = 0; i < 200; ++i) {
    big += fmt::format("{{\"seq\":{}}}\n", i);
  }
  rig.service->objects["big.json"] = big;
  auto breaking = std::make_shared<BreakingStreams>(rig.service, 100, 2);
  rig.backend.stream = breaking;
  const auto inputs = rig.list(std::string(k_azurite) + "/exports?sig=x");
  REQUIRE(inputs.size() == 1);
  CHECK(read_all(*inputs[0].open()) == big);
  REQUIRE(breaking->started.size() == 3);
  CHECK_FALSE(http::find_header(breaking->started[0].headers, "Range"));
  CHECK(http::find_header(breaking->started[1].headers, "Range") == "bytes=100-");
  CHECK(http::find_header(breaking->started[2].headers, "Range") == "bytes=200-");
  CHECK(http::find_header(breaking->started[1].headers, "If-Match") == "\"" + rig.service->etag("big.json") + "\"");

  SUBCASE("the object changed meanwhile: 412 is a per-object failure") {
    rig.service->objects.clear();
    rig.service->objects["big.json"] = big;
    auto again = std::make_shared<BreakingStreams>(rig.service, 100, 1);
    rig.backend.stream = again;
    const auto listed = rig.list(std::string(k_azurite) + "/exports?sig=x");
    auto source = listed[0].open();
    char buf[50];
    CHECK(source->read(buf, sizeof buf) == 50);
    rig.service->faults["big.json"] = {412};  // what the service answers when If-Match no longer holds
    CHECK_THROWS_AS(read_all(*source), Error);
  }
}

TEST_CASE("Prefetcher opens the next inputs ahead and rethrows open errors at their turn") {
  std::vector<int> opened;
  std::vector<lineage::Input> inputs(6);
  for (int i = 0; i < 6; ++i) {
    inputs[static_cast<std::size_t>(i)].name = std::to_string(i);
    inputs[static_cast<std::size_t>(i)].open = [i, &opened]() -> std::unique_ptr<lineage::ByteSource> {
      opened.push_back(i);
      if (i == 3) {
        throw Error::unavailable("object 3 is gone");
      }
      struct One final : lineage::ByteSource {
        std::size_t read(char*, std::size_t) override { return 0; }
      };
      return std::make_unique<One>();
    };
  }
  Prefetcher pf(inputs, 2);
  CHECK(pf.take(0) != nullptr);
  CHECK(opened == std::vector<int>{0, 1, 2});
  CHECK(pf.take(1) != nullptr);
  CHECK(opened == std::vector<int>{0, 1, 2, 3});
  CHECK(pf.take(2) != nullptr);
  CHECK_THROWS_AS(pf.take(3), Error);
  CHECK(pf.take(5) != nullptr);  // skipping is allowed
  CHECK(opened == std::vector<int>{0, 1, 2, 3, 4, 5});
}
