#pragma once
// The export layouts `aiot sim telemetry` writes (docs/telemetry-formats.md has the readers' view):
//   ndjson       data/telemetry.ndjson: one JSON object a line
//   csv          data/telemetry.csv: a header row, the same names; an empty cell is a missing value
//   iothub-json  data/{iothub}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm}.json: IoT Hub routing to
//                storage, JSON encoding, one message a line, a file per partition and batch period
//   iothub-avro  the same paths with .avro: Avro object containers (record Message, namespace
//                Microsoft.Azure.Devices), deflate codec, written with Avro C
//   aws-s3-json  data/{YYYY}/{MM}/{DD}/{HH}/aiot-telemetry-1-{YYYY-MM-DD-HH-MM-SS}-{id}: an AWS IoT
//                rule through Firehose, newline-separated payloads with clientId, topic, receivedAt
// With gzip every file is compressed (.gz); offsets stay those of the uncompressed bytes.
// Writers take messages in hub-time order and stream: only the open files' buffers are in memory
// (an Avro file is assembled in memory, one batch period of one partition).
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/sim/telemetry.hpp"

namespace aiot::sim {

// The payload fields in the order they are written, with their rounding.
struct PayloadField {
  const char* name;
  int decimals;
};
constexpr std::size_t k_payload_field_count = 7;
constexpr std::array<PayloadField, k_payload_field_count> k_payload_fields = {{
    {"temperature", 2},
    {"humidity", 1},
    {"vibration", 3},
    {"inferences", 0},
    {"confidence", 3},
    {"prediction", 0},
    {"latency_ms", 1},
}};

enum class Presence : std::uint8_t { present, absent, null };

struct ExportMessage {
  std::string_view device_id;
  std::string_view message_id;
  std::string_view schema;
  std::string_view model;
  std::string_view model_version;
  std::string_view generation_id;  // IoT Hub's connectionDeviceGenerationId
  std::int64_t device_ms = 0;      // the device clock: ts / iothub-creation-time-utc
  std::int64_t hub_ms = 0;         // enqueuedTime / receivedAt
  std::uint64_t seq = 0;
  std::array<double, k_payload_field_count> values{};
  std::array<Presence, k_payload_field_count> presence{};
};

struct ExportLocation {
  std::uint32_t file = 0;    // index into ExportWriter::files()
  std::uint64_t offset = 0;  // of the line, or of the Avro block holding the record
};

struct ExportFile {
  std::string path;  // relative to OUT, '/' separated
  std::string format;
  std::uint64_t records = 0;
  std::uint64_t malformed = 0;
  std::uint64_t bytes = 0;  // on disk
  std::string sha256;       // of the bytes on disk
  std::int64_t first_hub_ms = 0, last_hub_ms = 0;
};

struct WriterOptions {
  std::filesystem::path out;  // OUT; files go under OUT/data
  bool gzip = false;
  std::chrono::milliseconds batch = std::chrono::minutes(5);
  std::string iothub = "aiot-sim";
  std::uint64_t seed = 1;  // for the names and sync markers that must look random
};

class ExportWriter {
 public:
  virtual ~ExportWriter() = default;
  virtual ExportLocation write(const ExportMessage& m) = 0;
  // A malformed line (truncated text, binary bytes) where `m` would have gone. Line formats only.
  virtual ExportLocation write_raw_line(const ExportMessage& m, std::string_view bytes) = 0;
  // The line this format writes for `m`, without the newline (what a truncation cuts).
  virtual std::string render(const ExportMessage& m) = 0;
  virtual bool line_based() const { return true; }
  // Closes every file; files() is complete after it.
  virtual void finish() = 0;
  const std::vector<ExportFile>& files() const { return files_; }

 protected:
  std::vector<ExportFile> files_;
};

std::unique_ptr<ExportWriter> make_export_writer(ExportFormat format, const WriterOptions& options);

// A file written through a buffer, optionally gzip-compressed, hashing what reaches the disk.
class OutputFile {
 public:
  OutputFile(const std::filesystem::path& path, bool gzip);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(std::string_view bytes);
  std::uint64_t offset() const { return offset_; }  // uncompressed bytes written so far
  // Flushes and closes; returns the bytes on disk. The hex SHA-256 is then in sha256().
  std::uint64_t close();
  const std::string& sha256() const { return sha256_; }

 private:
  void flush_buffer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string buffer_;
  std::uint64_t offset_ = 0;
  std::string sha256_;
};

// "2026-11-23T09:00:00.123Z" (always milliseconds) for epoch milliseconds.
std::string format_ms(std::int64_t epoch_ms);

}  // namespace aiot::sim
