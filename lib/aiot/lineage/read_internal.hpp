#pragma once
// Internals shared by the format readers (read_*.cpp): the batch builder, the chunked line
// reader, timestamp parsing and the payload hash. Not part of the lineage contract.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/lineage/readers.hpp"

namespace aiot::lineage::detail {

// Reads the first bytes of a source ahead (for detection), then replays them.
class PeekedSource : public ByteSource {
 public:
  PeekedSource(ByteSource& inner, std::size_t peek_bytes);
  std::string_view head() const { return head_; }
  std::size_t read(char* buf, std::size_t n) override;

 private:
  ByteSource& inner_;
  std::string head_;
  std::size_t at_ = 0;
};

bool has_gzip_magic(std::string_view head);

// Streaming gzip decompression (concatenated members too). Corrupt or truncated data either
// throws Error::failure (open_maybe_gzip) or ends the stream and leaves the reason in corrupt(),
// so the reader can report it as Malformed at the decompressed offset and keep what came before.
class GzipSource : public ByteSource {
 public:
  GzipSource(ByteSource& inner, bool throw_on_corrupt);
  ~GzipSource() override;
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;
  std::size_t read(char* buf, std::size_t n) override;
  const std::string& corrupt() const { return corrupt_; }
  std::uint64_t produced() const { return produced_; }

 private:
  static constexpr std::size_t k_in_bytes = 256u << 10;
  bool refill();
  std::size_t fail(std::string reason);

  ByteSource& inner_;
  bool throw_on_corrupt_;
  std::unique_ptr<unsigned char[]> in_;
  void* stream_ = nullptr;  // z_stream, kept out of this header
  bool member_done_ = false;
  bool done_ = false;
  std::uint64_t produced_ = 0;
  std::string corrupt_;
  std::string pending_failure_;
};

// Collects records into batches of at most batch_records and hands full batches to the sink.
class BatchBuilder {
 public:
  // start_position: the input offset the first batch starts at (a chunk's, for chunk parsers).
  BatchBuilder(std::uint32_t input, const ReadOptions& opt, const BatchSink& sink, ReadStats& stats,
               std::uint64_t start_position = 0);

  // Starts a record at `offset`; its fields are the ones added until commit() or discard().
  Record& begin(std::uint64_t offset);
  Record& current() { return batch_.records.back(); }
  void add_number(std::string_view name, double value, Field::Kind kind = Field::Kind::number);
  void add_text(std::string_view name, std::string_view text);
  void add_null(std::string_view name);
  std::string_view keep(std::string_view s) { return batch_.text.keep(s); }
  void commit();
  void discard();

  void malformed(std::uint64_t offset, std::string reason);
  // True when the batch holds batch_records records or malformed entries: flush it.
  bool full() const;
  // Hands the batch over; `position` is the input offset up to which everything was read.
  void flush(std::uint64_t position);
  // Hands over a batch another builder made (a chunk parser's, in input order): counts its records
  // and malformed entries, and moves the flushed position on by its bytes.
  void forward(RecordBatch&& batch);
  std::uint32_t input() const { return input_; }

 private:
  void reset();
  std::string_view keep_name(std::string_view name);

  std::uint32_t input_;
  const ReadOptions& opt_;
  const BatchSink& sink_;
  ReadStats& stats_;
  RecordBatch batch_;
  std::uint64_t flushed_position_ = 0;
  // commit(): the hash of the name at each field position, for the name's bytes in this batch
  // (names repeat record after record at the same address: see keep_name).
  struct NameHash {
    const char* data = nullptr;
    std::size_t size = 0;
    std::uint64_t hash = 0;
  };
  std::vector<NameHash> name_hashes_;
};

// Reads a source in large chunks and yields its lines (without the line ending) with their start
// offsets. A line longer than max_record_bytes is reported through `on_overlong` and skipped up
// to the next newline without being buffered whole. Every line handed out is followed by at
// least k_padding readable bytes (simdjson reads a little past the end of a document).
class LineReader {
 public:
  static constexpr std::size_t k_chunk = 4u << 20;
  static constexpr std::size_t k_padding = 64;
  static constexpr std::size_t k_read = 256u << 10;  // bytes asked of the source per read

  LineReader(ByteSource& source, std::size_t max_line_bytes);

  // False at the end of the input. An over-long line is returned with overlong = true and an
  // empty text (its bytes are already skipped).
  bool next(std::string_view& line, std::uint64_t& offset, bool& overlong);
  // How many bytes after `line.data() + line.size()` may be read (padding included).
  std::size_t readable_after(std::string_view line) const {
    return static_cast<std::size_t>(buf_.get() + capacity_ + k_padding - (line.data() + line.size()));
  }
  std::uint64_t position() const { return base_ + begin_; }  // offset of the first unread byte

 private:
  bool fill();  // reads more bytes after end_; false at end of input
  void skip_to_newline();

  ByteSource& source_;
  std::size_t max_line_;
  std::unique_ptr<char[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0, end_ = 0, scan_ = 0;
  std::uint64_t base_ = 0;  // input offset of buf_[0]
  bool eof_ = false;
};

// Epoch milliseconds of an RFC 3339 UTC timestamp ("Z" or "+00:00"; any fraction digits);
// nullopt when malformed or not UTC.
std::optional<std::int64_t> parse_utc_ms(std::string_view text);
// A whole string that is a decimal number; nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

// Which payload keys become Record attributes (docs/telemetry-formats.md "Lifted keys").
enum class Lifted : std::uint8_t { none, device, module, message, device_ts, hub_ts, schema, model, model_version, seq };
Lifted lifted_key(std::string_view key);

// Applies a lifted value to the record; timestamps are parsed (text: RFC 3339 or epoch ms).
// False when the attribute is already set (first spelling wins) or the value does not fit it
// (a seq that is not a non-negative integer): the caller keeps it as a field then.
bool lift_text(BatchBuilder& b, Record& r, Lifted which, std::string_view text);
bool lift_number(BatchBuilder& b, Record& r, Lifted which, double value, std::string_view raw);

// The JSON-lines formats.
void read_json_lines(ByteSource& source, Format format, BatchBuilder& b, const ReadOptions& opt);
void read_csv(ByteSource& source, BatchBuilder& b, const ReadOptions& opt);
void read_avro(ByteSource& source, BatchBuilder& b, const ReadOptions& opt);

// IoT Hub stamps shared by the JSON and Avro readers: applied over the payload's values.
struct HubStamps {
  std::string_view device_id, module_id, message_id, auth_method, schema_id;
  std::string_view enqueued_time;  // EnqueuedTimeUtc (preferred) or SystemProperties.enqueuedTime
  std::string_view system_enqueued_time;
  std::string_view creation_time;  // Properties.iothub-creation-time-utc
  bool has_creation_time = false;
  std::string_view content_type, content_encoding;
};
// Arguments must already be kept in the batch's arena.
void apply_hub_stamps(BatchBuilder& b, Record& r, const HubStamps& h);
// "sas" from {"scope":"device","type":"sas","issuer":"iothub"}; the text itself when not JSON.
std::string auth_type(std::string_view connection_auth_method);

// Parses JSON payload objects (IoT Hub Avro Bodies) into the current record's fields and lifted
// attributes. parse() returns an empty string on success, else why the Body is not usable.
class PayloadParser {
 public:
  explicit PayloadParser(BatchBuilder& b);
  ~PayloadParser();
  std::string parse(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aiot::lineage::detail
