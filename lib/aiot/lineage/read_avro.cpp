// IoT Hub routing Avro (Avro object container files, codecs null and deflate).
//
// The container framing (header, blocks, sync markers) is read here rather than by Avro C's
// avro_file_reader: that reader neither tells where a block starts nor can continue after a
// corrupt block, and both are required (findings carry input:offset; a bad block must not cost
// the rest of the file). Avro C does the part that needs the schema: parsing the writer schema
// and decoding each record of a block (avro_value_read over a memory reader).
#include <avro.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "aiot/lineage/read_internal.hpp"

namespace aiot::lineage::detail {

namespace {

constexpr std::int64_t k_max_block_bytes = 256ll << 20;
constexpr std::int64_t k_max_meta_bytes = 16ll << 20;

// Buffered reads with the absolute offset, and push-back for resynchronising.
class AvroStream {
 public:
  explicit AvroStream(ByteSource& source) : source_(source) {}

  std::uint64_t position() const { return position_; }

  bool read_exact(char* dst, std::size_t n) {
    while (n > 0) {
      if (at_ == buf_.size() && !refill()) {
        return false;
      }
      const std::size_t take = std::min(n, buf_.size() - at_);
      std::memcpy(dst, buf_.data() + at_, take);
      at_ += take;
      position_ += take;
      dst += take;
      n -= take;
    }
    return true;
  }

  enum class Status { ok, eof, bad };

  // A zig-zag varint long. eof only when no byte at all could be read.
  Status read_long(std::int64_t& out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      char c = 0;
      if (!read_exact(&c, 1)) {
        return shift == 0 ? Status::eof : Status::bad;
      }
      const auto byte = static_cast<unsigned char>(c);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        out = static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
        return Status::ok;
      }
    }
    return Status::bad;
  }

  Status read_bytes(std::string& out, std::int64_t max) {
    std::int64_t len = 0;
    const Status s = read_long(len);
    if (s != Status::ok) {
      return s == Status::eof ? Status::bad : s;
    }
    if (len < 0 || len > max) {
      return Status::bad;
    }
    out.resize(static_cast<std::size_t>(len));
    return read_exact(out.data(), out.size()) ? Status::ok : Status::bad;
  }

  void unread(std::string_view bytes) {
    buf_ = std::string(bytes) + buf_.substr(at_);
    at_ = 0;
    position_ -= bytes.size();
  }

  // Skips to just after the next occurrence of `marker`; false (at the end) when there is none.
  bool skip_past(std::string_view marker) {
    for (;;) {
      const auto hit = std::search(buf_.begin() + static_cast<std::ptrdiff_t>(at_), buf_.end(), marker.begin(), marker.end());
      if (hit != buf_.end()) {
        const auto to = static_cast<std::size_t>(hit - buf_.begin()) + marker.size();
        position_ += to - at_;
        at_ = to;
        return true;
      }
      // Keep the tail that could be the start of a marker cut by the buffer's end.
      const std::size_t keep = std::min(buf_.size() - at_, marker.size() - 1);
      position_ += buf_.size() - at_ - keep;
      std::string tail = buf_.substr(buf_.size() - keep);
      std::string more(k_chunk, '\0');
      const std::size_t got = source_.read(more.data(), more.size());
      if (got == 0) {
        position_ += keep;
        buf_.clear();
        at_ = 0;
        return false;
      }
      more.resize(got);
      buf_ = std::move(tail) + more;
      at_ = 0;
    }
  }

 private:
  static constexpr std::size_t k_chunk = 1u << 20;

  bool refill() {
    buf_.resize(k_chunk);
    const std::size_t got = source_.read(buf_.data(), buf_.size());
    buf_.resize(got);
    at_ = 0;
    return got > 0;
  }

  ByteSource& source_;
  std::string buf_;
  std::size_t at_ = 0;
  std::uint64_t position_ = 0;
};

// Raw deflate (RFC 1951), as the Avro deflate codec writes it.
std::string inflate_block(std::string_view in, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) {
    return "zlib cannot initialise";
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  out.resize(std::max<std::size_t>(in.size() * 4, 4096));
  std::size_t produced = 0;
  std::string problem;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = inflate(&z, Z_NO_FLUSH);
    produced = out.size() - z.avail_out;
    if (rc == Z_STREAM_END) {
      break;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      problem = "deflate data truncated";
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      problem = std::string("deflate: ") + (z.msg != nullptr ? z.msg : "error " + std::to_string(rc));
      break;
    }
    if (z.avail_out == 0) {
      if (out.size() >= static_cast<std::size_t>(k_max_block_bytes)) {
        problem = "decompressed block larger than 256 MiB";
        break;
      }
      out.resize(out.size() * 2);
    }
  }
  inflateEnd(&z);
  out.resize(produced);
  return problem;
}

// The text of a string, bytes or number (Event Hubs Capture maps hold unions of those).
bool avro_text(avro_value_t* value, std::string& scratch, std::string_view& out) {
  avro_value_t branch;
  if (avro_value_get_type(value) == AVRO_UNION) {
    if (avro_value_get_current_branch(value, &branch) != 0) {
      return false;
    }
    value = &branch;
  }
  switch (avro_value_get_type(value)) {
    case AVRO_STRING: {
      const char* p = nullptr;
      size_t size = 0;
      if (avro_value_get_string(value, &p, &size) != 0) {
        return false;
      }
      out = std::string_view(p, size > 0 ? size - 1 : 0);  // size counts the NUL
      return true;
    }
    case AVRO_BYTES: {
      const void* p = nullptr;
      size_t size = 0;
      if (avro_value_get_bytes(value, &p, &size) != 0) {
        return false;
      }
      out = std::string_view(static_cast<const char*>(p), size);
      return true;
    }
    case AVRO_INT64: {
      int64_t v = 0;
      avro_value_get_long(value, &v);
      scratch = std::to_string(v);
      out = scratch;
      return true;
    }
    case AVRO_INT32: {
      int32_t v = 0;
      avro_value_get_int(value, &v);
      scratch = std::to_string(v);
      out = scratch;
      return true;
    }
    case AVRO_DOUBLE: {
      double v = 0;
      avro_value_get_double(value, &v);
      scratch = std::to_string(v);
      out = scratch;
      return true;
    }
    default:
      return false;
  }
}

// Walks one datum's encoding against the writer schema without allocating anything. Avro C
// allocates whatever length a corrupt varint claims before it notices the data is short, so every
// record is checked first and only records that fit their block are handed to it.
class DatumCheck {
 public:
  DatumCheck(const char* begin, const char* end) : pos_(begin), end_(end) {}
  const char* pos() const { return pos_; }

  bool datum(avro_schema_t s, int depth = 0) {
    if (depth > 64) {
      return false;
    }
    std::int64_t v = 0;
    switch (avro_typeof(s)) {
      case AVRO_STRING:
      case AVRO_BYTES:
        return varint(v) && skip(v);
      case AVRO_INT32:
      case AVRO_INT64:
        return varint(v);
      case AVRO_FLOAT:
        return skip(4);
      case AVRO_DOUBLE:
        return skip(8);
      case AVRO_BOOLEAN:
        return skip(1);
      case AVRO_NULL:
        return true;
      case AVRO_ENUM:
        return varint(v) && v >= 0 && v < avro_schema_enum_number_of_symbols(s);
      case AVRO_FIXED:
        return skip(avro_schema_fixed_size(s));
      case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(s); ++i) {
          if (!datum(avro_schema_record_field_get_by_index(s, static_cast<int>(i)), depth + 1)) {
            return false;
          }
        }
        return true;
      case AVRO_UNION:
        return varint(v) && v >= 0 && static_cast<std::uint64_t>(v) < avro_schema_union_size(s) &&
               datum(avro_schema_union_branch(s, static_cast<int>(v)), depth + 1);
      case AVRO_MAP:
      case AVRO_ARRAY:
        for (;;) {
          std::int64_t count = 0, ignored_size = 0;
          if (!varint(count)) {
            return false;
          }
          if (count == 0) {
            return true;
          }
          if (count < 0) {
            count = -count;
            if (!varint(ignored_size)) {
              return false;
            }
          }
          if (count > (1 << 24)) {
            return false;
          }
          for (std::int64_t i = 0; i < count; ++i) {
            if (avro_typeof(s) == AVRO_MAP) {
              if (!varint(v) || !skip(v) || !datum(avro_schema_map_values(s), depth + 1)) {
                return false;
              }
            } else if (!datum(avro_schema_array_items(s), depth + 1)) {
              return false;
            }
          }
        }
      case AVRO_LINK:
        return datum(avro_schema_link_target(s), depth + 1);
      default:
        return false;
    }
  }

 private:
  bool varint(std::int64_t& out) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < end_; shift += 7) {
      const auto byte = static_cast<unsigned char>(*pos_++);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        out = static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
        return true;
      }
    }
    return false;
  }
  bool skip(std::int64_t n) {
    if (n < 0 || n > end_ - pos_) {
      return false;
    }
    pos_ += n;
    return true;
  }

  const char* pos_;
  const char* end_;
};

// The IoT Hub Message record (or anything record-shaped with a Body).
bool is_message_schema(avro_schema_t schema) {
  return is_avro_record(schema) && avro_schema_record_field_get(schema, "Body") != nullptr;
}

struct AvroHandles {
  avro_schema_t schema = nullptr;
  avro_value_iface_t* iface = nullptr;
  avro_value_t value{};
  bool has_value = false;
  ~AvroHandles() {
    if (has_value) avro_value_decref(&value);
    if (iface != nullptr) avro_value_iface_decref(iface);
    if (schema != nullptr) avro_schema_decref(schema);
  }
};

std::string avro_error() {
  std::string e = avro_strerror();
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) {
    e.pop_back();
  }
  return e.empty() ? "unreadable" : e;
}

class AvroReader {
 public:
  AvroReader(ByteSource& source, BatchBuilder& b, const ReadOptions& opt) : in_(source), b_(b), opt_(opt), payload_(b) {}

  void read();

 private:
  bool read_header();
  void read_blocks();
  void emit(std::uint64_t block_offset);
  void map_entries(const char* field, bool system, HubStamps& h);
  // Reports a corrupt block at `block_offset` and skips to the next sync marker.
  void resync(std::uint64_t block_offset, const std::string& why);

  AvroStream in_;
  BatchBuilder& b_;
  const ReadOptions& opt_;
  PayloadParser payload_;
  AvroHandles avro_;
  std::string sync_;
  bool deflate_ = false;
  std::string block_, inflated_, scratch_;
};

void AvroReader::read() {
  if (read_header()) {
    read_blocks();
  }
}

bool AvroReader::read_header() {
  char magic[4];
  if (!in_.read_exact(magic, 4) || std::memcmp(magic, "Obj\x01", 4) != 0) {
    b_.malformed(0, "not an Avro object container file");
    return false;
  }
  std::map<std::string, std::string> meta;
  for (;;) {
    std::int64_t count = 0;
    if (in_.read_long(count) != AvroStream::Status::ok) {
      b_.malformed(0, "invalid Avro header: metadata cut off");
      return false;
    }
    if (count == 0) {
      break;
    }
    if (count < 0) {
      std::int64_t ignored_size = 0;
      count = -count;
      if (in_.read_long(ignored_size) != AvroStream::Status::ok) {
        b_.malformed(0, "invalid Avro header: metadata cut off");
        return false;
      }
    }
    for (std::int64_t i = 0; i < count; ++i) {
      std::string key, value;
      if (in_.read_bytes(key, k_max_meta_bytes) != AvroStream::Status::ok ||
          in_.read_bytes(value, k_max_meta_bytes) != AvroStream::Status::ok) {
        b_.malformed(0, "invalid Avro header: bad metadata entry");
        return false;
      }
      meta[key] = std::move(value);
    }
  }
  sync_.resize(16);
  if (!in_.read_exact(sync_.data(), sync_.size())) {
    b_.malformed(0, "invalid Avro header: no sync marker");
    return false;
  }
  const auto codec = meta.count("avro.codec") != 0 ? meta["avro.codec"] : std::string("null");
  if (codec != "null" && codec != "deflate") {
    b_.malformed(0, "unsupported Avro codec '" + codec + "' (null and deflate are read)");
    return false;
  }
  deflate_ = codec == "deflate";
  const std::string& schema_json = meta["avro.schema"];
  if (schema_json.empty() ||
      avro_schema_from_json_length(schema_json.data(), schema_json.size(), &avro_.schema) != 0) {
    b_.malformed(0, "invalid Avro schema: " + avro_error());
    return false;
  }
  if (!is_message_schema(avro_.schema)) {
    b_.malformed(0, "unsupported Avro schema: expected the IoT Hub Message record");
    return false;
  }
  avro_.iface = avro_generic_class_from_schema(avro_.schema);
  if (avro_.iface == nullptr || avro_generic_value_new(avro_.iface, &avro_.value) != 0) {
    b_.malformed(0, "unsupported Avro schema: " + avro_error());
    return false;
  }
  avro_.has_value = true;
  return true;
}

void AvroReader::resync(std::uint64_t block_offset, const std::string& why) {
  const bool found = in_.skip_past(sync_);
  const std::uint64_t skipped = in_.position() - block_offset;
  b_.malformed(block_offset, "corrupt Avro block: " + why + (found ? "; skipped " : "; no later sync marker, skipped ") +
                                 std::to_string(skipped) + " bytes");
}

void AvroReader::read_blocks() {
  for (;;) {
    if (b_.full()) {
      b_.flush(in_.position());
    }
    const std::uint64_t block_offset = in_.position();
    std::int64_t count = 0, size = 0;
    const auto s = in_.read_long(count);
    if (s == AvroStream::Status::eof) {
      return;  // a clean end between blocks
    }
    if (s == AvroStream::Status::bad || count < 0) {
      resync(block_offset, "bad record count");
      continue;
    }
    const auto s2 = in_.read_long(size);
    if (s2 != AvroStream::Status::ok || size < 0 || size > k_max_block_bytes) {
      if (s2 == AvroStream::Status::eof) {
        b_.malformed(block_offset, "truncated Avro block: the input ends inside it");
        return;
      }
      resync(block_offset, "bad block size");
      continue;
    }
    block_.resize(static_cast<std::size_t>(size) + sync_.size());
    if (!in_.read_exact(block_.data(), block_.size())) {
      b_.malformed(block_offset, "truncated Avro block: the input ends inside it");
      return;
    }
    if (std::string_view(block_).substr(static_cast<std::size_t>(size)) != sync_) {
      // The size or the data is wrong: look for the next marker inside what was read, then on.
      in_.unread(std::string_view(block_));
      resync(block_offset, "no sync marker after the block");
      continue;
    }
    std::string_view data(block_.data(), static_cast<std::size_t>(size));
    if (deflate_) {
      const std::string problem = inflate_block(data, inflated_);
      if (!problem.empty()) {
        b_.malformed(block_offset, "corrupt Avro block: " + problem);
        continue;  // the framing is intact: go on with the next block
      }
      data = inflated_;
    }
    // Records that fit the schema and the block, then Avro C decodes exactly those.
    DatumCheck check(data.data(), data.data() + data.size());
    std::int64_t sound = 0;
    while (sound < count && check.datum(avro_.schema)) {
      ++sound;
    }
    avro_reader_t reader = avro_reader_memory(data.data(), static_cast<int64_t>(check.pos() - data.data()));
    std::int64_t decoded = 0;
    std::string why = "the encoding does not match the schema";
    for (; decoded < sound; ++decoded) {
      avro_value_reset(&avro_.value);
      if (avro_value_read(reader, &avro_.value) != 0) {
        why = avro_error();
        break;
      }
      emit(block_offset);
    }
    avro_reader_free(reader);
    if (decoded < count) {
      b_.malformed(block_offset, "corrupt Avro block: records " + std::to_string(decoded + 1) + ".." +
                                     std::to_string(count) + " of " + std::to_string(count) + " unreadable (" + why +
                                     ")");
    }
  }
}

void AvroReader::map_entries(const char* field, bool system, HubStamps& h) {
  avro_value_t map;
  if (avro_value_get_by_name(&avro_.value, field, &map, nullptr) != 0) {
    return;
  }
  avro_value_t branch;
  if (avro_value_get_type(&map) == AVRO_UNION && avro_value_get_current_branch(&map, &branch) == 0) {
    map = branch;
  }
  if (avro_value_get_type(&map) != AVRO_MAP) {
    return;
  }
  size_t n = 0;
  avro_value_get_size(&map, &n);
  for (size_t i = 0; i < n; ++i) {
    avro_value_t element;
    const char* key = nullptr;
    std::string_view text;
    if (avro_value_get_by_index(&map, i, &element, &key) != 0 || key == nullptr ||
        !avro_text(&element, scratch_, text)) {
      continue;
    }
    const std::string_view name(key);
    if (!system) {
      if (name == "iothub-creation-time-utc" || (name == "iothub-app-iothub-creation-time-utc" && !h.has_creation_time)) {
        h.creation_time = b_.keep(text);
        h.has_creation_time = true;
      }
    } else if (name == "connectionDeviceId") {
      h.device_id = b_.keep(text);
    } else if (name == "connectionModuleId") {
      h.module_id = b_.keep(text);
    } else if (name == "messageId") {
      h.message_id = b_.keep(text);
    } else if (name == "connectionAuthMethod") {
      h.auth_method = b_.keep(auth_type(text));
    } else if (name == "dt-dataschema") {
      h.schema_id = b_.keep(text);
    } else if (name == "enqueuedTime") {
      h.system_enqueued_time = b_.keep(text);
    }
  }
}

void AvroReader::emit(std::uint64_t block_offset) {
  b_.begin(block_offset);
  HubStamps h;
  avro_value_t field;
  std::string_view text;
  if (avro_value_get_by_name(&avro_.value, "EnqueuedTimeUtc", &field, nullptr) == 0 &&
      avro_text(&field, scratch_, text)) {
    h.enqueued_time = b_.keep(text);
  }
  map_entries("Properties", false, h);
  map_entries("SystemProperties", true, h);
  std::string problem;
  if (avro_value_get_by_name(&avro_.value, "Body", &field, nullptr) == 0 && avro_text(&field, scratch_, text)) {
    problem = payload_.parse(text);
  }
  if (!problem.empty()) {
    b_.discard();
    b_.malformed(block_offset, problem);
    return;
  }
  apply_hub_stamps(b_, b_.current(), h);
  b_.commit();
}

}  // namespace

void read_avro(ByteSource& source, BatchBuilder& b, const ReadOptions& opt) {
  AvroReader reader(source, b, opt);
  reader.read();
}

}  // namespace aiot::lineage::detail
