#pragma once
// The normalised telemetry record (design.md §3.3): whatever the export format, readers turn each
// message into one Record, and everything after the readers (attribution, checks, sketches) sees
// only Records. Records travel in batches that own their text, so a reader thread can hand a batch
// to a checking thread without copies per field.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::lineage {

// One payload field, flattened: nested objects become dotted names ("env.temp"); arrays are kept
// as their raw JSON text (kind text). Names and text are views into the batch's storage.
struct Field {
  enum class Kind : std::uint8_t { number, text, boolean, null };
  std::string_view name;
  Kind kind = Kind::null;
  double number = 0;       // kind number; booleans as 0/1 too
  std::string_view text;   // kind text
};

struct Record {
  // Identity. device_id is the hub-stamped sender (IoT Hub connectionDeviceId, the AWS rule's
  // topic/clientid) when the format has one, else the payload's deviceId: hub stamps win.
  std::string_view device_id;
  std::string_view module_id;
  std::string_view message_id;
  std::string_view auth_method;  // "x509", "sas", "symkey"... when the format says; empty otherwise

  // Two clocks, epoch milliseconds UTC. device_ts: iothub-creation-time-utc or the payload's ts;
  // hub_ts: enqueuedTime / EnqueuedTimeUtc / the rule's timestamp().
  std::optional<std::int64_t> device_ts_ms;
  std::optional<std::int64_t> hub_ts_ms;
  // A device timestamp was present but unparseable or not UTC (TS001); device_ts_ms is empty then
  // and device_ts_text holds what was claimed.
  bool device_ts_invalid = false;
  std::string_view device_ts_text;

  std::string_view schema_id;      // dt-dataschema, or the payload's "schema"/"schemaVersion"
  std::string_view model_name;     // payload "model" / "modelName", when present
  std::string_view model_version;  // payload "modelVersion" / "model_version", when present
  std::int64_t seq = -1;           // payload "seq" when present (TS004 is seq-aware)
  std::uint64_t payload_hash = 0;  // hash of the payload bytes (TS005: same device, ts and payload)

  // Payload fields (without the ones lifted above): [field_begin, field_begin + field_count) of
  // RecordBatch::fields.
  std::uint32_t field_begin = 0;
  std::uint32_t field_count = 0;

  // Where it came from: the input's index in the audit's input list, and the byte offset of the
  // record (NDJSON/CSV: start of the line; Avro: start of the block; JSON arrays: of the element).
  std::uint32_t input = 0;
  std::uint64_t offset = 0;
};

// A record a reader could not make sense of. Never dropped silently: the audit counts and reports
// each with input:offset.
struct Malformed {
  std::uint32_t input = 0;
  std::uint64_t offset = 0;
  std::string reason;  // e.g. "truncated JSON", "line longer than 16 MiB", "corrupt Avro block"
};

// Stable storage for the strings a batch's views point into: appended, never moved. Moving the
// arena (and so a batch) moves block pointers only, and cannot throw: a vector of batches that
// grows moves them instead of copying them (copies would leave the views pointing at the old text).
class TextArena {
 public:
  TextArena() = default;
  TextArena(TextArena&&) noexcept = default;
  TextArena& operator=(TextArena&&) noexcept = default;
  TextArena(const TextArena&) = delete;
  TextArena& operator=(const TextArena&) = delete;

  std::string_view keep(std::string_view s) {
    if (s.empty()) return {};
    if (blocks_.empty() || blocks_.back().capacity - blocks_.back().size < s.size()) {
      const std::size_t capacity = s.size() > k_block ? s.size() : k_block;
      blocks_.push_back(Block{std::unique_ptr<char[]>(new char[capacity]), 0, capacity});
    }
    auto& b = blocks_.back();
    char* at = b.data.get() + b.size;
    std::memcpy(at, s.data(), s.size());
    b.size += s.size();
    return std::string_view(at, s.size());
  }
  void clear() { blocks_.clear(); }
  // Forgets the text but keeps the first block's memory (a recycled batch).
  void reset() {
    if (blocks_.size() > 1) blocks_.resize(1);
    if (!blocks_.empty()) blocks_[0].size = 0;
  }
  std::size_t bytes() const {
    std::size_t n = 0;
    for (const auto& b : blocks_) n += b.capacity;
    return n;
  }

 private:
  static constexpr std::size_t k_block = 1 << 20;
  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
    std::size_t capacity = 0;
  };
  std::vector<Block> blocks_;
};

struct RecordBatch {
  std::vector<Record> records;
  std::vector<Field> fields;
  std::vector<Malformed> malformed;
  TextArena text;
  std::uint64_t bytes = 0;  // input bytes this batch covers (for throughput and progress)

  const Field* fields_of(const Record& r) const { return fields.data() + r.field_begin; }
};

// Batches are megabytes and are made and dropped at disk speed: a small pool keeps their memory,
// so their pages are not faulted in afresh for every batch. Thread-safe.
// Empties the batch and keeps it (a few at most; the others are freed).
void recycle_batch(RecordBatch&& batch);
// An empty batch: a recycled one when there is one.
RecordBatch reuse_batch();

}  // namespace aiot::lineage
