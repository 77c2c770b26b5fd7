// The audit pipeline: reader thread -> bounded queue -> checker, over real readers and over fake
// ones; input errors, fatal errors, malformed input; audit.json; --window parsing.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/core/error.hpp"
#include "aiot/lineage/audit.hpp"
#include "aiot/lineage/profile.hpp"

using namespace aiot::lineage;
using nlohmann::json;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / fmt::format("aiot-audit-{}", std::random_device{}());
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

std::string line(const std::string& device, int minute, double temp, const std::string& extra = "") {
  return fmt::format(R"({{"deviceId":"{}","ts":"2026-11-23T10:{:02d}:00Z","enqueuedTime":"2026-11-23T10:{:02d}:02Z","temp":{}{}}})",
                     device, minute, minute, temp, extra) +
         "\n";
}

AuditResult audit_files(const std::vector<std::string>& files, const Policy& policy, Profile* profile = nullptr) {
  AuditOptions o;
  o.inputs = discover_files(files);
  o.read.format = Format::ndjson;
  o.checks.policy = &policy;
  o.checks.profile = profile;
  o.queue_batches = 2;
  o.read.batch_records = 7;  // many small batches through the queue
  return run_audit(std::move(o));
}

}  // namespace

TEST_CASE("run_audit reads NDJSON through the queue: counts, malformed lines with input:offset, audit.json") {
  TempDir dir;
  std::string text;
  for (int m = 0; m < 40; ++m) text += line("dev-1", m, 20 + (m % 4));
  for (int m = 0; m < 40; ++m)
    if (m != 20) text += line("dev-2", m, 30 + (m % 3));  // one record missing: a gap
  const auto bad_at = text.size();
  text += "{\"deviceId\":\"dev-1\",\"ts\":\n";  // truncated
  text += line("dev-1", 40, 21);
  text += line("dev-1", 40, 21);  // duplicate
  auto a = dir.write("a.ndjson", text);
  Policy policy;
  Profile profile;
  auto r = audit_files({a}, policy, &profile);
  CHECK(r.stats.records_read == 81);
  CHECK(r.stats.records == 80);
  CHECK(r.stats.malformed == 1);
  REQUIRE(r.malformed_examples.size() == 1);
  CHECK(r.malformed_examples[0].offset == bad_at);
  CHECK(r.check(Check::TS005).count == 1);
  CHECK(r.check(Check::TS006).count == 1);
  CHECK(r.check(Check::TS006).actual["missing_records"] == 1);
  CHECK(profile.records == 80);
  REQUIRE(r.inputs.size() == 1);
  CHECK(r.inputs[0].records == 81);
  CHECK(r.inputs[0].sha256.size() == 64);
  CHECK(r.inputs[0].format == "ndjson");

  auto j = to_json(r, {.aiot_version = "9.9.9", .run_id = "", .fail_on = FailOn::error, .with_devices = true});
  CHECK(j["schema"] == "aiot.audit/v1");
  CHECK(j["statistics"]["records"] == 80);
  CHECK(j["statistics"]["malformed"] == 1);
  CHECK(j["malformed"]["examples"][0]["at"] == a + ":" + std::to_string(bad_at));
  CHECK(j["checks"].size() == k_check_count);
  CHECK(r.check(Check::MAL001).count == 1);
  CHECK(r.check(Check::MAL001).examples.at(0).offset == bad_at);
  json ts005;
  for (const auto& c : j["checks"])
    if (c["code"] == "TS005") ts005 = c;
  CHECK(ts005["outcome"] == "warn");
  CHECK(ts005["examples"][0]["at"].get<std::string>().rfind(a + ":", 0) == 0);
  CHECK(j["devices"].size() == 2);
  CHECK(j["verdict"] == "warn");
  CHECK(j["failed"] == false);
  CHECK(r.fails(FailOn::warn));
  CHECK_FALSE(r.fails(FailOn::never));
}

TEST_CASE("several inputs: records keep their input index; two shards audit like one file") {
  TempDir dir;
  std::string first, second;
  for (int m = 0; m < 30; ++m) (m < 15 ? first : second) += line("dev-1", m, 20 + m % 5);
  auto a = dir.write("part-0.ndjson", first);
  auto b = dir.write("part-1.ndjson", second);
  Policy policy;
  auto r = audit_files({dir.path.string()}, policy);
  REQUIRE(r.inputs.size() == 2);
  CHECK(r.inputs[0].name == a);
  CHECK(r.inputs[1].records == 15);
  CHECK(r.stats.records == 30);
  CHECK(r.check(Check::TS006).count == 0);
  CHECK(r.worst() == Outcome::pass);
}

TEST_CASE("an input that fails is reported and the audit goes on; a fatal error stops it") {
  Policy policy;
  auto make = [&](bool fatal) {
    AuditOptions o;
    o.inputs.resize(3);
    for (int i = 0; i < 3; ++i) o.inputs[i].name = fmt::format("in-{}", i);
    o.checks.policy = &policy;
    o.reader = [](std::size_t i, const BatchSink& sink) -> ReadStats {
      if (i == 1) throw aiot::Error::unavailable("blob gone");
      RecordBatch b;
      Record r;
      r.device_id = b.text.keep("dev-1");
      r.device_ts_ms = 1'795'000'000'000 + static_cast<std::int64_t>(i) * 60'000;
      r.input = static_cast<std::uint32_t>(i);
      b.records.push_back(r);
      sink(std::move(b));
      return {100, 1, 0, Format::ndjson, "ab"};
    };
    if (fatal) o.fatal = [](const aiot::Error& e) { return e.code() == aiot::ExitCode::unavailable; };
    return o;
  };
  auto r = run_audit(make(false));
  CHECK(r.stats.records == 2);
  CHECK(r.inputs[1].error == "blob gone");
  CHECK(r.inputs[1].error_code == 5);
  CHECK(r.inputs[2].records == 1);
  CHECK_THROWS_AS(run_audit(make(true)), aiot::Error);
}

TEST_CASE("the queue bounds what is in flight: a slow checker holds the reader back") {
  Policy policy;
  std::atomic<int> produced{0};
  std::atomic<int> max_ahead{0};
  std::atomic<int> consumed{0};
  AuditOptions o;
  o.inputs.resize(1);
  o.inputs[0].name = "many";
  o.checks.policy = &policy;
  o.queue_batches = 3;
  o.reader = [&](std::size_t, const BatchSink& sink) -> ReadStats {
    for (int i = 0; i < 200; ++i) {
      RecordBatch b;
      Record r;
      r.device_id = b.text.keep("dev-1");
      r.device_ts_ms = 1'795'000'000'000 + i * 60'000;
      b.records.push_back(r);
      b.bytes = 10;
      ++produced;
      sink(std::move(b));
      max_ahead = std::max(max_ahead.load(), produced.load() - consumed.load());
    }
    return {2000, 200, 0, Format::ndjson, ""};
  };
  o.progress = [&](std::uint64_t) { ++consumed; };
  auto r = run_audit(std::move(o));
  CHECK(r.stats.records == 200);
  CHECK(r.stats.bytes == 2000);
  // In the queue (3) + the one being checked + the one being pushed.
  CHECK(max_ahead.load() <= 5);
}

TEST_CASE("--window: FROM/TO, FROM/DURATION, ISO 8601 durations, and errors") {
  auto w = parse_window("2026-11-16T00:00:00Z/2026-11-23T00:00:00Z");
  CHECK(w.second - w.first == 7 * 86'400'000LL);
  CHECK(parse_window("2026-11-16T00:00Z/P7D") == w);
  CHECK(parse_window("2026-11-16T00:00:00Z/7d") == w);
  CHECK(parse_window("2026-11-16/PT6H").second - parse_window("2026-11-16/PT6H").first == 6 * 3'600'000LL);
  CHECK_THROWS_AS(parse_window("2026-11-16T00:00:00Z"), aiot::Error);
  CHECK_THROWS_AS(parse_window("yesterday/1d"), aiot::Error);
  CHECK_THROWS_AS(parse_window("2026-11-16T00:00:00Z/2026-11-15T00:00:00Z"), aiot::Error);
  CHECK_THROWS_AS(parse_window("2026-11-16T00:00:00Z/soon"), aiot::Error);
  CHECK(parse_fail_on("warn") == FailOn::warn);
  CHECK_FALSE(parse_fail_on("sometimes"));
}

TEST_CASE("audit_parse_threads: parsers only on the cores beyond the checks' two") {
  CHECK(aiot::lineage::audit_parse_threads(0) == 1);  // hardware_concurrency() unknown
  CHECK(aiot::lineage::audit_parse_threads(1) == 1);
  CHECK(aiot::lineage::audit_parse_threads(2) == 1);
  CHECK(aiot::lineage::audit_parse_threads(3) == 1);
  CHECK(aiot::lineage::audit_parse_threads(4) == 2);
  CHECK(aiot::lineage::audit_parse_threads(8) == 6);
  CHECK(aiot::lineage::audit_parse_threads(64) == 8);
}
