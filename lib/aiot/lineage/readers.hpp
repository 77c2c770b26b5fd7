#pragma once
// Telemetry readers: every export format in (NDJSON, CSV, IoT Hub routing JSON and Avro, AWS IoT
// rule S3 JSON; gzip'd or not), normalised RecordBatches out. docs/telemetry-formats.md describes
// each format and how its keys map onto Record.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/lineage/record.hpp"
#include "aiot/lineage/source.hpp"

namespace aiot::lineage {

enum class Format { auto_detect, ndjson, csv, iothub_json, iothub_avro, aws_s3_json };

// "auto", "ndjson", "csv", "iothub-json", "iothub-avro", "aws-s3-json"; Error::usage on anything
// else, listing the valid names.
Format parse_format(std::string_view name);
std::string_view to_string(Format format);

struct ReadOptions {
  Format format = Format::auto_detect;
  std::size_t batch_records = 8192;
  std::size_t max_record_bytes = 16u << 20;  // longer lines/records are Malformed, skipped unbuffered
  bool hash_content = true;                  // SHA-256 of the raw (decompressed) input bytes
  // JSON-lines inputs are cut into chunks at newlines and parsed by this many threads (0: one per
  // core, 1: on the calling thread); batches still reach the sink in input order, so what the
  // sink sees does not depend on it.
  std::size_t parse_threads = 0;
  std::size_t chunk_bytes = 2u << 20;  // bytes per chunk handed to a parse thread
};

using BatchSink = std::function<void(RecordBatch&&)>;

struct ReadStats {
  std::uint64_t bytes = 0;      // bytes read (decompressed)
  std::uint64_t records = 0;    // records delivered
  std::uint64_t malformed = 0;  // Malformed entries delivered
  Format detected = Format::auto_detect;
  std::string sha256;  // lowercase hex of the raw input bytes when hash_content, else empty
};

// Reads one input front to back, calling sink with batches of <= batch_records records (each
// Record.input and Malformed.input = input_index). Malformed input never throws: it is delivered
// in RecordBatch::malformed with its offset. Throws aiot::Error only when the source itself fails
// (cannot open / read).
ReadStats read_input(const Input& in, std::uint32_t input_index, const ReadOptions& opt, const BatchSink& sink);

// Same, over an already opened source (tests, stdin). Both detect gzip themselves.
ReadStats read_source(ByteSource& source, std::uint32_t input_index, const ReadOptions& opt, const BatchSink& sink);

// Detects the format from the first bytes of an input (after gzip decompression).
Format detect_format(std::string_view head);

// Local inputs: files, directories (recursive), globs including "**"; sorted, de-duplicated;
// Error::usage naming the pattern when one matches nothing. Hidden files and directories are
// skipped when a directory or wildcard is expanded. Each Input opens the raw file (read_input
// inflates gzip itself, so a corrupt stream becomes a Malformed entry, not an exception);
// ol_namespace "file", ol_name the absolute path, size the file size.
std::vector<Input> discover_files(const std::vector<std::string>& patterns);

// An in-memory ByteSource (tests; small inputs).
std::unique_ptr<ByteSource> open_memory(std::string bytes);

}  // namespace aiot::lineage
