#include "aiot/sim/export_writers.hpp"

#include <avro.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "aiot/core/error.hpp"
#include "aiot/sim/random.hpp"

namespace aiot::sim {

namespace {

constexpr std::size_t k_flush_at = 1 << 20;
constexpr int k_partitions = 4;

// Howard Hinnant's civil_from_days: epoch days -> y/m/d without the C library's locks.
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

struct Civil {
  int year;
  unsigned month, day, hour, minute, second, ms;
};

Civil civil(std::int64_t epoch_ms) {
  std::int64_t days = epoch_ms >= 0 ? epoch_ms / 86'400'000 : (epoch_ms - 86'399'999) / 86'400'000;
  std::int64_t rem = epoch_ms - days * 86'400'000;
  Civil c{};
  civil_from_days(days, c.year, c.month, c.day);
  c.hour = static_cast<unsigned>(rem / 3'600'000);
  c.minute = static_cast<unsigned>(rem / 60'000 % 60);
  c.second = static_cast<unsigned>(rem / 1000 % 60);
  c.ms = static_cast<unsigned>(rem % 1000);
  return c;
}

// Digits by hand: these run for every timestamp and value of a multi-gigabyte export.
void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "YYYY-MM-DDTHH:MM:SS.mmm" plus `tail` ("Z", or "0000Z" for IoT Hub's seven digits).
void append_time(std::string& out, std::int64_t epoch_ms, std::string_view tail) {
  auto c = civil(epoch_ms);
  char buf[32];
  if (c.year < 0 || c.year > 9999) {
    out += fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}", c.year, c.month, c.day, c.hour, c.minute, c.second,
                       c.ms);
  } else {
    put_digits(buf, static_cast<unsigned>(c.year), 4);
    buf[4] = '-';
    put_digits(buf + 5, c.month, 2);
    buf[7] = '-';
    put_digits(buf + 8, c.day, 2);
    buf[10] = 'T';
    put_digits(buf + 11, c.hour, 2);
    buf[13] = ':';
    put_digits(buf + 14, c.minute, 2);
    buf[16] = ':';
    put_digits(buf + 17, c.second, 2);
    buf[19] = '.';
    put_digits(buf + 20, c.ms, 3);
    out.append(buf, 23);
  }
  out += tail;
}

void append_ms(std::string& out, std::int64_t epoch_ms) { append_time(out, epoch_ms, "Z"); }

// IoT Hub's own form of EnqueuedTimeUtc: seven fractional digits.
void append_hub_time(std::string& out, std::int64_t epoch_ms) { append_time(out, epoch_ms, "0000Z"); }

void append_integer(std::string& out, std::uint64_t v) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<std::size_t>(end - p));
}

// Fixed decimals, rounded half away from zero like std::round; never "-0.00".
void append_number(std::string& out, double v, int decimals) {
  static constexpr double k_scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  double scaled = std::round(v * k_scale[decimals]);
  if (!(std::abs(scaled) < 9e15)) {
    fmt::format_to(std::back_inserter(out), "{:.{}f}", v, decimals);
    return;
  }
  auto n = static_cast<std::int64_t>(scaled);
  if (n < 0) out += '-';
  auto mag = static_cast<std::uint64_t>(n < 0 ? -n : n);
  auto unit = static_cast<std::uint64_t>(k_scale[decimals]);
  append_integer(out, mag / unit);
  if (decimals > 0) {
    out += '.';
    char buf[8];
    put_digits(buf, static_cast<unsigned>(mag % unit), decimals);
    out.append(buf, static_cast<std::size_t>(decimals));
  }
}

// `,"name":value` for each present field (null for Presence::null).
void append_payload_fields(std::string& out, const ExportMessage& m) {
  for (std::size_t i = 0; i < k_payload_field_count; ++i) {
    if (m.presence[i] == Presence::absent) continue;
    out += ",\"";
    out += k_payload_fields[i].name;
    out += "\":";
    if (m.presence[i] == Presence::null) {
      out += "null";
    } else {
      append_number(out, m.values[i], k_payload_fields[i].decimals);
    }
  }
}

// Ids, versions and schema names are generated ([A-Za-z0-9._/-]): no escaping needed.
void append_kv(std::string& out, const char* key, std::string_view value, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":\"";
  out += value;
  out += '"';
}

// The device's payload as the device sends it.
void append_body(std::string& out, const ExportMessage& m, bool with_message_id) {
  out += '{';
  append_kv(out, "deviceId", m.device_id, true);
  if (with_message_id) append_kv(out, "messageId", m.message_id);
  out += ",\"ts\":\"";
  append_ms(out, m.device_ms);
  out += '"';
  append_kv(out, "schema", m.schema);
  append_kv(out, "model", m.model);
  append_kv(out, "modelVersion", m.model_version);
  out += ",\"seq\":";
  append_integer(out, m.seq);
  append_payload_fields(out, m);
  out += '}';
}

std::uint32_t partition_of(std::string_view device_id) {
  std::uint32_t h = 2166136261u;  // FNV-1a: stable across runs and platforms
  for (char c : device_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h % k_partitions;
}

std::int64_t batch_start(std::int64_t hub_ms, std::int64_t batch_ms) {
  return (hub_ms >= 0 ? hub_ms / batch_ms : (hub_ms - batch_ms + 1) / batch_ms) * batch_ms;
}

std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 15];
  }
  return s;
}

}  // namespace

std::string format_ms(std::int64_t epoch_ms) {
  std::string s;
  append_ms(s, epoch_ms);
  return s;
}

// ---------------------------------------------------------------------------------------------
// OutputFile

struct OutputFile::Impl {
  std::FILE* file = nullptr;
  std::filesystem::path path;
  bool gzip = false;
  z_stream z{};
  EVP_MD_CTX* sha = nullptr;
  std::uint64_t disk_bytes = 0;
  std::string zbuf;

  void put(const char* p, std::size_t n) {
    if (n == 0) return;
    if (std::fwrite(p, 1, n, file) != n) {
      throw Error::failure(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    }
    EVP_DigestUpdate(sha, p, n);
    disk_bytes += n;
  }

  void deflate_bytes(const char* p, std::size_t n, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(zbuf.data());
      z.avail_out = static_cast<uInt>(zbuf.size());
      int rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) throw Error::failure("gzip: deflate failed for " + path.string());
      put(zbuf.data(), zbuf.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
};

OutputFile::OutputFile(const std::filesystem::path& path, bool gzip) : impl_(std::make_unique<Impl>()) {
  std::filesystem::create_directories(path.parent_path());
  impl_->path = path;
  impl_->gzip = gzip;
  impl_->file = std::fopen(path.c_str(), "wb");
  if (!impl_->file) throw Error::failure(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  impl_->sha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->sha, EVP_sha256(), nullptr);
  if (gzip) {
    // windowBits 15 + 16: a gzip wrapper with mtime 0, so the same input gives the same bytes.
    // Level 1: the fastest, as these files are test data.
    if (deflateInit2(&impl_->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error::failure("gzip: cannot initialise zlib");
    }
    impl_->zbuf.resize(1 << 16);
  }
  buffer_.reserve(k_flush_at + 4096);
}

OutputFile::~OutputFile() {
  if (impl_ && impl_->file) {
    std::fclose(impl_->file);
    if (impl_->gzip) deflateEnd(&impl_->z);
  }
  if (impl_ && impl_->sha) EVP_MD_CTX_free(impl_->sha);
}

void OutputFile::flush_buffer() {
  if (buffer_.empty()) return;
  if (impl_->gzip) {
    impl_->deflate_bytes(buffer_.data(), buffer_.size(), Z_NO_FLUSH);
  } else {
    impl_->put(buffer_.data(), buffer_.size());
  }
  buffer_.clear();
}

void OutputFile::write(std::string_view bytes) {
  buffer_.append(bytes);
  offset_ += bytes.size();
  if (buffer_.size() >= k_flush_at) flush_buffer();
}

std::uint64_t OutputFile::close() {
  flush_buffer();
  if (impl_->gzip) {
    impl_->deflate_bytes(nullptr, 0, Z_FINISH);
    deflateEnd(&impl_->z);
  }
  bool ok = std::fclose(impl_->file) == 0;
  impl_->file = nullptr;
  if (!ok) throw Error::failure(fmt::format("cannot write {}: {}", impl_->path.string(), std::strerror(errno)));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->sha, digest, &n);
  sha256_ = to_hex(digest, n);
  return impl_->disk_bytes;
}

// ---------------------------------------------------------------------------------------------
// Writers

namespace {

std::string gz(bool gzip) { return gzip ? ".gz" : ""; }

// One open file with its manifest entry.
struct OpenFile {
  std::unique_ptr<OutputFile> file;
  std::uint32_t index = 0;
  std::int64_t batch = 0;
};

class WriterBase : public ExportWriter {
 protected:
  explicit WriterBase(WriterOptions o, std::string format) : options_(std::move(o)), format_(std::move(format)) {}

  OpenFile open_file(const std::string& rel) {
    OpenFile f;
    f.file = std::make_unique<OutputFile>(options_.out / rel, options_.gzip);
    f.index = static_cast<std::uint32_t>(files_.size());
    ExportFile info;
    info.path = rel;
    info.format = format_;
    files_.push_back(std::move(info));
    return f;
  }

  void close_file(OpenFile& f) {
    if (!f.file) return;
    auto& info = files_[f.index];
    info.bytes = f.file->close();
    info.sha256 = f.file->sha256();
    f.file.reset();
  }

  ExportLocation put_line(OpenFile& f, std::string_view line, const ExportMessage& m, bool malformed) {
    ExportLocation at{f.index, f.file->offset()};
    f.file->write(line);
    f.file->write("\n");
    auto& info = files_[f.index];
    (malformed ? info.malformed : info.records) += 1;
    if (info.records + info.malformed == 1) info.first_hub_ms = m.hub_ms;
    info.last_hub_ms = m.hub_ms;
    return at;
  }

  WriterOptions options_;
  std::string format_;
  std::string line_;
};

// One file for the whole window (ndjson, csv).
class SingleFileWriter : public WriterBase {
 public:
  SingleFileWriter(WriterOptions o, std::string format, std::string rel, std::string header)
      : WriterBase(std::move(o), std::move(format)) {
    file_ = open_file(rel + gz(options_.gzip));
    if (!header.empty()) file_.file->write(header);
  }
  ExportLocation write(const ExportMessage& m) override {
    line_.clear();
    render_into(line_, m);
    return put_line(file_, line_, m, false);
  }
  ExportLocation write_raw_line(const ExportMessage& m, std::string_view bytes) override {
    return put_line(file_, bytes, m, true);
  }
  std::string render(const ExportMessage& m) override {
    std::string s;
    render_into(s, m);
    return s;
  }
  void finish() override { close_file(file_); }

 protected:
  virtual void render_into(std::string& out, const ExportMessage& m) = 0;
  OpenFile file_;
};

class NdjsonWriter : public SingleFileWriter {
 public:
  explicit NdjsonWriter(WriterOptions o) : SingleFileWriter(std::move(o), "ndjson", "data/telemetry.ndjson", "") {}

 protected:
  void render_into(std::string& out, const ExportMessage& m) override {
    out += '{';
    append_kv(out, "deviceId", m.device_id, true);
    append_kv(out, "messageId", m.message_id);
    out += ",\"ts\":\"";
    append_ms(out, m.device_ms);
    out += "\",\"enqueuedTime\":\"";
    append_ms(out, m.hub_ms);
    out += '"';
    append_kv(out, "schema", m.schema);
    append_kv(out, "model", m.model);
    append_kv(out, "modelVersion", m.model_version);
    out += ",\"seq\":";
    append_integer(out, m.seq);
    append_payload_fields(out, m);
    out += '}';
  }
};

std::string csv_header() {
  std::string h = "deviceId,messageId,ts,enqueuedTime,schema,model,modelVersion,seq";
  for (const auto& f : k_payload_fields) {
    h += ',';
    h += f.name;
  }
  return h + "\n";
}

class CsvWriter : public SingleFileWriter {
 public:
  explicit CsvWriter(WriterOptions o) : SingleFileWriter(std::move(o), "csv", "data/telemetry.csv", csv_header()) {}

 protected:
  void render_into(std::string& out, const ExportMessage& m) override {
    out += m.device_id;
    out += ',';
    out += m.message_id;
    out += ',';
    append_ms(out, m.device_ms);
    out += ',';
    append_ms(out, m.hub_ms);
    out += ',';
    out += m.schema;
    out += ',';
    out += m.model;
    out += ',';
    out += m.model_version;
    out += ',';
    append_integer(out, m.seq);
    for (std::size_t i = 0; i < k_payload_field_count; ++i) {
      out += ',';
      if (m.presence[i] == Presence::present) append_number(out, m.values[i], k_payload_fields[i].decimals);
    }
  }
};

// A file per (partition, batch period), by hub time: IoT Hub routing to storage.
class IothubJsonWriter : public WriterBase {
 public:
  explicit IothubJsonWriter(WriterOptions o) : WriterBase(std::move(o), "iothub-json") {}

  ExportLocation write(const ExportMessage& m) override {
    line_.clear();
    render_into(line_, m);
    return put_line(file_for(m), line_, m, false);
  }
  ExportLocation write_raw_line(const ExportMessage& m, std::string_view bytes) override {
    return put_line(file_for(m), bytes, m, true);
  }
  std::string render(const ExportMessage& m) override {
    std::string s;
    render_into(s, m);
    return s;
  }
  void finish() override {
    for (auto& f : open_) close_file(f);
  }

 private:
  OpenFile& file_for(const ExportMessage& m) {
    auto p = partition_of(m.device_id);
    auto batch = batch_start(m.hub_ms, options_.batch.count());
    auto& f = open_[p];
    if (!f.file || f.batch != batch) {
      close_file(f);
      auto c = civil(batch);
      f = open_file(fmt::format("data/{}/{}/{:04}/{:02}/{:02}/{:02}/{:02}.json{}", options_.iothub, p, c.year, c.month,
                                c.day, c.hour, c.minute, gz(options_.gzip)));
      f.batch = batch;
    }
    return f;
  }

  static void render_into(std::string& out, const ExportMessage& m) {
    out += "{\"EnqueuedTimeUtc\":\"";
    append_hub_time(out, m.hub_ms);
    out += "\",\"Properties\":{\"iothub-creation-time-utc\":\"";
    append_ms(out, m.device_ms);
    out += "\"},\"SystemProperties\":{";
    append_kv(out, "connectionDeviceId", m.device_id, true);
    out += R"(,"connectionAuthMethod":"{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}")";
    append_kv(out, "connectionDeviceGenerationId", m.generation_id);
    append_kv(out, "contentType", "application/json");
    append_kv(out, "contentEncoding", "utf-8");
    out += ",\"enqueuedTime\":\"";
    append_hub_time(out, m.hub_ms);
    out += '"';
    append_kv(out, "messageId", m.message_id);
    out += "},\"Body\":";
    append_body(out, m, false);
    out += '}';
  }

  std::array<OpenFile, k_partitions> open_;
};

// Firehose objects: newline-separated payloads, an object per batch period.
class AwsS3JsonWriter : public WriterBase {
 public:
  explicit AwsS3JsonWriter(WriterOptions o) : WriterBase(std::move(o), "aws-s3-json") {}

  ExportLocation write(const ExportMessage& m) override {
    line_.clear();
    render_into(line_, m);
    return put_line(file_for(m), line_, m, false);
  }
  ExportLocation write_raw_line(const ExportMessage& m, std::string_view bytes) override {
    return put_line(file_for(m), bytes, m, true);
  }
  std::string render(const ExportMessage& m) override {
    std::string s;
    render_into(s, m);
    return s;
  }
  void finish() override { close_file(open_); }

 private:
  OpenFile& file_for(const ExportMessage& m) {
    auto batch = batch_start(m.hub_ms, options_.batch.count());
    if (!open_.file || open_.batch != batch) {
      close_file(open_);
      auto c = civil(batch);
      // Firehose names objects {stream}-{version}-{time}-{uuid}; the uuid here is derived from the
      // seed and the batch so re-runs give the same names.
      auto rng = Rng::keyed(options_.seed, {"firehose-object", std::to_string(batch)});
      auto a = rng.next(), b = rng.next();
      auto id = fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                            0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
      open_ = open_file(fmt::format("data/{:04}/{:02}/{:02}/{:02}/aiot-telemetry-1-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{}",
                                    c.year, c.month, c.day, c.hour, c.year, c.month, c.day, c.hour, c.minute, c.second,
                                    id, gz(options_.gzip)));
      open_.batch = batch;
    }
    return open_;
  }

  static void render_into(std::string& out, const ExportMessage& m) {
    append_body(out, m, true);
    out.pop_back();  // the rule's SELECT *, clientid() AS clientId, topic() AS topic, timestamp() AS receivedAt
    append_kv(out, "clientId", m.device_id);
    out += ",\"topic\":\"aiot/";
    out += m.device_id;
    out += "/telemetry\"";
    fmt::format_to(std::back_inserter(out), ",\"receivedAt\":{}}}", m.hub_ms);
  }

  OpenFile open_;
};

// IoT Hub routing with Avro encoding. Avro C picks each file's sync marker from the wall clock;
// the writer replaces it with one derived from the seed and the path, so outputs are reproducible.
const char* const k_avro_schema = R"({"type":"record","name":"Message","namespace":"Microsoft.Azure.Devices","fields":[
{"name":"EnqueuedTimeUtc","type":"string"},
{"name":"Properties","type":{"type":"map","values":"string"}},
{"name":"SystemProperties","type":{"type":"map","values":"string"}},
{"name":"Body","type":["null","bytes"]}]})";

[[noreturn]] void avro_fail(const std::string& what) {
  throw Error::failure(fmt::format("Avro: {}: {}", what, avro_strerror()));
}

class IothubAvroWriter : public ExportWriter {
 public:
  explicit IothubAvroWriter(WriterOptions o) : options_(std::move(o)) {
    if (avro_schema_from_json_length(k_avro_schema, std::strlen(k_avro_schema), &schema_)) avro_fail("schema");
    iface_ = avro_generic_class_from_schema(schema_);
    if (!iface_ || avro_generic_value_new(iface_, &value_)) avro_fail("value");
  }
  ~IothubAvroWriter() override {
    for (auto& f : open_) abandon(f);
    avro_value_decref(&value_);
    avro_value_iface_decref(iface_);
    avro_schema_decref(schema_);
  }

  ExportLocation write(const ExportMessage& m) override {
    auto& f = file_for(m);
    fill(m);
    if (avro_file_writer_append_value(f.writer, &value_)) avro_fail("append to " + files_[f.index].path);
    // A block Avro C wrote while appending leaves this record at the start of the next one.
    auto pos = static_cast<std::uint64_t>(std::ftell(f.memory));
    auto& info = files_[f.index];
    ++info.records;
    if (info.records == 1) info.first_hub_ms = m.hub_ms;
    info.last_hub_ms = m.hub_ms;
    return {f.index, pos};
  }
  ExportLocation write_raw_line(const ExportMessage&, std::string_view) override {
    throw Error::failure("iothub-avro has no lines to corrupt");
  }
  std::string render(const ExportMessage& m) override {
    std::string s;
    append_body(s, m, false);
    return s;
  }
  bool line_based() const override { return false; }
  void finish() override {
    for (auto& f : open_) close(f);
  }

 private:
  struct AvroFile {
    std::FILE* memory = nullptr;
    char* data = nullptr;
    std::size_t size = 0;
    avro_file_writer_t writer = nullptr;
    std::uint32_t index = 0;
    std::int64_t batch = 0;
  };

  AvroFile& file_for(const ExportMessage& m) {
    auto p = partition_of(m.device_id);
    auto batch = batch_start(m.hub_ms, options_.batch.count());
    auto& f = open_[p];
    if (!f.writer || f.batch != batch) {
      close(f);
      auto c = civil(batch);
      ExportFile info;
      info.path = fmt::format("data/{}/{}/{:04}/{:02}/{:02}/{:02}/{:02}.avro{}", options_.iothub, p, c.year, c.month,
                              c.day, c.hour, c.minute, gz(options_.gzip));
      info.format = "iothub-avro";
      f.index = static_cast<std::uint32_t>(files_.size());
      files_.push_back(std::move(info));
      f.batch = batch;
      f.memory = open_memstream(&f.data, &f.size);
      if (!f.memory) throw Error::failure("Avro: out of memory");
      if (avro_file_writer_create_with_codec_fp(f.memory, files_[f.index].path.c_str(), 0, schema_, &f.writer,
                                                "deflate", 64 * 1024)) {
        avro_fail("create " + files_[f.index].path);
      }
    }
    return f;
  }

  void fill(const ExportMessage& m) {
    avro_value_reset(&value_);
    avro_value_t field, element, branch;
    text_.clear();
    append_hub_time(text_, m.hub_ms);
    avro_value_get_by_index(&value_, 0, &field, nullptr);
    avro_value_set_string_len(&field, text_.c_str(), text_.size() + 1);

    avro_value_get_by_index(&value_, 1, &field, nullptr);
    text_.clear();
    append_ms(text_, m.device_ms);
    put(field, "iothub-creation-time-utc", text_);

    avro_value_get_by_index(&value_, 2, &field, nullptr);
    put(field, "connectionDeviceId", m.device_id);
    put(field, "connectionAuthMethod",
        R"({"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null})");
    put(field, "connectionDeviceGenerationId", m.generation_id);
    put(field, "contentType", "application/json");
    put(field, "contentEncoding", "utf-8");
    text_.clear();
    append_hub_time(text_, m.hub_ms);
    put(field, "enqueuedTime", text_);
    put(field, "messageId", m.message_id);

    avro_value_get_by_index(&value_, 3, &field, nullptr);
    body_.clear();
    append_body(body_, m, false);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_bytes(&branch, body_.data(), body_.size());
    (void)element;
  }

  void put(avro_value_t& map, const char* key, std::string_view value) {
    avro_value_t element;
    if (avro_value_add(&map, key, &element, nullptr, nullptr)) avro_fail("map entry");
    std::string v(value);
    avro_value_set_string_len(&element, v.c_str(), v.size() + 1);
  }

  void close(AvroFile& f) {
    if (!f.writer) return;
    if (avro_file_writer_close(f.writer)) avro_fail("close " + files_[f.index].path);
    f.writer = nullptr;
    std::fclose(f.memory);
    f.memory = nullptr;
    std::string bytes(f.data, f.size);
    std::free(f.data);
    f.data = nullptr;
    // The container ends with the sync marker; every block and the header end with it too.
    if (bytes.size() >= 16) {
      std::string random_sync = bytes.substr(bytes.size() - 16);
      auto rng = Rng::keyed(options_.seed, {"avro-sync", files_[f.index].path});
      std::string sync(16, '\0');
      for (auto& c : sync) c = static_cast<char>(rng.next() & 0xff);
      for (auto at = bytes.find(random_sync); at != std::string::npos; at = bytes.find(random_sync, at + 16)) {
        bytes.replace(at, 16, sync);
      }
    }
    OutputFile out(options_.out / files_[f.index].path, options_.gzip);
    out.write(bytes);
    files_[f.index].bytes = out.close();
    files_[f.index].sha256 = out.sha256();
  }

  void abandon(AvroFile& f) {
    if (f.writer) avro_file_writer_close(f.writer);
    if (f.memory) std::fclose(f.memory);
    std::free(f.data);
    f = AvroFile{};
  }

  WriterOptions options_;
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t value_{};
  std::array<AvroFile, k_partitions> open_;
  std::string text_, body_;
};

}  // namespace

std::unique_ptr<ExportWriter> make_export_writer(ExportFormat format, const WriterOptions& options) {
  switch (format) {
    case ExportFormat::ndjson:
      return std::make_unique<NdjsonWriter>(options);
    case ExportFormat::csv:
      return std::make_unique<CsvWriter>(options);
    case ExportFormat::iothub_json:
      return std::make_unique<IothubJsonWriter>(options);
    case ExportFormat::iothub_avro:
      return std::make_unique<IothubAvroWriter>(options);
    case ExportFormat::aws_s3_json:
      return std::make_unique<AwsS3JsonWriter>(options);
  }
  throw Error::usage("unknown export format");
}

}  // namespace aiot::sim
