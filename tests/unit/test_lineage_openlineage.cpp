// OpenLineage RunEvents: the JSON aiot writes (fields and facet schema URLs the spec requires), run
// ids, the file and HTTP emitters (a fake transport stands in for Marquez) and target parsing.
// tests/integration/test_openlineage_schema.sh validates real events against the JSON Schemas.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/core/error.hpp"
#include "aiot/http/transport.hpp"
#include "aiot/lineage/openlineage.hpp"

using namespace aiot;
using namespace aiot::lineage;
using nlohmann::json;

namespace {

class FakeMarquez final : public http::Transport {
 public:
  int status = 201;
  http::TransportError error = http::TransportError::none;
  std::vector<http::Request> received;

  http::Response send(const http::Request& request) override {
    received.push_back(request);
    http::Response r;
    r.status = status;
    r.transport_error = error;
    if (status == 0) {
      r.error_text = "Connection refused";
    }
    return r;
  }
  std::vector<http::Response> send_all(std::span<const http::Request> requests) override {
    std::vector<http::Response> out;
    for (const auto& r : requests) {
      out.push_back(send(r));
    }
    return out;
  }
};

TimePoint at_ms(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

ol::RunEvent sample_event(ol::EventType type) {
  ol::RunEvent e;
  e.type = type;
  e.event_time = at_ms(1'763'856'000'000);  // 2025-11-23T00:00:00Z
  e.run_id = ol::uuid_v7(e.event_time, std::string(10, '\x5a'));
  e.job_namespace = "aiot://fleet";
  e.job_name = "lineage.audit";
  e.aiot_version = "0.9.0";
  e.nominal_start = at_ms(1'763'251'200'000);
  e.nominal_end = at_ms(1'763'856'000'000);
  ol::InputDataset in;
  in.ns = "file";
  in.name = "/data/exports/2025-11-16.ndjson";
  in.schema = {{"temp", "number", "°C"}, {"status", "string", ""}};
  in.data_source = ol::DataSource{"local files", "file:///data/exports"};
  in.version = "sha256:0f1e";
  ol::DataQualityMetrics metrics;
  metrics.row_count = 1000;
  metrics.bytes = 123456;
  metrics.file_count = 1;
  ol::ColumnMetrics temp;
  temp.null_count = 3;
  temp.distinct_count = 950;
  temp.count = 997;
  temp.min = -4.5;
  temp.max = 41.25;
  temp.quantiles = {{"0.25", 12.5}, {"0.5", 20.0}, {"0.75", 27.5}};
  metrics.columns["temp"] = temp;
  in.metrics = metrics;
  in.assertions = {{"TS002 future timestamps", false, "", "warn", "TS002", "device_ts ≤ hub_ts + 5 min", "0", "4"},
                   {"RNG001 range", true, "temp", "error", "RNG001", "", "", ""}};
  in.attribution = {{"1.2.0", 600}, {"1.3.0", 400}};
  e.inputs.push_back(in);
  ol::OutputDataset out;
  out.ns = "file";
  out.name = "/data/profile.json";
  out.row_count = 1000;
  out.size = 2048;
  out.file_count = 1;
  e.outputs.push_back(out);
  return e;
}

}  // namespace

TEST_CASE("run ids are UUIDv7: time first, version 7, variant 10") {
  const auto t = at_ms(0x0123456789ab);
  const auto id = ol::uuid_v7(t, std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10));
  CHECK(id == "01234567-89ab-7fff-bfff-ffffffffffff");
  const auto zeros = ol::uuid_v7(t, std::string(10, '\0'));
  CHECK(zeros == "01234567-89ab-7000-8000-000000000000");
  CHECK_THROWS_AS(ol::uuid_v7(t, "short"), Error);

  // 8-4-4-4-12 lower-case hex, version nibble 7, variant nibble 8..b.
  auto is_v7 = [](const std::string& id) {
    if (id.size() != 36 || id[14] != '7' || std::string("89ab").find(id[19]) == std::string::npos) {
      return false;
    }
    for (std::size_t i = 0; i < id.size(); ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? id[i] != '-' : std::string("0123456789abcdef").find(id[i]) == std::string::npos) {
        return false;
      }
    }
    return true;
  };
  CHECK_FALSE(is_v7("01234567-89ab-4fff-bfff-ffffffffffff"));
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const auto r = ol::new_run_id(t);
    CHECK(is_v7(r));
    CHECK(r.substr(0, 13) == "01234567-89ab");
    seen.insert(r);
  }
  CHECK(seen.size() == 50);
  // Later times sort later as text.
  CHECK(ol::new_run_id(at_ms(1'000)) < ol::new_run_id(at_ms(2'000)));
}

TEST_CASE("a START event carries the spec's fields and facets") {
  const auto j = ol::to_json(sample_event(ol::EventType::start));
  CHECK(j["eventType"] == "START");
  CHECK(j["eventTime"] == "2025-11-23T00:00:00Z");
  CHECK(j["schemaURL"] == "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent");
  CHECK(j["producer"] == "https://github.com/aiot-dev/aiot/tree/v0.9.0");
  CHECK(j["job"]["namespace"] == "aiot://fleet");
  CHECK(j["job"]["name"] == "lineage.audit");
  CHECK(j["job"]["facets"]["jobType"]["processingType"] == "BATCH");

  const auto& run = j["run"];
  CHECK(run["runId"].get<std::string>().substr(14, 1) == "7");
  CHECK(run["facets"]["nominalTime"]["nominalStartTime"] == "2025-11-16T00:00:00Z");
  CHECK(run["facets"]["nominalTime"]["nominalEndTime"] == "2025-11-23T00:00:00Z");
  CHECK(run["facets"]["nominalTime"]["_schemaURL"] ==
        "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet");
  CHECK(run["facets"]["processing_engine"]["name"] == "aiot");
  CHECK(run["facets"]["processing_engine"]["version"] == "0.9.0");
  CHECK(run["facets"]["processing_engine"]["_producer"] == j["producer"]);
  CHECK_FALSE(run["facets"].contains("errorMessage"));
  CHECK_FALSE(run["facets"].contains("parent"));

  REQUIRE(j["inputs"].size() == 1);
  const auto& in = j["inputs"][0];
  CHECK(in["namespace"] == "file");
  CHECK(in["facets"]["schema"]["fields"][0]["name"] == "temp");
  CHECK(in["facets"]["schema"]["fields"][1].contains("description") == false);
  CHECK(in["facets"]["dataSource"]["uri"] == "file:///data/exports");
  CHECK(in["facets"]["version"]["datasetVersion"] == "sha256:0f1e");
  CHECK(in["facets"]["version"]["_schemaURL"] ==
        "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet");
  const auto& metrics = in["inputFacets"]["dataQualityMetrics"];
  CHECK(metrics["_schemaURL"] == "https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json"
                                 "#/$defs/DataQualityMetricsInputDatasetFacet");
  CHECK(metrics["rowCount"] == 1000);
  CHECK(metrics["columnMetrics"]["temp"]["nullCount"] == 3);
  CHECK(metrics["columnMetrics"]["temp"]["quantiles"]["0.5"] == 20.0);
  const auto& assertions = in["inputFacets"]["dataQualityAssertions"]["assertions"];
  REQUIRE(assertions.size() == 2);
  CHECK(assertions[0]["success"] == false);
  CHECK(assertions[0]["severity"] == "warn");
  CHECK_FALSE(assertions[0].contains("column"));
  CHECK(assertions[1]["column"] == "temp");
  const auto& attribution = in["inputFacets"]["aiot_attribution"];
  CHECK(attribution["recordsByModelVersion"]["1.2.0"] == 600);
  CHECK(attribution["_schemaURL"] == std::string(ol::k_attribution_schema_url));
  CHECK(attribution["_producer"] == j["producer"]);

  REQUIRE(j["outputs"].size() == 1);
  CHECK(j["outputs"][0]["outputFacets"]["outputStatistics"]["size"] == 2048);
}

TEST_CASE("FAIL carries errorMessage; a parent links to the calling run; ids are required") {
  auto e = sample_event(ol::EventType::fail);
  e.error_message = "cannot read /data/exports: permission denied";
  e.parent = ol::ParentRun{"01234567-89ab-7000-8000-000000000000", "aiot://fleet", "report.governance"};
  const auto j = ol::to_json(e);
  CHECK(j["eventType"] == "FAIL");
  CHECK(j["run"]["facets"]["errorMessage"]["message"] == e.error_message);
  CHECK(j["run"]["facets"]["errorMessage"]["programmingLanguage"] == "C++");
  CHECK(j["run"]["facets"]["parent"]["run"]["runId"] == "01234567-89ab-7000-8000-000000000000");
  CHECK(j["run"]["facets"]["parent"]["job"]["name"] == "report.governance");

  e.run_id.clear();
  CHECK_THROWS_AS(ol::to_json(e), Error);
  CHECK(ol::to_string(ol::EventType::complete) == "COMPLETE");
}

TEST_CASE("the file emitter appends one JSON document per line") {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("aiot-ol-test-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto path = (dir / "lineage.jsonl").string();
  auto emitter = ol::make_emitter("file:" + path, nullptr);
  emitter->emit(sample_event(ol::EventType::start));
  emitter->emit(sample_event(ol::EventType::complete));
  std::ifstream in(path);
  std::string line;
  std::vector<json> events;
  while (std::getline(in, line)) {
    events.push_back(json::parse(line));
  }
  REQUIRE(events.size() == 2);
  CHECK(events[0]["eventType"] == "START");
  CHECK(events[1]["eventType"] == "COMPLETE");
  CHECK(events[0]["run"]["runId"] == events[1]["run"]["runId"]);

  ol::FileEmitter nowhere((dir / "missing-dir" / "x.jsonl").string());
  CHECK_THROWS_AS(nowhere.emit(sample_event(ol::EventType::start)), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the HTTP emitter POSTs each event to /api/v1/lineage") {
  FakeMarquez marquez;
  auto emitter = ol::make_emitter("http://127.0.0.1:5000", &marquez, "secret-key");
  emitter->emit(sample_event(ol::EventType::start));
  REQUIRE(marquez.received.size() == 1);
  const auto& request = marquez.received[0];
  CHECK(request.method == "POST");
  CHECK(request.url == "http://127.0.0.1:5000/api/v1/lineage");
  CHECK(http::find_header(request.headers, "content-type") == "application/json");
  CHECK(http::find_header(request.headers, "Authorization") == "Bearer secret-key");
  const auto body = json::parse(request.body);
  CHECK(body["eventType"] == "START");
  CHECK(body["job"]["name"] == "lineage.audit");

  auto code_of = [&](int status) {
    marquez.status = status;
    try {
      emitter->emit(sample_event(ol::EventType::complete));
    } catch (const Error& e) {
      return e.code();
    }
    return ExitCode::ok;
  };
  CHECK(code_of(200) == ExitCode::ok);
  CHECK(code_of(204) == ExitCode::ok);
  CHECK(code_of(400) == ExitCode::usage);
  CHECK(code_of(401) == ExitCode::auth);
  CHECK(code_of(500) == ExitCode::unavailable);
  CHECK(code_of(0) == ExitCode::unavailable);

  SUBCASE("targets") {
    FakeMarquez t;
    auto custom = ol::make_emitter("https://lineage.example.com/custom/path", &t);
    custom->emit(sample_event(ol::EventType::start));
    CHECK(t.received.at(0).url == "https://lineage.example.com/custom/path");
    CHECK(t.received.at(0).headers.size() == 1);  // no Authorization without a key
    auto local = ol::make_emitter("http://localhost:5000/", &t);
    local->emit(sample_event(ol::EventType::start));
    CHECK(t.received.at(1).url == "http://localhost:5000/api/v1/lineage");
    CHECK_THROWS_AS(ol::make_emitter("http://lineage.example.com:5000", &t), Error);
    CHECK_THROWS_AS(ol::make_emitter("http://127.0.0.1:5000", nullptr), Error);
    CHECK_THROWS_AS(ol::make_emitter("kafka://broker:9092", &t), Error);
    CHECK_THROWS_AS(ol::make_emitter("file:", &t), Error);
    CHECK_THROWS_AS(ol::make_emitter("http://", &t), Error);
  }
}

#include "aiot/core/env.hpp"
#include "aiot/lineage/profile.hpp"

TEST_CASE("the OpenLineage client environment variables") {
  Env env;
  CHECK_FALSE(ol::target_from_env(env).has_value());
  CHECK(ol::job_namespace_from_env(env) == "aiot");
  env.set("OPENLINEAGE_URL", "http://127.0.0.1:5000/");
  CHECK(ol::target_from_env(env) == "http://127.0.0.1:5000/api/v1/lineage");
  env.set("OPENLINEAGE_ENDPOINT", "/custom/lineage");
  CHECK(ol::target_from_env(env) == "http://127.0.0.1:5000/custom/lineage");
  env.set("OPENLINEAGE_DISABLED", "true");
  CHECK_FALSE(ol::target_from_env(env).has_value());
  env.set("OPENLINEAGE_NAMESPACE", "aiot://fleet-a");
  env.set("OPENLINEAGE_API_KEY", "k");
  CHECK(ol::job_namespace_from_env(env) == "aiot://fleet-a");
  CHECK(ol::api_key_from_env(env) == "k");
}

TEST_CASE("dataQualityMetrics and attribution from a profile") {
  Profile p;
  p.bytes = 999;
  p.inputs = 3;
  for (int i = 1; i <= 100; ++i) {
    const std::string version = i <= 60 ? "1.2.0" : "1.3.0";
    p.add_record(fmt::format("dev-{}", i % 10), "pi5", version);
    p.field(version, "temp").add_number(i);
    if (i % 10 == 0) {
      p.field(version, "humidity").add_null();
    } else {
      p.field(version, "humidity").add_number(50);
    }
  }
  const auto m = ol::metrics_of(p);
  CHECK(m.row_count == 100);
  CHECK(m.bytes == 999);
  CHECK(m.file_count == 3);
  const auto& temp = m.columns.at("temp");
  CHECK(temp.count == 100.0);
  CHECK(temp.null_count == 0);
  CHECK(temp.min == 1.0);
  CHECK(temp.max == 100.0);
  CHECK(temp.sum == doctest::Approx(5050.0));
  CHECK(temp.distinct_count == 100);  // HLL, exact enough at 100
  CHECK(temp.quantiles.at("0.5") == 50.0);
  CHECK(temp.quantiles.at("0.95") == 95.0);
  CHECK(m.columns.at("humidity").null_count == 10);
  CHECK(m.columns.at("humidity").distinct_count == 1);
  const auto a = ol::attribution_of(p);
  CHECK(a.at("1.2.0") == 60);
  CHECK(a.at("1.3.0") == 40);
}
