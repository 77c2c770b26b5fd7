// Telemetry readers: every format on small hand-built inputs, detection, malformed input with exact
// input:offset, flattening, gzip, batching and hashing. Avro files are written here with Avro C.
#include <avro.h>
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/lineage/read_internal.hpp"
#include "aiot/lineage/readers.hpp"

using namespace aiot::lineage;
namespace stdfs = std::filesystem;

namespace {

constexpr std::int64_t k_t0 = 1795168800000;  // 2026-11-20T10:00:00Z in epoch ms

struct Collected {
  std::vector<RecordBatch> batches;
  std::vector<const Record*> records;
  std::vector<Malformed> malformed;
  ReadStats stats;

  const Field* field(const Record& r, std::string_view name) const {
    for (const auto& b : batches) {
      if (!b.records.empty() && &r >= b.records.data() && &r < b.records.data() + b.records.size()) {
        for (std::uint32_t i = 0; i < r.field_count; ++i) {
          if (b.fields[r.field_begin + i].name == name) {
            return &b.fields[r.field_begin + i];
          }
        }
      }
    }
    return nullptr;
  }
  std::vector<std::string> field_names(const Record& r) const {
    std::vector<std::string> names;
    for (const auto& b : batches) {
      if (!b.records.empty() && &r >= b.records.data() && &r < b.records.data() + b.records.size()) {
        for (std::uint32_t i = 0; i < r.field_count; ++i) {
          names.emplace_back(b.fields[r.field_begin + i].name);
        }
      }
    }
    return names;
  }
};

Collected read_bytes(std::string bytes, ReadOptions opt = {}, std::uint32_t input = 7) {
  Collected c;
  auto source = open_memory(std::move(bytes));
  c.stats = read_source(*source, input, opt, [&](RecordBatch&& b) { c.batches.push_back(std::move(b)); });
  for (const auto& b : c.batches) {
    for (const auto& r : b.records) {
      c.records.push_back(&r);
    }
    for (const auto& m : b.malformed) {
      c.malformed.push_back(m);
    }
  }
  return c;
}

std::string gzip(std::string_view data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct TempDir {
  stdfs::path path;
  TempDir() {
    std::random_device rd;
    path = stdfs::temp_directory_path() / ("aiot-readers-" + std::to_string(rd()) + std::to_string(rd()));
    stdfs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path, ec);
  }
  stdfs::path write(const std::string& rel, std::string_view content) const {
    const auto p = path / rel;
    stdfs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

std::string read_file_bytes(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::string k_line1 =
    R"({"deviceId":"dev-00001","messageId":"m-1","ts":"2026-11-20T10:00:00.000Z","enqueuedTime":"2026-11-20T10:00:01.250Z",)"
    R"("schema":"telemetry/v1","model":"detector","modelVersion":"2.0","seq":17,"temperature":21.5,"vibration":0.12,)"
    R"("inferences":60,"confidence":0.91,"prediction":1})";

}  // namespace

TEST_CASE("format names round-trip and unknown names are usage errors listing the valid ones") {
  for (const auto f : {Format::auto_detect, Format::ndjson, Format::csv, Format::iothub_json, Format::iothub_avro,
                       Format::aws_s3_json}) {
    CHECK(parse_format(to_string(f)) == f);
  }
  CHECK(to_string(Format::iothub_avro) == "iothub-avro");
  CHECK(to_string(Format::auto_detect) == "auto");
  try {
    parse_format("parquet");
    FAIL("no error");
  } catch (const aiot::Error& e) {
    CHECK(e.code() == aiot::ExitCode::usage);
    CHECK(std::string(e.message()).find("parquet") != std::string::npos);
    CHECK(e.hint() == "valid formats: auto, ndjson, csv, iothub-json, iothub-avro, aws-s3-json");
  }
}

TEST_CASE("UTC timestamps: RFC 3339 with Z or +00:00, any fraction; other offsets are not UTC") {
  using detail::parse_utc_ms;
  CHECK(parse_utc_ms("2026-11-20T10:00:00Z") == k_t0);
  CHECK(parse_utc_ms("2026-11-20T10:00:01.250Z") == k_t0 + 1250);
  CHECK(parse_utc_ms("2026-11-20T10:00:01.2500000Z") == k_t0 + 1250);
  CHECK(parse_utc_ms("2026-11-20T10:00:01.9+00:00") == k_t0 + 1900);
  CHECK(parse_utc_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_utc_ms("2024-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_utc_ms("2026-02-29T00:00:00Z").has_value());
  CHECK_FALSE(parse_utc_ms("2026-11-20T10:00:00+01:00").has_value());
  CHECK_FALSE(parse_utc_ms("2026-11-20T10:00:00").has_value());
  CHECK_FALSE(parse_utc_ms("2026-13-20T10:00:00Z").has_value());
  CHECK_FALSE(parse_utc_ms("yesterday").has_value());
  CHECK_FALSE(parse_utc_ms("2026-11-20T10:00:00.Z").has_value());
}

TEST_CASE("ndjson: lifted keys become record attributes, the rest fields") {
  const std::string text = k_line1 + "\n" + R"({"device_id":"dev-00002","ts":1795168800500,"seq":"x","temperature":-3})" + "\n";
  const auto c = read_bytes(text);
  CHECK(c.stats.detected == Format::ndjson);
  CHECK(c.stats.records == 2);
  CHECK(c.stats.malformed == 0);
  CHECK(c.stats.bytes == text.size());
  REQUIRE(c.records.size() == 2);
  const Record& r = *c.records[0];
  CHECK(r.input == 7);
  CHECK(r.offset == 0);
  CHECK(r.device_id == "dev-00001");
  CHECK(r.message_id == "m-1");
  CHECK(r.device_ts_ms == k_t0);
  CHECK(r.hub_ts_ms == k_t0 + 1250);
  CHECK_FALSE(r.device_ts_invalid);
  CHECK(r.schema_id == "telemetry/v1");
  CHECK(r.model_name == "detector");
  CHECK(r.model_version == "2.0");
  CHECK(r.seq == 17);
  CHECK(r.auth_method.empty());
  CHECK(c.field_names(r) == std::vector<std::string>{"temperature", "vibration", "inferences", "confidence", "prediction"});
  CHECK(c.field(r, "temperature")->number == 21.5);
  CHECK(c.field(r, "temperature")->kind == Field::Kind::number);
  CHECK(c.field(r, "inferences")->number == 60);

  const Record& r2 = *c.records[1];
  CHECK(r2.offset == k_line1.size() + 1);
  CHECK(r2.device_id == "dev-00002");
  CHECK(r2.device_ts_ms == k_t0 + 500);
  CHECK_FALSE(r2.hub_ts_ms.has_value());
  CHECK(r2.seq == -1);  // "x" is not a sequence number: kept as a field
  CHECK(c.field(r2, "seq")->text == "x");
  CHECK(c.field(r2, "temperature")->number == -3);
}

TEST_CASE("ndjson: nested objects flatten with dots, arrays stay raw text, booleans and nulls keep their kind") {
  const auto c = read_bytes(
      R"({"deviceId":"d","env":{"temp":21,"inner":{"ok":true}},"tags":["a", {"b":2}],"note":null,"s":"x\"y","modelVersion":3,"after":false})"
      "\n");
  REQUIRE(c.records.size() == 1);
  const Record& r = *c.records[0];
  CHECK(c.field_names(r) == std::vector<std::string>{"env.temp", "env.inner.ok", "tags", "note", "s", "after"});
  CHECK(c.field(r, "env.temp")->number == 21);
  CHECK(c.field(r, "env.inner.ok")->kind == Field::Kind::boolean);
  CHECK(c.field(r, "env.inner.ok")->number == 1);
  CHECK(c.field(r, "tags")->kind == Field::Kind::text);
  CHECK(c.field(r, "tags")->text == R"(["a", {"b":2}])");
  CHECK(c.field(r, "note")->kind == Field::Kind::null);
  CHECK(c.field(r, "s")->text == "x\"y");
  CHECK(c.field(r, "after")->number == 0);
  CHECK(r.model_version == "3");
}

TEST_CASE("payload hash: same fields hash the same whatever the ids and clocks; a changed value does not") {
  const auto c = read_bytes(
      R"({"deviceId":"d","messageId":"a","ts":"2026-11-20T10:00:00Z","t":1.5,"u":"x"})"
      "\n"
      R"({"deviceId":"d","messageId":"b","ts":"2026-11-20T10:00:00Z","t":1.50,"u":"x","enqueuedTime":"2026-11-20T10:00:05Z"})"
      "\n"
      R"({"deviceId":"d","messageId":"c","ts":"2026-11-20T10:00:00Z","t":1.6,"u":"x"})"
      "\n");
  REQUIRE(c.records.size() == 3);
  CHECK(c.records[0]->payload_hash == c.records[1]->payload_hash);
  CHECK(c.records[0]->payload_hash != c.records[2]->payload_hash);
}

TEST_CASE("ndjson: bad device timestamps are kept as TS001 material, not malformed") {
  const auto c = read_bytes(
      R"({"deviceId":"a","ts":"2026-13-45T99:00:00Z"})"
      "\n"
      R"({"deviceId":"b","ts":"2026-11-20T11:00:00+01:00"})"
      "\n"
      R"({"deviceId":"c","ts":true})"
      "\n"
      R"({"deviceId":"d","timestamp":"2026-11-20T10:00:00Z"})"
      "\n");
  CHECK(c.stats.malformed == 0);
  REQUIRE(c.records.size() == 4);
  CHECK(c.records[0]->device_ts_invalid);
  CHECK_FALSE(c.records[0]->device_ts_ms.has_value());
  CHECK(c.records[0]->device_ts_text == "2026-13-45T99:00:00Z");
  CHECK(c.records[1]->device_ts_invalid);
  CHECK(c.records[1]->device_ts_text == "2026-11-20T11:00:00+01:00");
  CHECK(c.records[2]->device_ts_invalid);
  CHECK(c.records[2]->device_ts_text == "true");
  CHECK_FALSE(c.records[3]->device_ts_invalid);
  CHECK(c.records[3]->device_ts_ms == k_t0);
}

TEST_CASE("ndjson: malformed lines are reported at input:offset and reading goes on") {
  const std::string good = R"({"deviceId":"a","seq":1})";
  const std::string truncated = R"({"deviceId":"b","ts":)";
  const std::string garbage = std::string("\x00\xff\xfe\x01\x02garbage", 12);
  const std::string array = "[1,2]";
  const std::string trailing = R"({"deviceId":"c"} xyz)";
  const std::string unclosed = R"({"deviceId":"d)";
  const std::string text = good + "\n" + truncated + "\n" + garbage + "\n" + array + "\n\n" + unclosed + "\n" + trailing +
                           "\r\n" + good + "\n";
  const auto c = read_bytes(text, ReadOptions{}, 3);
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0]->offset == 0);
  CHECK(c.records[1]->offset == text.size() - good.size() - 1);
  REQUIRE(c.malformed.size() == 5);
  std::uint64_t at = good.size() + 1;
  CHECK(c.malformed[0].input == 3);
  CHECK(c.malformed[0].offset == at);
  CHECK(c.malformed[0].reason == "invalid JSON: truncated (an object or array is not closed)");
  at += truncated.size() + 1;
  CHECK(c.malformed[1].offset == at);
  CHECK(c.malformed[1].reason == "invalid JSON: not valid UTF-8");
  at += garbage.size() + 1;
  CHECK(c.malformed[2].offset == at);
  CHECK(c.malformed[2].reason == "not a JSON object");
  at += array.size() + 2;
  CHECK(c.malformed[3].offset == at);
  CHECK(c.malformed[3].reason == "invalid JSON: truncated (a string is not closed)");
  at += unclosed.size() + 1;
  CHECK(c.malformed[4].offset == at);
  CHECK(c.malformed[4].reason.rfind("invalid JSON", 0) == 0);
  CHECK(c.stats.malformed == 5);
  CHECK(c.stats.records == 2);
}

TEST_CASE("ndjson: objects back to back on a line (Firehose without separator) are separate records") {
  const auto c = read_bytes(R"({"deviceId":"a"}{"deviceId":"b"} {"deviceId":"c"})");
  REQUIRE(c.records.size() == 3);
  CHECK(c.records[1]->device_id == "b");
  CHECK(c.records[1]->offset == 16);
  CHECK(c.records[2]->offset == 33);
  CHECK(c.malformed.empty());
}

namespace {

// A 100 MB line followed by good lines, generated on the fly: never held in memory whole.
class HugeLineSource : public ByteSource {
 public:
  HugeLineSource(std::uint64_t line_bytes, std::string after) : line_(line_bytes), after_(std::move(after)) {}
  std::size_t read(char* buf, std::size_t n) override {
    std::size_t out = 0;
    while (out < n) {
      if (at_ == 0 && out < n) {
        buf[out++] = '{';
        ++at_;
      } else if (at_ < line_) {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n - out, line_ - at_));
        std::memset(buf + out, 'a', take);
        out += take;
        at_ += take;
      } else if (at_ - line_ < after_.size()) {
        const std::size_t from = static_cast<std::size_t>(at_ - line_);
        const std::size_t take = std::min(n - out, after_.size() - from);
        std::memcpy(buf + out, after_.data() + from, take);
        out += take;
        at_ += take;
      } else {
        break;
      }
    }
    return out;
  }

 private:
  std::uint64_t line_;
  std::string after_;
  std::uint64_t at_ = 0;
};

}  // namespace

TEST_CASE("a 100 MB line is rejected above max_record_bytes and skipped to the next newline") {
  const std::uint64_t huge = 100ull << 20;
  const std::string after = "\n{\"deviceId\":\"after\"}\n";
  HugeLineSource source(huge, after);
  std::vector<RecordBatch> batches;
  const auto stats = read_source(source, 1, ReadOptions{}, [&](RecordBatch&& b) { batches.push_back(std::move(b)); });
  CHECK(stats.bytes == huge + after.size());
  CHECK(stats.records == 1);
  CHECK(stats.malformed == 1);
  std::vector<Malformed> malformed;
  std::vector<Record> records;
  for (const auto& b : batches) {
    malformed.insert(malformed.end(), b.malformed.begin(), b.malformed.end());
    records.insert(records.end(), b.records.begin(), b.records.end());
  }
  REQUIRE(malformed.size() == 1);
  CHECK(malformed[0].offset == 0);
  CHECK(malformed[0].reason == "record longer than 16777216 bytes");
  REQUIRE(records.size() == 1);
  CHECK(records[0].offset == huge + 1);
  CHECK(records[0].device_id == "after");
}

TEST_CASE("a line just over a small max_record_bytes is malformed; one at the limit is read") {
  ReadOptions opt;
  opt.max_record_bytes = 20;
  const std::string at_limit = R"({"deviceId":"abcdef"})";  // 21 bytes
  const std::string below = R"({"deviceId":"abcde"})";     // 20 bytes
  const auto c = read_bytes(at_limit + "\n" + below + "\n", opt);
  REQUIRE(c.malformed.size() == 1);
  CHECK(c.malformed[0].offset == 0);
  CHECK(c.malformed[0].reason == "record longer than 20 bytes");
  REQUIRE(c.records.size() == 1);
  CHECK(c.records[0]->device_id == "abcde");
  CHECK(c.records[0]->offset == 22);
}

// Past its first 4 MiB an input is hashed on a thread of its own (read_input.cpp Sha256Stream):
// the digest must still be of every byte in order, and an abandoned read must not hang or leak.
TEST_CASE("the SHA-256 of a large input, hashed on its own thread, is the digest of every byte") {
  std::string text;
  for (int i = 0; text.size() < (13u << 20); ++i) {
    text += R"({"deviceId":"dev-)" + std::to_string(i % 97) + R"(","seq":)" + std::to_string(i) +
            R"(,"temperature":)" + std::to_string(i % 1000) + ".25" + R"(,"note":")" + std::string(i % 300, 'x') + "\"}\n";
  }
  ReadOptions opt;
  opt.parse_threads = 1;
  const auto c = read_bytes(text, opt);
  CHECK(c.malformed.empty());
  CHECK(c.stats.bytes == text.size());
  CHECK(c.stats.sha256 == aiot::crypto::sha256_hex(text));
  opt.parse_threads = 3;  // chunk parsers: the reader thread reads in other pieces
  CHECK(read_bytes(text, opt).stats.sha256 == aiot::crypto::sha256_hex(text));

  // A sink that gives up after a few batches (the audit cancelled): the hashing thread is let go.
  int batches = 0;
  auto source = open_memory(text);
  ReadOptions small;
  small.batch_records = 1000;
  small.parse_threads = 1;
  CHECK_THROWS_AS(read_source(*source, 0, small,
                              [&](RecordBatch&&) {
                                if (++batches == 40) throw std::runtime_error("cancelled");
                              }),
                  std::runtime_error);
  CHECK(batches == 40);
}

TEST_CASE("batches hold at most batch_records records and their bytes add up to the input") {
  std::string text;
  for (int i = 0; i < 5; ++i) {
    text += R"({"deviceId":"d","seq":)" + std::to_string(i) + "}\n";
  }
  ReadOptions opt;
  opt.batch_records = 2;
  const auto c = read_bytes(text, opt);
  REQUIRE(c.batches.size() == 3);
  std::uint64_t bytes = 0;
  for (const auto& b : c.batches) {
    CHECK(b.records.size() <= 2);
    bytes += b.bytes;
  }
  CHECK(bytes == text.size());
  REQUIRE(c.records.size() == 5);
  CHECK(c.records[4]->seq == 4);
  CHECK(c.stats.sha256 == aiot::crypto::sha256_hex(text));

  opt.hash_content = false;
  CHECK(read_bytes(text, opt).stats.sha256.empty());
}

TEST_CASE("csv: header names the keys, quoting per RFC 4180, empty cells are missing, bad rows are malformed") {
  const std::string header = "deviceId,messageId,ts,enqueuedTime,seq,temperature,note,env.temp\r\n";
  const std::string row1 = "dev-1,m-1,2026-11-20T10:00:00Z,1795168801250,3,21.5,\"a, \"\"quoted\"\"\nnote\",7\r\n";
  const std::string row2 = "dev-2,,,,,,,\r\n";
  const std::string bad = "dev-3,m-3,2026-11-20T10:00:00Z\r\n";
  const std::string row3 = "dev-4,m-4,not-a-time,,,abc,,-1e2\r\n";
  const std::string text = header + row1 + row2 + bad + row3;
  const auto c = read_bytes(text);
  CHECK(c.stats.detected == Format::csv);
  REQUIRE(c.records.size() == 3);
  const Record& r1 = *c.records[0];
  CHECK(r1.offset == header.size());
  CHECK(r1.device_id == "dev-1");
  CHECK(r1.message_id == "m-1");
  CHECK(r1.device_ts_ms == k_t0);
  CHECK(r1.hub_ts_ms == k_t0 + 1250);
  CHECK(r1.seq == 3);
  CHECK(c.field_names(r1) == std::vector<std::string>{"temperature", "note", "env.temp"});
  CHECK(c.field(r1, "temperature")->number == 21.5);
  CHECK(c.field(r1, "note")->text == "a, \"quoted\"\nnote");
  CHECK(c.field(r1, "env.temp")->number == 7);
  const Record& r2 = *c.records[1];
  CHECK(r2.offset == header.size() + row1.size());
  CHECK(r2.device_id == "dev-2");
  CHECK(r2.field_count == 0);
  CHECK_FALSE(r2.device_ts_ms.has_value());
  const Record& r3 = *c.records[2];
  CHECK(r3.device_ts_invalid);
  CHECK(r3.device_ts_text == "not-a-time");
  CHECK(c.field(r3, "temperature")->text == "abc");
  CHECK(c.field(r3, "env.temp")->number == -100);
  REQUIRE(c.malformed.size() == 1);
  CHECK(c.malformed[0].offset == header.size() + row1.size() + row2.size());
  CHECK(c.malformed[0].reason == "CSV row has 3 cells, header has 8");
}

TEST_CASE("csv: an unterminated quote is reported at its row") {
  const std::string text = "deviceId,note\nd1,ok\nd2,\"never closed\nd3,x\n";
  const auto c = read_bytes(text);
  REQUIRE(c.records.size() == 1);
  REQUIRE(c.malformed.size() == 1);
  CHECK(c.malformed[0].offset == 20);
  CHECK(c.malformed[0].reason == "unterminated quoted CSV cell");
}

TEST_CASE("iothub-json: hub stamps win over the payload, creation time is the device clock") {
  const std::string line1 =
      R"({"EnqueuedTimeUtc":"2026-11-20T10:00:01.2500000Z","Properties":{"iothub-creation-time-utc":"2026-11-20T10:00:00.000Z","other":"p"},)"
      R"("SystemProperties":{"connectionDeviceId":"dev-00001","connectionAuthMethod":"{\"scope\":\"device\",\"type\":\"x509\",\"issuer\":\"iothub\"}",)"
      R"("connectionDeviceGenerationId":"638000000000000000","contentType":"application/json","contentEncoding":"utf-8",)"
      R"("enqueuedTime":"2026-11-20T10:00:01.2500000Z","messageId":"hub-m-1","dt-dataschema":"dtmi:aiot:telemetry;1"},)"
      R"("Body":{"deviceId":"spoofed","messageId":"m-1","ts":"2026-11-20T09:00:00Z","schema":"telemetry/v1","modelVersion":"2.0","seq":5,"temperature":21.5}})";
  const std::string payload = R"({"deviceId":"dev-00002","ts":"2026-11-20T10:00:00Z","temperature":19})";
  const std::string line2 =
      R"({"EnqueuedTimeUtc":"2026-11-20T10:00:02Z","Properties":{},"SystemProperties":{"connectionDeviceId":"dev-00002","contentType":"application/octet-stream"},"Body":")" +
      aiot::crypto::base64_encode(payload) + R"("})";
  const std::string line3 =
      R"({"EnqueuedTimeUtc":"2026-11-20T10:00:03Z","Properties":{},"SystemProperties":{"connectionDeviceId":"dev-00003"},"Body":"AAEC"})";
  const auto c = read_bytes(line1 + "\n" + line2 + "\n" + line3 + "\n");
  CHECK(c.stats.detected == Format::iothub_json);
  REQUIRE(c.records.size() == 2);
  const Record& r = *c.records[0];
  CHECK(r.device_id == "dev-00001");
  CHECK(r.message_id == "hub-m-1");
  CHECK(r.auth_method == "x509");
  CHECK(r.schema_id == "dtmi:aiot:telemetry;1");
  CHECK(r.device_ts_ms == k_t0);
  CHECK(r.hub_ts_ms == k_t0 + 1250);
  CHECK(r.model_version == "2.0");
  CHECK(r.seq == 5);
  CHECK(c.field_names(r) == std::vector<std::string>{"temperature"});
  const Record& r2 = *c.records[1];
  CHECK(r2.offset == line1.size() + 1);
  CHECK(r2.device_id == "dev-00002");
  CHECK(r2.device_ts_ms == k_t0);
  CHECK(r2.hub_ts_ms == k_t0 + 2000);
  CHECK(c.field(r2, "temperature")->number == 19);
  REQUIRE(c.malformed.size() == 1);
  CHECK(c.malformed[0].offset == line1.size() + line2.size() + 2);
  CHECK(c.malformed[0].reason == "Body is not a JSON object");
}

TEST_CASE("aws-s3-json: clientId is the device, receivedAt the hub clock, topic is no field") {
  const std::string line =
      R"({"deviceId":"claimed","messageId":"m-1","ts":"2026-11-20T10:00:00.000Z","temperature":21.5,"clientId":"dev-00001","topic":"fleet/dev-00001/telemetry","receivedAt":1795168801250})";
  const auto c = read_bytes(line + "\n" + line + line + "\n");
  CHECK(c.stats.detected == Format::aws_s3_json);
  REQUIRE(c.records.size() == 3);
  const Record& r = *c.records[0];
  CHECK(r.device_id == "dev-00001");
  CHECK(r.hub_ts_ms == k_t0 + 1250);
  CHECK(r.device_ts_ms == k_t0);
  CHECK(c.field_names(r) == std::vector<std::string>{"temperature"});
  CHECK(c.records[2]->offset == 2 * line.size() + 1);
}

TEST_CASE("detection: Avro magic, JSON envelope keys, otherwise csv") {
  CHECK(detect_format(std::string_view("Obj\x01\x04", 5)) == Format::iothub_avro);
  CHECK(detect_format(k_line1) == Format::ndjson);
  CHECK(detect_format("  \n{\"SystemProperties\":{},\"EnqueuedTimeUtc\":\"x\",\"Body\":{}}\n") == Format::iothub_json);
  CHECK(detect_format("{\"receivedAt\":1}") == Format::aws_s3_json);
  CHECK(detect_format("{\"a\":{\"clientId\":1}}") == Format::ndjson);  // nested keys do not count
  CHECK(detect_format("{\"EnqueuedTimeUtc\":\"x\",\"SystemProperties\":{\"a\":") == Format::iothub_json);  // cut off
  CHECK(detect_format("deviceId,ts\nd,1\n") == Format::csv);
  // A malformed first line does not hide a JSON export behind it.
  CHECK(detect_format("\x01\xfe garbage\n{\"EnqueuedTimeUtc\":\"x\",\"SystemProperties\":{}}\n") == Format::iothub_json);
  CHECK(detect_format("{\"deviceId\":\"d\",\"ts\":\n{\"clientId\":\"d\",\"receivedAt\":1}\n") == Format::aws_s3_json);
  CHECK(detect_format("") == Format::csv);
  ReadOptions forced;
  forced.format = Format::csv;
  CHECK(read_bytes("{\"a\":1}\n", forced).stats.detected == Format::csv);
}

TEST_CASE("gzip: decompressed while read; offsets and the hash are of the decompressed bytes") {
  const std::string text = k_line1 + "\n{\"deviceId\":\"x\"\n" + k_line1 + "\n";
  const auto c = read_bytes(gzip(text) + gzip(k_line1 + "\n"));  // two members
  CHECK(c.stats.detected == Format::ndjson);
  CHECK(c.stats.bytes == text.size() + k_line1.size() + 1);
  CHECK(c.stats.sha256 == aiot::crypto::sha256_hex(text + k_line1 + "\n"));
  REQUIRE(c.records.size() == 3);
  CHECK(c.records[1]->offset == k_line1.size() + 17);
  REQUIRE(c.malformed.size() == 1);
  CHECK(c.malformed[0].offset == k_line1.size() + 1);

  SUBCASE("a corrupt or cut-off gzip stream keeps what came before and says where it broke") {
    std::string broken = gzip(text);
    broken.resize(broken.size() / 2);
    const auto cut = read_bytes(broken);
    REQUIRE_FALSE(cut.malformed.empty());
    const auto& last = cut.malformed.back();
    CHECK(last.reason.find("gzip stream truncated") != std::string::npos);
    CHECK(last.offset == cut.stats.bytes);
  }
  SUBCASE("open_maybe_gzip passes plain bytes through and inflates gzip") {
    auto plain = open_maybe_gzip(open_memory("hello"));
    char buf[16];
    CHECK(plain->read(buf, sizeof buf) == 5);
    auto zipped = open_maybe_gzip(open_memory(gzip("hello")));
    std::size_t got = zipped->read(buf, sizeof buf);
    CHECK(std::string(buf, got) == "hello");
    CHECK(zipped->read(buf, sizeof buf) == 0);
  }
}

namespace {

const char* k_message_schema = R"({"type":"record","name":"Message","namespace":"Microsoft.Azure.Devices","fields":[
  {"name":"EnqueuedTimeUtc","type":"string"},
  {"name":"Properties","type":{"type":"map","values":"string"}},
  {"name":"SystemProperties","type":{"type":"map","values":"string"}},
  {"name":"Body","type":["null","bytes"]}]})";

struct AvroMessage {
  std::string device, enqueued, created, body;
};

// Writes an IoT Hub routing Avro file; a block is closed after every `per_block` messages.
void write_avro(const stdfs::path& path, const std::vector<AvroMessage>& messages, const char* codec, int per_block) {
  avro_schema_t schema = nullptr;
  REQUIRE(avro_schema_from_json_length(k_message_schema, std::strlen(k_message_schema), &schema) == 0);
  avro_file_writer_t writer = nullptr;
  stdfs::remove(path);
  REQUIRE(avro_file_writer_create_with_codec(path.c_str(), schema, &writer, codec, 0) == 0);
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  REQUIRE(avro_generic_value_new(iface, &value) == 0);
  int n = 0;
  for (const auto& m : messages) {
    avro_value_reset(&value);
    avro_value_t field, element, branch;
    avro_value_get_by_name(&value, "EnqueuedTimeUtc", &field, nullptr);
    avro_value_set_string(&field, m.enqueued.c_str());
    avro_value_get_by_name(&value, "Properties", &field, nullptr);
    if (!m.created.empty()) {
      avro_value_add(&field, "iothub-creation-time-utc", &element, nullptr, nullptr);
      avro_value_set_string(&element, m.created.c_str());
    }
    avro_value_get_by_name(&value, "SystemProperties", &field, nullptr);
    avro_value_add(&field, "connectionDeviceId", &element, nullptr, nullptr);
    avro_value_set_string(&element, m.device.c_str());
    avro_value_add(&field, "connectionAuthMethod", &element, nullptr, nullptr);
    avro_value_set_string(&element, R"({"scope":"device","type":"sas","issuer":"iothub"})");
    avro_value_get_by_name(&value, "Body", &field, nullptr);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_bytes(&branch, const_cast<char*>(m.body.data()), m.body.size());
    REQUIRE(avro_file_writer_append_value(writer, &value) == 0);
    if (++n % per_block == 0) {
      REQUIRE(avro_file_writer_flush(writer) == 0);
    }
  }
  avro_file_writer_close(writer);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
}

std::vector<AvroMessage> avro_messages(int n) {
  std::vector<AvroMessage> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({"dev-" + std::to_string(i), "2026-11-20T10:00:01.2500000Z", "2026-11-20T10:00:00Z",
                   R"({"deviceId":"spoof","seq":)" + std::to_string(i) + R"(,"temperature":)" + std::to_string(20 + i) + "}"});
  }
  return out;
}

std::vector<std::uint64_t> distinct_offsets(const Collected& c) {
  std::vector<std::uint64_t> offsets;
  for (const auto* r : c.records) {
    if (offsets.empty() || offsets.back() != r->offset) {
      offsets.push_back(r->offset);
    }
  }
  return offsets;
}

}  // namespace

TEST_CASE("iothub-avro: deflate and null codecs, the IoT Hub mapping, record offsets are block offsets") {
  TempDir dir;
  for (const char* codec : {"deflate", "null"}) {
    CAPTURE(codec);
    const auto path = dir.path / (std::string("messages-") + codec + ".avro");
    write_avro(path, avro_messages(6), codec, 2);
    const auto c = read_bytes(read_file_bytes(path));
    CHECK(c.stats.detected == Format::iothub_avro);
    CHECK(c.malformed.empty());
    REQUIRE(c.records.size() == 6);
    const Record& r = *c.records[3];
    CHECK(r.device_id == "dev-3");
    CHECK(r.auth_method == "sas");
    CHECK(r.device_ts_ms == k_t0);
    CHECK(r.hub_ts_ms == k_t0 + 1250);
    CHECK(r.seq == 3);
    CHECK(c.field(r, "temperature")->number == 23);
    const auto offsets = distinct_offsets(c);
    REQUIRE(offsets.size() == 3);  // three blocks of two
    CHECK(c.records[0]->offset == offsets[0]);
    CHECK(c.records[1]->offset == offsets[0]);
    CHECK(c.records[2]->offset == offsets[1]);
  }
}

TEST_CASE("iothub-avro: a corrupt block is reported at its offset and the next blocks are read") {
  TempDir dir;
  const auto path = dir.path / "m.avro";
  write_avro(path, avro_messages(6), "deflate", 2);
  std::string bytes = read_file_bytes(path);
  const auto clean = read_bytes(bytes);
  const auto offsets = distinct_offsets(clean);
  REQUIRE(offsets.size() == 3);

  SUBCASE("garbage in the compressed data of block 2") {
    std::string bad = bytes;
    for (std::uint64_t i = offsets[1] + 4; i < offsets[1] + 12; ++i) {
      bad[i] = static_cast<char>(0xff);
    }
    const auto c = read_bytes(bad);
    REQUIRE(c.malformed.size() == 1);
    CHECK(c.malformed[0].offset == offsets[1]);
    CHECK(c.malformed[0].reason.rfind("corrupt Avro block: ", 0) == 0);
    REQUIRE(c.records.size() == 4);
    CHECK(c.records[2]->offset == offsets[2]);
    CHECK(c.records[3]->device_id == "dev-5");
  }
  SUBCASE("a wrong block size: resynchronised on the next sync marker") {
    std::string bad = bytes;
    bad[offsets[1] + 1] = static_cast<char>(0x02);  // size varint of block 2 → 1 byte
    const auto c = read_bytes(bad);
    REQUIRE(c.malformed.size() == 1);
    CHECK(c.malformed[0].offset == offsets[1]);
    CHECK(c.malformed[0].reason == "corrupt Avro block: no sync marker after the block; skipped " +
                                       std::to_string(offsets[2] - offsets[1]) + " bytes");
    REQUIRE(c.records.size() == 4);
    CHECK(c.records[3]->device_id == "dev-5");
  }
  SUBCASE("a file cut inside its last block") {
    const auto c = read_bytes(bytes.substr(0, offsets[2] + 10));
    REQUIRE(c.records.size() == 4);
    REQUIRE(c.malformed.size() == 1);
    CHECK(c.malformed[0].offset == offsets[2]);
    CHECK(c.malformed[0].reason == "truncated Avro block: the input ends inside it");
  }
  SUBCASE("gzip'd Avro is detected after decompression; offsets are the same") {
    const auto c = read_bytes(gzip(bytes));
    CHECK(c.stats.detected == Format::iothub_avro);
    REQUIRE(c.records.size() == 6);
    CHECK(distinct_offsets(c) == offsets);
  }
  SUBCASE("not a container after the magic") {
    const auto c = read_bytes(std::string("Obj\x01\xff\xff", 6));
    REQUIRE(c.malformed.size() == 1);
    CHECK(c.malformed[0].offset == 0);
    CHECK(c.records.empty());
  }
}

TEST_CASE("iothub-avro: a record whose lengths do not fit its block is reported, not handed to Avro C") {
  TempDir dir;
  const auto path = dir.path / "plain.avro";
  write_avro(path, avro_messages(6), "null", 2);
  std::string bytes = read_file_bytes(path);
  const auto offsets = distinct_offsets(read_bytes(bytes));
  REQUIRE(offsets.size() == 3);
  // Block 2: count and size varints, then the first record's EnqueuedTimeUtc length.
  std::size_t at = offsets[1];
  for (int varint = 0; varint < 2; ++varint) {
    while ((static_cast<unsigned char>(bytes[at]) & 0x80) != 0) {
      ++at;
    }
    ++at;
  }
  CHECK(bytes[at] == 2 * 28);  // "2026-11-20T10:00:01.2500000Z"
  bytes[at] = static_cast<char>(0xff);  // now a varint running into the text: thousands of bytes
  const auto c = read_bytes(bytes);
  REQUIRE(c.malformed.size() == 1);
  CHECK(c.malformed[0].offset == offsets[1]);
  CHECK(c.malformed[0].reason == "corrupt Avro block: records 1..2 of 2 unreadable (the encoding does not match the schema)");
  CHECK(c.records.size() == 4);
}

TEST_CASE("discover_files: files, directories, globs with **, sorted and de-duplicated; no match is a usage error") {
  TempDir dir;
  dir.write("hub/0/2026/11/20/10/00.json", "{}\n");
  dir.write("hub/0/2026/11/20/10/01.json", "{}\n");
  dir.write("hub/1/2026/11/20/10/00.json", "{}\n");
  dir.write("hub/1/2026/11/20/10/00.avro", "Obj\x01");
  dir.write("hub/.hidden/x.json", "{}\n");
  dir.write("hub/.manifest.json", "{}\n");
  dir.write("flat.csv", "a\n1\n");
  const std::string root = dir.path.string();

  const auto all = discover_files({root + "/hub"});
  REQUIRE(all.size() == 4);
  CHECK(all[0].name == root + "/hub/0/2026/11/20/10/00.json");
  CHECK(all[3].name == root + "/hub/1/2026/11/20/10/00.json");
  CHECK(all[0].ol_namespace == "file");
  CHECK(all[0].ol_name == all[0].name);
  CHECK(all[0].size == 3u);

  const auto json = discover_files({root + "/hub/**/*.json", root + "/hub/0/2026/11/20/10/00.json"});
  REQUIRE(json.size() == 3);
  CHECK(json[1].name == root + "/hub/0/2026/11/20/10/01.json");

  const auto partition = discover_files({root + "/hub/*/2026/11/20/10/00.*"});
  CHECK(partition.size() == 3);
  const auto both = discover_files({root + "/flat.csv", root + "/hub/1"});
  REQUIRE(both.size() == 3);
  CHECK(both[0].name == root + "/flat.csv");

  const auto c = [&] {
    Collected out;
    out.stats = read_input(both[0], 0, ReadOptions{}, [&](RecordBatch&& b) { out.batches.push_back(std::move(b)); });
    return out;
  }();
  CHECK(c.stats.detected == Format::csv);
  CHECK(c.stats.records == 1);

  try {
    discover_files({root + "/hub/**/*.parquet"});
    FAIL("no error");
  } catch (const aiot::Error& e) {
    CHECK(e.code() == aiot::ExitCode::usage);
    CHECK(e.message() == "no input matches " + root + "/hub/**/*.parquet");
  }
  CHECK_THROWS_AS(discover_files({root + "/missing.json"}), aiot::Error);
}

namespace {

// Everything a reader delivered, as text, for comparing two ways of reading the same bytes.
std::string transcript(const Collected& c) {
  std::string out;
  for (const Record* r : c.records) {
    out += std::to_string(r->input) + ":" + std::to_string(r->offset) + " " + std::string(r->device_id) + " " +
           std::string(r->message_id) + " " + (r->device_ts_ms ? std::to_string(*r->device_ts_ms) : "-") + " " +
           (r->hub_ts_ms ? std::to_string(*r->hub_ts_ms) : "-") + " " + std::to_string(r->seq) + " " +
           std::to_string(r->payload_hash) + " " + std::string(r->device_ts_text) + " |";
    for (const auto& name : c.field_names(*r)) {
      const Field* f = c.field(*r, name);
      out += " " + name + "=" + std::to_string(static_cast<int>(f->kind)) + "/" + std::to_string(f->number) + "/" +
             std::string(f->text);
    }
    out += "\n";
  }
  for (const auto& m : c.malformed) {
    out += "malformed " + std::to_string(m.input) + ":" + std::to_string(m.offset) + " " + m.reason + "\n";
  }
  out += "stats " + std::to_string(c.stats.bytes) + " " + std::to_string(c.stats.records) + " " +
         std::to_string(c.stats.malformed) + " " + c.stats.sha256 + "\n";
  return out;
}

}  // namespace

TEST_CASE("ndjson in parallel chunks: the same records, malformed lines, offsets and hash as one thread") {
  std::mt19937 rng(42);
  const std::vector<std::string> kinds = {
      R"({"deviceId":"d-%","messageId":"m-%","ts":"2026-11-20T10:00:0%.250Z","t":1.%,"env":{"h":%},"tags":[1,2]})",
      R"({"deviceId":"e-%","ts":"2026-11-20T10:00:0%Z","enqueuedTime":"2026-11-20T10:00:0%Z","seq":%,"x":null})",
      R"({"deviceId":"f","ts":)",                                   // truncated
      R"({"deviceId":"g-%"}{"deviceId":"h-%"})",                    // back to back
      R"({"deviceId":"i-%","note":"a long value: %%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%"})",  // over 96 bytes
      "[1,2]",
      "",
      R"({"deviceId":"j-%","ts":"yesterday"} trailing)",
  };
  std::string text = "\xEF\xBB\xBF";
  for (int i = 0; i < 600; ++i) {
    std::string line = kinds[rng() % kinds.size()];
    for (auto& ch : line) {
      if (ch == '%') ch = static_cast<char>('0' + rng() % 10);
    }
    text += line + (rng() % 5 == 0 ? "\r\n" : "\n");
  }
  text += R"({"deviceId":"last","seq":7})";  // no newline at the end

  for (const std::size_t max_record : {std::size_t{16} << 20, std::size_t{96}}) {
    CAPTURE(max_record);
    ReadOptions one;
    one.parse_threads = 1;
    one.batch_records = 50;
    one.max_record_bytes = max_record;
    const auto expected = read_bytes(text, one);
    REQUIRE(expected.records.size() > 100);
    for (const std::size_t chunk : {std::size_t{64}, std::size_t{1000}, std::size_t{1} << 20}) {
      CAPTURE(chunk);
      ReadOptions many = one;
      many.parse_threads = 3;
      many.chunk_bytes = chunk;
      const auto got = read_bytes(text, many);
      CHECK(transcript(got) == transcript(expected));
      std::uint64_t bytes = 0;
      for (const auto& b : got.batches) {
        CHECK(b.records.size() <= 50);
        bytes += b.bytes;
      }
      CHECK(bytes == text.size());
    }
  }
}
