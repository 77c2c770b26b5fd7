#include <doctest/doctest.h>

#include <avro.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "aiot/core/error.hpp"
#include "aiot/core/time.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/export_writers.hpp"
#include "aiot/sim/simulator.hpp"
#include "aiot/sim/telemetry.hpp"
#include "support/harness.hpp"

using namespace aiot;
using nlohmann::json;
using Hub = aiot::hub::local::LocalHub;

namespace {

Clock fixed_clock() {
  auto t = test::fixed_now();
  return [t] { return t; };
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string gunzip(const std::filesystem::path& p) {
  gzFile f = gzopen(p.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string out;
  char buf[65536];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

std::int64_t ms_of(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  REQUIRE_MESSAGE(t.has_value(), rfc3339);
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

// A fleet built by hand: no hub needed for the generator itself.
sim::FleetSnapshot small_fleet(std::size_t n) {
  sim::FleetSnapshot f;
  f.profile = sim::Profile::builtin();
  f.seed = 7;
  f.now = test::fixed_now();
  const char* sites[] = {"berlin", "paris", "madrid", "tokyo"};
  const char* hws[] = {"pi4", "pi5", "jetson-nano"};
  for (std::size_t i = 1; i <= n; ++i) {
    sim::FleetDevice d;
    d.id = fmt::format("dev-{:05}", i);
    d.site = sites[i % 4];
    d.region = f.profile.region_of(d.site);
    d.hw = hws[i % 3];
    d.model_name = "detector";
    d.running = "2.0";
    f.devices.push_back(d);
  }
  return f;
}

sim::DefectSpec every_class(std::size_t count) {
  sim::DefectSpec d;
  for (const auto& c : sim::defect_classes()) d[c.id] = {.rate = 0, .count = count};
  d[sim::DefectClass::clock_skew] = {.rate = 0, .count = 3};
  d[sim::DefectClass::unregistered] = {.rate = 0, .count = 2};
  return d;
}

// The counting rules of docs/telemetry-generator.md, applied to NDJSON lines: what a correct
// audit finds, per check code.
struct Audit {
  std::map<std::string, std::uint64_t> by_code;
  std::uint64_t missing_records = 0, out_of_order = 0, records = 0, values_checked = 0;
};

Audit audit_ndjson(const std::vector<std::string>& lines, const std::set<std::string>& registry, std::int64_t interval_ms) {
  Audit a;
  struct DeviceState {
    bool has = false;
    std::int64_t max_seq = 0, max_ts = 0;
    std::vector<double> clock_offsets;
    std::map<std::string, std::vector<double>> values;  // sequential, per field
  };
  std::map<std::string, DeviceState> devices;
  std::set<std::string> seen;
  const std::map<std::string, std::pair<double, double>> ranges = {
      {"temperature", {-40, 85}}, {"humidity", {0, 100}},  {"vibration", {0, 50}},      {"inferences", {0, 1e7}},
      {"confidence", {0, 1}},     {"prediction", {0, 1}},  {"latency_ms", {0, 60000}}};
  for (const auto& line : lines) {
    if (line.empty()) continue;
    json r = json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object()) {
      ++a.by_code["MAL001"];
      continue;
    }
    ++a.records;
    auto dev = r["deviceId"].get<std::string>();
    if (!registry.count(dev)) {
      ++a.by_code["REG001"];
      continue;
    }
    auto id = r["messageId"].get<std::string>();
    if (!seen.insert(id).second) {
      ++a.by_code["TS005"];
      continue;
    }
    auto& d = devices[dev];
    auto ts = ms_of(r["ts"]);
    auto hub = ms_of(r["enqueuedTime"]);
    std::int64_t seq = r["seq"];
    d.clock_offsets.push_back(static_cast<double>(hub - ts));
    if (hub - ts > 15 * 60'000) ++a.by_code["TS007"];
    if (r["modelVersion"] != "2.0") ++a.by_code["ATT002"];  // every device runs 2.0 here
    bool schema_ok = r["schema"] == "telemetry/v1";
    if (!schema_ok) ++a.by_code["SCH001"];
    if (ts > hub + 5 * 60'000) {
      ++a.by_code["TS002"];
      continue;  // no ordering, gap or field state from a future timestamp
    }
    bool sequential = true;
    if (d.has && seq < d.max_seq) {
      ++a.out_of_order;
      sequential = false;
    } else if (d.has && ts < d.max_ts) {
      ++a.by_code["TS004"];
    } else if (d.has && static_cast<double>(ts - d.max_ts) > 1.5 * static_cast<double>(interval_ms)) {
      ++a.by_code["TS006"];
      a.missing_records += static_cast<std::uint64_t>(std::llround(static_cast<double>(ts - d.max_ts) / static_cast<double>(interval_ms))) - 1;
    }
    d.has = true;
    d.max_seq = std::max(d.max_seq, seq);
    d.max_ts = std::max(d.max_ts, ts);
    if (!schema_ok) continue;
    for (const auto& [name, range] : ranges) {
      if (!r.contains(name) || r[name].is_null()) {
        ++a.by_code["CMP001"];
        continue;
      }
      double v = r[name];
      bool bad = v < range.first || v > range.second || (name == "prediction" && v != 0 && v != 1);
      if (bad) {
        ++a.by_code["RNG001"];
        continue;
      }
      if (sequential && name != "prediction") d.values[name].push_back(v);
    }
  }
  for (auto& [dev, d] : devices) {
    auto offsets = d.clock_offsets;
    std::nth_element(offsets.begin(), offsets.begin() + static_cast<long>(offsets.size() / 2), offsets.end());
    if (std::abs(offsets[offsets.size() / 2]) > 30'000) ++a.by_code["TS003"];
    for (auto& [name, vs] : d.values) {
      // STK001: runs of >= 10 equal consecutive values.
      std::size_t run = 1;
      for (std::size_t i = 1; i <= vs.size(); ++i) {
        if (i < vs.size() && vs[i] == vs[i - 1]) {
          ++run;
          continue;
        }
        if (run >= 10) ++a.by_code["STK001"];
        run = 1;
      }
      // OUT001: robust z over the device's window.
      auto sorted = vs;
      std::sort(sorted.begin(), sorted.end());
      double median = sorted[sorted.size() / 2];
      std::vector<double> dev_abs;
      for (double v : vs) dev_abs.push_back(std::abs(v - median));
      std::sort(dev_abs.begin(), dev_abs.end());
      double mad = dev_abs[dev_abs.size() / 2];
      if (mad == 0) continue;
      a.values_checked += vs.size();
      for (double v : vs) {
        bool out = std::abs(0.6745 * (v - median) / mad) > 3.5;
        a.by_code["OUT001"] += out ? 1 : 0;
      }
    }
  }
  return a;
}

json read_manifest(const std::filesystem::path& out) { return json::parse(slurp(out / "manifest.json")); }

std::map<std::string, std::uint64_t> expected_by_code(const json& manifest) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [code, n] : manifest["expectedByCode"].items()) {
    if (code == "OUT001") {
      CHECK(n.is_null());  // the one class with a tolerance
      continue;
    }
    REQUIRE_MESSAGE(!n.is_null(), code);
    out[code] = n.get<std::uint64_t>();
  }
  return out;
}

}  // namespace

TEST_CASE("sim telemetry: parsing of formats, defect files, drift and bias") {
  CHECK(sim::parse_export_format("iothub-avro") == sim::ExportFormat::iothub_avro);
  CHECK_FALSE(sim::parse_export_format("parquet"));

  auto d = sim::parse_defects("duplicate: {count: 5}\nTS002: 0.01\ngap: {rate: 0.002}\n", "defects.yaml");
  CHECK(d.at(sim::DefectClass::duplicate).count == 5u);
  CHECK(d.at(sim::DefectClass::future_timestamp).rate == doctest::Approx(0.01));
  CHECK(d.at(sim::DefectClass::gap).rate == doctest::Approx(0.002));
  CHECK_THROWS_WITH_AS(sim::parse_defects("dupes: 1\n", "d.yaml"), doctest::Contains("d.yaml:1:1"), Error);
  CHECK_THROWS_AS(sim::parse_defects("gap: {count: 1.5}\n", "d.yaml"), Error);
  CHECK_THROWS_AS(sim::parse_defects("gap: 2\n", "d.yaml"), Error);

  auto all = sim::defects_at_rate(0.001);
  CHECK(all.size() == sim::defect_classes().size());
  CHECK(all.at(sim::DefectClass::clock_skew).rate == doctest::Approx(0.01));
  CHECK_THROWS_AS(sim::defects_at_rate(0.5), Error);

  auto drift = sim::parse_drift("temperature:+3sd@2026-11-20T00:00:00Z");
  CHECK(drift.field == "temperature");
  CHECK(drift.in_sd);
  CHECK(drift.shift == doctest::Approx(3));
  REQUIRE(drift.from);
  auto by_version = sim::parse_drift("latency_ms:-12.5@version=2.2");
  CHECK_FALSE(by_version.in_sd);
  CHECK(by_version.shift == doctest::Approx(-12.5));
  CHECK(by_version.version == "2.2");
  CHECK_THROWS_AS(sim::parse_drift("prediction:+1sd"), Error);
  CHECK_THROWS_AS(sim::parse_drift("temperature:+3sd@yesterday"), Error);

  auto bias = sim::parse_bias("site=madrid:0.6");
  CHECK(bias.key == "site");
  CHECK(bias.value == "madrid");
  CHECK(bias.strength == doctest::Approx(0.6));
  CHECK_THROWS_AS(sim::parse_bias("colour=red"), Error);
  CHECK_THROWS_AS(sim::parse_bias("site=madrid:2"), Error);
}

TEST_CASE("sim telemetry: the manifest's expected counts are what the files hold, under the counting rules") {
  test::TempDir dir;
  auto fleet = small_fleet(40);
  fleet.devices[5].enabled = false;  // still sends: REG002
  sim::TelemetrySpec spec;
  spec.out = dir / "out";
  spec.window = std::chrono::hours(12);
  spec.interval = std::chrono::minutes(5);
  spec.defects = every_class(6);
  auto r = sim::write_telemetry(fleet, spec);
  CHECK(r.warnings.empty());
  auto m = read_manifest(spec.out);
  CHECK(m["schema"] == "aiot.telemetry-manifest/v1");
  CHECK(m["parameters"]["windowEnd"] == "2026-11-23T09:00:00.000Z");
  CHECK(m["parameters"]["windowStart"] == "2026-11-22T21:00:00.000Z");
  REQUIRE(m["files"].size() == 1);
  CHECK(m["files"][0]["path"] == "data/telemetry.ndjson");

  auto text = slurp(spec.out / "data/telemetry.ndjson");
  CHECK(m["files"][0]["bytes"] == text.size());
  std::set<std::string> registry;
  for (const auto& d : fleet.devices) registry.insert(d.id);
  auto lines = lines_of(text);
  auto audit = audit_ndjson(lines, registry, spec.interval.count());

  // Every class planted as asked (two malformed classes share MAL001).
  for (const auto& c : m["defects"]) {
    if (c["code"] == "REG002") continue;
    auto cls = c["class"].get<std::string>();
    std::uint64_t asked = cls == "clock_skew" ? 3 : cls == "unregistered" ? 2 : 6;
    CHECK_MESSAGE(c["planted"] == asked, cls);
    CHECK_MESSAGE(c["examples"].size() == asked, cls);
  }
  auto expected = expected_by_code(m);
  CHECK(expected["REG002"] > 0);
  expected.erase("REG002");  // the sketch audit above does not look at registry status
  for (const auto& [code, n] : expected) CHECK_MESSAGE(audit.by_code[code] == n, code);
  for (const auto& [code, n] : audit.by_code) {
    if (code != "OUT001") CHECK_MESSAGE(expected.count(code) == 1, "unexpected findings: " << code);
  }
  // OUT001 within its stated tolerance: every planted one, natural ones <= 0.1% of the values.
  CHECK(audit.by_code["OUT001"] >= 6);
  CHECK(audit.by_code["OUT001"] - 6 <= audit.values_checked / 1000);
  for (const auto& c : m["defects"]) {
    if (c["class"] == "gap") CHECK(audit.missing_records == c["missingRecords"]);
    if (c["class"] == "late_arrival") CHECK(audit.out_of_order == c["outOfOrderArrivals"]);
  }
  CHECK(audit.records == m["totals"]["records"]);
  CHECK(m["totals"]["malformedLines"] == 12);

  // Each example points at its record: the line at that offset carries the messageId.
  for (const auto& c : m["defects"]) {
    for (const auto& e : c["examples"]) {
      auto offset = e["offset"].get<std::size_t>();
      auto line = text.substr(offset, text.find('\n', offset) - offset);
      if (c["code"] == "MAL001") {
        CHECK(json::parse(line, nullptr, false).is_discarded());
      } else {
        CHECK_MESSAGE(line.find(e["messageId"].get<std::string>()) != std::string::npos, c["class"]);
      }
    }
  }
  // The ground truth lists every instance.
  auto truth = lines_of(slurp(spec.out / "truth/defects.jsonl"));
  CHECK(truth.size() == m["truth"]["defects"]["instances"]);
  std::size_t planted = 0;
  for (const auto& c : m["defects"]) planted += c["planted"].get<std::size_t>();
  CHECK(truth.size() == planted);
  auto versions = lines_of(slurp(spec.out / "truth/versions.jsonl"));
  CHECK(versions.size() == 40);
  CHECK(json::parse(versions[0])["versions"][0]["version"] == "2.0");

  // Attribution: every registered record ran 2.0; the wrong-version ones claim another.
  CHECK(m["attribution"]["byTrueVersion"] == json{{"2.0", m["totals"]["records"].get<std::uint64_t>() -
                                                                m["defects"][11]["records"].get<std::uint64_t>()}});
  std::uint64_t claimed_other = 0;
  for (const auto& [v, n] : m["attribution"]["byClaimedVersion"].items()) claimed_other += v == "2.0" ? 0 : n.get<std::uint64_t>();
  CHECK(claimed_other == 6);

  SUBCASE("the same inputs give the same bytes; --force replaces, without it the output is kept") {
    CHECK_THROWS_AS(sim::write_telemetry(fleet, spec), Error);
    spec.force = true;
    sim::write_telemetry(fleet, spec);
    CHECK(slurp(spec.out / "data/telemetry.ndjson") == text);
    CHECK(read_manifest(spec.out) == m);
    spec.seed = 99;
    sim::write_telemetry(fleet, spec);
    CHECK(slurp(spec.out / "data/telemetry.ndjson") != text);
  }
}

TEST_CASE("sim telemetry: every format parses and holds the manifest's records") {
  test::TempDir dir;
  auto fleet = small_fleet(12);
  sim::DefectSpec defects;
  defects[sim::DefectClass::duplicate] = {.rate = 0, .count = 3};
  defects[sim::DefectClass::truncated_line] = {.rate = 0, .count = 2};
  defects[sim::DefectClass::binary_blob] = {.rate = 0, .count = 2};
  defects[sim::DefectClass::missing_field] = {.rate = 0, .count = 4};

  for (auto format : {sim::ExportFormat::csv, sim::ExportFormat::iothub_json, sim::ExportFormat::iothub_avro,
                      sim::ExportFormat::aws_s3_json}) {
    for (bool gzip : {false, true}) {
      CAPTURE(sim::to_string(format));
      CAPTURE(gzip);
      sim::TelemetrySpec spec;
      spec.out = dir / fmt::format("{}-{}", sim::to_string(format), gzip);
      spec.format = format;
      spec.gzip = gzip;
      spec.window = std::chrono::hours(2);
      spec.interval = std::chrono::minutes(1);
      spec.batch = std::chrono::minutes(30);
      spec.defects = defects;
      auto r = sim::write_telemetry(fleet, spec);
      auto m = read_manifest(spec.out);
      std::uint64_t records = 0, malformed = 0;
      std::set<std::string> ids;
      for (const auto& f : m["files"]) {
        auto path = spec.out / f["path"].get<std::string>();
        CHECK(std::filesystem::file_size(path) == f["bytes"]);
        std::uint64_t in_file = 0, bad_in_file = 0;
        if (format == sim::ExportFormat::iothub_avro) {
          CHECK(f["path"].get<std::string>().find("data/aiot-sim/") == 0);
          auto bytes = gzip ? gunzip(path) : slurp(path);
          CHECK(bytes.substr(0, 4) == std::string("Obj\x01", 4));
          auto plain = dir / "plain.avro";
          std::ofstream(plain, std::ios::binary) << bytes;
          avro_file_reader_t reader;
          REQUIRE(avro_file_reader(plain.c_str(), &reader) == 0);
          auto schema = avro_file_reader_get_writer_schema(reader);
          CHECK(std::string(avro_schema_name(schema)) == "Message");
          auto iface = avro_generic_class_from_schema(schema);
          avro_value_t value;
          avro_generic_value_new(iface, &value);
          while (avro_file_reader_read_value(reader, &value) == 0) {
            avro_value_t field, branch, element;
            avro_value_get_by_name(&value, "SystemProperties", &field, nullptr);
            REQUIRE(avro_value_get_by_name(&field, "messageId", &element, nullptr) == 0);
            const char* id = nullptr;
            std::size_t len = 0;
            avro_value_get_string(&element, &id, &len);
            ids.insert(id);
            avro_value_get_by_name(&value, "Body", &field, nullptr);
            avro_value_get_current_branch(&field, &branch);
            const void* body = nullptr;
            avro_value_get_bytes(&branch, &body, &len);
            auto payload = json::parse(std::string(static_cast<const char*>(body), len));
            CHECK(payload["schema"] == "telemetry/v1");
            ++in_file;
          }
          avro_value_decref(&value);
          avro_value_iface_decref(iface);
          avro_schema_decref(schema);  // get_writer_schema hands out a reference
          avro_file_reader_close(reader);
        } else {
          auto text = gzip ? gunzip(path) : slurp(path);
          auto lines = lines_of(text);
          if (format == sim::ExportFormat::csv) {
            REQUIRE_FALSE(lines.empty());
            CHECK(lines[0].rfind("deviceId,messageId,ts,enqueuedTime,schema,model,modelVersion,seq,", 0) == 0);
            for (std::size_t i = 1; i < lines.size(); ++i) {
              auto cells = std::count(lines[i].begin(), lines[i].end(), ',');
              if (cells == 14 && lines[i].rfind("dev-", 0) == 0) {
                ++in_file;
                ids.insert(lines[i].substr(10, 36));
              } else {
                ++bad_in_file;
              }
            }
          } else {
            REQUIRE_FALSE(lines.empty());
            CHECK_FALSE(json::parse(lines[0], nullptr, false).is_discarded());  // readers sniff the first line
            for (const auto& line : lines) {
              auto j = json::parse(line, nullptr, false);
              if (j.is_discarded()) {
                ++bad_in_file;
                continue;
              }
              ++in_file;
              if (format == sim::ExportFormat::iothub_json) {
                CHECK(j["SystemProperties"]["contentType"] == "application/json");
                CHECK(j["Body"]["deviceId"] == j["SystemProperties"]["connectionDeviceId"]);
                CHECK(json::parse(j["SystemProperties"]["connectionAuthMethod"].get<std::string>())["type"] == "sas");
                ids.insert(j["SystemProperties"]["messageId"].get<std::string>());
              } else {
                CHECK(j["topic"] == "aiot/" + j["clientId"].get<std::string>() + "/telemetry");
                CHECK(j["receivedAt"].is_number_integer());
                ids.insert(j["messageId"].get<std::string>());
              }
            }
          }
        }
        CHECK(in_file == f["records"]);
        CHECK(bad_in_file == f["malformed"]);
        records += in_file;
        malformed += bad_in_file;
      }
      CHECK(records == r.records);
      CHECK(records == m["totals"]["records"]);
      CHECK(ids.size() == records - 3);  // three resent duplicates
      CHECK(malformed == (format == sim::ExportFormat::iothub_avro ? 0u : 4u));
      if (format == sim::ExportFormat::iothub_json || format == sim::ExportFormat::iothub_avro) {
        CHECK(m["files"].size() >= 4);  // four partitions x four half-hour batches, some empty
        CHECK(m["files"][0]["path"].get<std::string>().find("/2026/11/23/") != std::string::npos);
      }
      if (format == sim::ExportFormat::aws_s3_json) {
        CHECK(m["files"][0]["path"].get<std::string>().rfind("data/2026/11/23/07/aiot-telemetry-1-2026-11-23-07-00-00-", 0) == 0);
      }
      // Reproducible, Avro's sync markers included.
      auto first = slurp(spec.out / m["files"][0]["path"].get<std::string>());
      spec.force = true;
      sim::write_telemetry(fleet, spec);
      CHECK(slurp(spec.out / m["files"][0]["path"].get<std::string>()) == first);
    }
  }
}

TEST_CASE("sim telemetry: drift, bias and labels") {
  test::TempDir dir;
  auto fleet = small_fleet(24);
  sim::TelemetrySpec spec;
  spec.out = dir / "out";
  spec.window = std::chrono::hours(24);
  spec.interval = std::chrono::minutes(10);
  spec.drifts = {sim::parse_drift("temperature:+3sd@2026-11-23T03:00:00Z")};
  spec.biases = {sim::parse_bias("site=madrid:0.5")};
  spec.labels = dir / "labels.jsonl";
  spec.label_rate = 0.5;
  sim::write_telemetry(fleet, spec);
  auto m = read_manifest(spec.out);
  CHECK(m["scenario"]["drift"][0]["shift"] == doctest::Approx(12.0));  // 3 x the nominal 4 degC

  std::map<std::string, std::string> site_of;
  for (const auto& d : fleet.devices) site_of[d.id] = d.site;
  std::map<std::string, json> by_id;
  double before = 0, after = 0;
  int n_before = 0, n_after = 0;
  for (const auto& line : lines_of(slurp(spec.out / "data/telemetry.ndjson"))) {
    auto j = json::parse(line);
    by_id[j["messageId"].get<std::string>()] = j;
    if (ms_of(j["ts"]) < ms_of("2026-11-23T03:00:00Z")) {
      before += j["temperature"].get<double>();
      ++n_before;
    } else {
      after += j["temperature"].get<double>();
      ++n_after;
    }
  }
  CHECK(after / n_after - before / n_before > 8);
  CHECK(m["scenario"]["drift"][0]["records"] == n_after);

  // Labels: a sample, joined to predictions: the biased site has a worse TPR.
  auto labels = lines_of(slurp(spec.labels));
  CHECK(labels.size() == m["labels"]["records"]);
  CHECK(labels.size() > 1000);
  std::map<bool, std::array<int, 2>> positives;  // biased? -> {predicted 1, all}
  for (const auto& line : labels) {
    auto l = json::parse(line);
    auto& rec = by_id.at(l["messageId"].get<std::string>());
    CHECK(rec["ts"] == l["ts"]);
    CHECK(rec["deviceId"] == l["deviceId"]);
    if (l["label"] == 1) {
      auto& p = positives[site_of[l["deviceId"].get<std::string>()] == "madrid"];
      p[0] += rec["prediction"].get<int>();
      ++p[1];
    }
  }
  double tpr_biased = double(positives[true][0]) / positives[true][1];
  double tpr_other = double(positives[false][0]) / positives[false][1];
  CHECK(tpr_other > 0.8);
  CHECK(tpr_biased < 0.6);
  auto biased = m["scenario"]["confusion"]["biased"];
  CHECK(biased["tp"].get<double>() / (biased["tp"].get<double>() + biased["fn"].get<double>()) < 0.6);
}

TEST_CASE("sim telemetry: records carry the version the device ran, around an install time") {
  test::TempDir dir;
  Hub hub(dir / "hub.db", fixed_clock());
  sim::Simulator::create_fleet(hub, {.devices = 6, .seed = 3});
  hub::DeviceUpdate u;
  u.id = "dev-00002";
  u.desired_patch = {{"aiot",
                      {{"model",
                        {{"name", "detector"},
                         {"version", "2.2"},
                         {"uri", sim::artifact_uri("detector", "2.2")},
                         {"sha256", sim::artifact_sha256("detector", "2.2")}}}}}};
  auto simulator = sim::Simulator::open(hub);
  simulator.advance(std::chrono::hours(1));
  hub.update(u);
  simulator.advance(std::chrono::hours(2));

  auto fleet = sim::load_fleet(hub);
  REQUIRE(fleet.installs.size() == 1);
  const auto& install = fleet.installs[0];
  CHECK(install.device_id == "dev-00002");
  CHECK(install.from_version == "2.0");
  CHECK(install.to_version == "2.2");
  CHECK(install.succeeded);
  CHECK(install.started == test::fixed_now() + std::chrono::hours(1));
  CHECK(install.done > install.started);
  CHECK(sim::version_at(fleet.installs, "2.2", install.done - std::chrono::seconds(1)) == "2.0");
  CHECK(sim::version_at(fleet.installs, "2.2", install.done) == "2.2");

  sim::TelemetrySpec spec;
  spec.out = dir / "out";
  spec.window = std::chrono::hours(3);
  spec.interval = std::chrono::seconds(30);
  sim::write_telemetry(fleet, spec);
  auto done_ms = std::chrono::duration_cast<std::chrono::milliseconds>(install.done.time_since_epoch()).count();
  int old_version = 0, new_version = 0;
  for (const auto& line : lines_of(slurp(spec.out / "data/telemetry.ndjson"))) {
    auto j = json::parse(line);
    if (j["deviceId"] != "dev-00002") {
      CHECK(j["modelVersion"] == "2.0");
      continue;
    }
    // ts is the device clock (within a second of the truth here): stay clear of the instant itself.
    auto ts = ms_of(j["ts"]);
    if (std::llabs(ts - done_ms) < 2000) continue;
    if (ts < done_ms) {
      CHECK(j["modelVersion"] == "2.0");
      ++old_version;
    } else {
      CHECK(j["modelVersion"] == "2.2");
      ++new_version;
    }
  }
  CHECK(old_version > 100);
  CHECK(new_version > 100);
  auto m = read_manifest(spec.out);
  CHECK(m["fleet"]["historySince"].is_null());
  auto versions = lines_of(slurp(spec.out / "truth/versions.jsonl"));
  auto dev2 = json::parse(versions[1]);
  CHECK(dev2["deviceId"] == "dev-00002");
  REQUIRE(dev2["versions"].size() == 2);
  CHECK(dev2["versions"][1]["version"] == "2.2");
  CHECK(ms_of(dev2["versions"][1]["from"]) == done_ms);

  SUBCASE("with every defect planted, attribution by device time finds exactly the ATT002 records") {
    spec.force = true;
    spec.defects = every_class(4);
    sim::write_telemetry(fleet, spec);
    auto mm = read_manifest(spec.out);
    for (const auto& line : lines_of(slurp(spec.out / "truth/defects.jsonl"))) {
      auto d = json::parse(line);
      if (d["device"] == "dev-00002") CHECK(std::llabs(ms_of(d["ts"]) - done_ms) >= 3'600'000);
    }
    std::uint64_t mismatches = 0;
    for (const auto& line : lines_of(slurp(spec.out / "data/telemetry.ndjson"))) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_discarded() || j["deviceId"].get<std::string>().rfind("dev-", 0) != 0) continue;
      auto ts = ms_of(j["ts"]);
      if (ts > ms_of(j["enqueuedTime"]) + 5 * 60'000) continue;  // TS002 records are not attributed
      std::string ledger = j["deviceId"] == "dev-00002" && ts >= done_ms ? "2.2" : "2.0";
      mismatches += j["modelVersion"] != ledger ? 1 : 0;
    }
    CHECK(mm["expectedByCode"]["ATT002"] == 4);
    CHECK(mismatches == 4);
  }
}
