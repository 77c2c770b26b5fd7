// The JSON-lines formats: ndjson, iothub-json (IoT Hub routing, JSON encoding), aws-s3-json
// (AWS IoT rule output). simdjson On-Demand over the line reader's large buffers: a line is parsed
// in place, and only the strings a record keeps are copied (into the batch's arena).
#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/lineage/read_internal.hpp"

namespace aiot::lineage::detail {

namespace od = simdjson::ondemand;
using simdjson::error_code;

static_assert(LineReader::k_padding >= simdjson::SIMDJSON_PADDING, "lines must be followed by simdjson's padding");

namespace {

std::string json_reason(error_code e) {
  switch (e) {
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "invalid JSON: truncated (an object or array is not closed)";
    case simdjson::UNCLOSED_STRING:
      return "invalid JSON: truncated (a string is not closed)";
    case simdjson::UTF8_ERROR:
      return "invalid JSON: not valid UTF-8";
    case simdjson::TAPE_ERROR:
      return "invalid JSON: improper structure";
    case simdjson::NUMBER_ERROR:
      return "invalid JSON: bad number";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
    case simdjson::INCORRECT_TYPE:
      return "invalid JSON: bad value";
    case simdjson::STRING_ERROR:
      return "invalid JSON: bad string escape";
    default:
      return std::string("invalid JSON: ") + simdjson::error_message(e);
  }
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::size_t skip_space(std::string_view s, std::size_t at) {
  while (at < s.size() && (s[at] == ' ' || s[at] == '\t' || s[at] == '\r' || s[at] == '\n')) {
    ++at;
  }
  return at;
}

// A field's key without unescaping when it has no escapes (nearly always): unescaped_key() costs a
// virtual call and a copy per key.
inline error_code fast_key(od::field& field, std::string_view& key) {
  const char* raw = reinterpret_cast<const char*>(field.key().raw());
  const char* p = raw;
  while (*p != '"' && *p != '\\') {  // the closing quote is always there: stage 1 checked the strings
    ++p;
  }
  if (*p == '"') {
    key = std::string_view(raw, static_cast<std::size_t>(p - raw));
    return simdjson::SUCCESS;
  }
  return field.unescaped_key().get(key);
}

// A string value read in place when it has no escapes, else unescaped by simdjson. The raw token
// runs from the opening quote to the next token (trailing whitespace included); without a
// backslash in it, the string is what lies between the quotes.
inline error_code fast_string(od::value& v, std::string_view& out) {
  const std::string_view token = trim_right(v.raw_json_token());
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"' &&
      std::memchr(token.data() + 1, '\\', token.size() - 2) == nullptr) {
    out = token.substr(1, token.size() - 2);
    return simdjson::SUCCESS;
  }
  return v.get_string().get(out);
}

}  // namespace

class JsonReader {
 public:
  JsonReader(Format format, BatchBuilder& b) : format_(format), b_(b) { prefix_.reserve(256); }

  void parse_line(std::string_view line, std::uint64_t offset, std::size_t readable_after);
  std::string parse_payload(std::string_view json);

 private:
  error_code walk_payload(od::object& obj, Record& r);
  error_code walk_envelope(od::object& obj, Record& r, std::string& problem);
  error_code add_value(std::string_view name, od::value& v, od::json_type t, Record& r);
  bool aws_stamp(std::string_view key, od::value& v, od::json_type t, error_code& e);

  Format format_;
  BatchBuilder& b_;
  od::parser parser_;
  od::parser body_parser_;  // a base64 Body is parsed while the envelope's document is open
  std::string body_buf_;
  std::string prefix_;  // dotted name of the object being flattened ("" at the top level)
  std::string_view aws_client_id_, aws_received_text_;
  std::optional<double> aws_received_number_;
};

// One value of a payload at `name`: objects are flattened, arrays kept as raw JSON text.
error_code JsonReader::add_value(std::string_view name, od::value& v, od::json_type t, Record& r) {
  error_code e = simdjson::SUCCESS;
  switch (t) {
    case od::json_type::object: {
      od::object inner;
      if ((e = v.get_object().get(inner))) {
        return e;
      }
      // Nested names arrive as prefix_ itself; a top-level key starts the prefix.
      const std::size_t restore = prefix_.size();
      if (name.data() != prefix_.data()) {
        prefix_.assign(name);
      }
      e = walk_payload(inner, r);
      prefix_.resize(restore);
      return e;
    }
    case od::json_type::array: {
      od::array arr;
      std::string_view raw;
      if ((e = v.get_array().get(arr)) || (e = arr.raw_json().get(raw))) {
        return e;
      }
      b_.add_text(name, trim_right(raw));
      return e;
    }
    case od::json_type::number: {
      double d = 0;
      if ((e = v.get_double().get(d))) {
        return e;
      }
      b_.add_number(name, d);
      return e;
    }
    case od::json_type::string: {
      std::string_view s;
      if ((e = fast_string(v, s))) {
        return e;
      }
      b_.add_text(name, s);
      return e;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if ((e = v.get_bool().get(flag))) {
        return e;
      }
      b_.add_number(name, flag ? 1 : 0, Field::Kind::boolean);
      return e;
    }
    case od::json_type::null: {
      bool is_null = false;
      if ((e = v.is_null().get(is_null))) {
        return e;
      }
      if (!is_null) {
        return simdjson::N_ATOM_ERROR;
      }
      b_.add_null(name);
      return e;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

// The AWS IoT rule's stamps (clientid(), topic(), timestamp()): not payload fields.
bool JsonReader::aws_stamp(std::string_view key, od::value& v, od::json_type t, error_code& e) {
  if (key == "clientId" && t == od::json_type::string) {
    std::string_view s;
    if (!(e = v.get_string().get(s))) {
      aws_client_id_ = b_.keep(s);
    }
    return true;
  }
  if (key == "topic") {
    return true;  // skipped by the iterator
  }
  if (key == "receivedAt") {
    if (t == od::json_type::number) {
      double d = 0;
      if (!(e = v.get_double().get(d))) {
        aws_received_number_ = d;
      }
    } else if (t == od::json_type::string) {
      std::string_view s;
      if (!(e = v.get_string().get(s))) {
        aws_received_text_ = b_.keep(s);
      }
    }
    return true;
  }
  return false;
}

error_code JsonReader::walk_payload(od::object& obj, Record& r) {
  const bool top = prefix_.empty();
  const std::size_t base = prefix_.size();
  for (auto item : obj) {
    error_code e = item.error();
    if (e) {
      return e;
    }
    od::field& field = item.value_unsafe();
    std::string_view key;
    if ((e = fast_key(field, key))) {
      return e;
    }
    od::value& v = field.value();
    od::json_type t;
    if ((e = v.type().get(t))) {
      return e;
    }
    if (top) {
      if (format_ == Format::aws_s3_json && aws_stamp(key, v, t, e)) {
        if (e) {
          return e;
        }
        continue;
      }
      const Lifted which = lifted_key(key);
      if (which != Lifted::none) {
        if (t == od::json_type::string) {
          std::string_view s;
          if ((e = fast_string(v, s))) {
            return e;
          }
          if (!lift_text(b_, r, which, s)) {
            b_.add_text(key, s);
          }
          continue;
        }
        if (t == od::json_type::number) {
          const std::string_view raw = trim_right(v.raw_json_token());
          double d = 0;
          if ((e = v.get_double().get(d))) {
            return e;
          }
          if (!lift_number(b_, r, which, d, raw)) {
            b_.add_number(key, d);
          }
          continue;
        }
        if (t == od::json_type::null) {
          bool is_null = false;
          if ((e = v.is_null().get(is_null)) || !is_null) {
            return e ? e : simdjson::N_ATOM_ERROR;
          }
          continue;  // a null id or clock is a missing one
        }
        if (which == Lifted::device_ts && t == od::json_type::boolean) {
          bool flag = false;
          if ((e = v.get_bool().get(flag))) {
            return e;
          }
          lift_text(b_, r, which, flag ? "true" : "false");  // unparseable: TS001
          continue;
        }
      }
      if ((e = add_value(key, v, t, r))) {
        return e;
      }
      continue;
    }
    prefix_.resize(base);
    prefix_ += '.';
    prefix_ += key;
    if ((e = add_value(prefix_, v, t, r))) {
      return e;
    }
  }
  prefix_.resize(base);
  return simdjson::SUCCESS;
}

error_code JsonReader::walk_envelope(od::object& obj, Record& r, std::string& problem) {
  HubStamps h;
  for (auto item : obj) {
    error_code e = item.error();
    if (e) {
      return e;
    }
    od::field& field = item.value_unsafe();
    std::string_view key;
    if ((e = field.unescaped_key().get(key))) {
      return e;
    }
    od::value& v = field.value();
    od::json_type t;
    if ((e = v.type().get(t))) {
      return e;
    }
    if (key == "EnqueuedTimeUtc" && t == od::json_type::string) {
      std::string_view s;
      if ((e = v.get_string().get(s))) {
        return e;
      }
      h.enqueued_time = b_.keep(s);
    } else if ((key == "Properties" || key == "SystemProperties") && t == od::json_type::object) {
      const bool system = key == "SystemProperties";
      od::object props;
      if ((e = v.get_object().get(props))) {
        return e;
      }
      for (auto prop : props) {
        if ((e = prop.error())) {
          return e;
        }
        od::field& pf = prop.value_unsafe();
        std::string_view name;
        if ((e = pf.unescaped_key().get(name))) {
          return e;
        }
        od::value& pv = pf.value();
        od::json_type pt;
        if ((e = pv.type().get(pt))) {
          return e;
        }
        if (pt != od::json_type::string) {
          continue;
        }
        std::string_view s;
        if ((e = pv.get_string().get(s))) {
          return e;
        }
        if (!system) {
          if (name == "iothub-creation-time-utc" || (name == "iothub-app-iothub-creation-time-utc" && !h.has_creation_time)) {
            h.creation_time = b_.keep(s);
            h.has_creation_time = true;
          }
        } else if (name == "connectionDeviceId") {
          h.device_id = b_.keep(s);
        } else if (name == "connectionModuleId") {
          h.module_id = b_.keep(s);
        } else if (name == "messageId") {
          h.message_id = b_.keep(s);
        } else if (name == "connectionAuthMethod") {
          h.auth_method = b_.keep(auth_type(s));
        } else if (name == "dt-dataschema") {
          h.schema_id = b_.keep(s);
        } else if (name == "enqueuedTime") {
          h.system_enqueued_time = b_.keep(s);
        }
      }
    } else if (key == "Body") {
      if (t == od::json_type::object) {
        od::object body;
        if ((e = v.get_object().get(body)) || (e = walk_payload(body, r))) {
          return e;
        }
      } else if (t == od::json_type::string) {
        // Not JSON/UTF-8 on the wire: IoT Hub wrote the bytes as base64.
        std::string_view s;
        if ((e = v.get_string().get(s))) {
          return e;
        }
        std::string decoded;
        try {
          decoded = crypto::base64_decode(s);
        } catch (const Error&) {
          problem = "Body is neither a JSON object nor base64";
        }
        if (problem.empty()) {
          problem = parse_payload(decoded);
        }
      } else if (t != od::json_type::null) {
        problem = "Body is not a JSON object";
      }
    }
  }
  apply_hub_stamps(b_, r, h);
  return simdjson::SUCCESS;
}

std::string JsonReader::parse_payload(std::string_view json) {
  std::size_t at = json.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  at = skip_space(json, at);
  json = trim_right(json.substr(at));
  if (json.empty()) {
    return {};  // an empty body: a record without fields
  }
  if (json.front() != '{') {
    return "Body is not a JSON object";
  }
  body_buf_.assign(json);
  body_buf_.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  od::object obj;
  Record& r = b_.current();
  error_code e = body_parser_.iterate(body_buf_.data(), json.size(), body_buf_.size()).get(doc);
  if (!e) {
    e = doc.get_object().get(obj);
  }
  if (!e) {
    const std::string saved = std::move(prefix_);
    prefix_.clear();
    e = walk_payload(obj, r);
    prefix_ = saved;
  }
  if (e) {
    return "Body is not a JSON object: " + json_reason(e);
  }
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {
    return "Body is not a JSON object: trailing content";
  }
  return {};
}

void JsonReader::parse_line(std::string_view line, std::uint64_t offset, std::size_t readable_after) {
  std::size_t at = offset == 0 && line.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  at = skip_space(line, at);
  while (at < line.size()) {
    const std::uint64_t record_offset = offset + at;
    const std::size_t len = line.size() - at;
    Record& r = b_.begin(record_offset);
    auto fail = [&](std::string why) {
      b_.discard();
      b_.malformed(record_offset, std::move(why));
    };
    aws_client_id_ = {};
    aws_received_text_ = {};
    aws_received_number_.reset();

    od::document doc;
    od::object obj;
    error_code e = parser_.iterate(line.data() + at, len, len + readable_after).get(doc);
    if (!e) {
      e = doc.get_object().get(obj);
      if (e == simdjson::INCORRECT_TYPE) {
        fail("not a JSON object");
        return;
      }
    }
    std::string problem;
    if (!e) {
      e = format_ == Format::iothub_json ? walk_envelope(obj, r, problem) : walk_payload(obj, r);
    }
    if (e) {
      fail(json_reason(e));
      return;
    }
    if (!problem.empty()) {
      fail(std::move(problem));
      return;
    }
    if (format_ == Format::aws_s3_json) {
      if (!aws_client_id_.empty()) {
        r.device_id = aws_client_id_;  // the broker's client id wins over the payload's claim
      }
      if (aws_received_number_ || !aws_received_text_.empty()) {
        r.hub_ts_ms.reset();
        if (aws_received_number_) {
          lift_number(b_, r, Lifted::hub_ts, *aws_received_number_, {});
        } else {
          lift_text(b_, r, Lifted::hub_ts, aws_received_text_);
        }
      }
    }
    const char* rest = nullptr;
    if (doc.current_location().get(rest)) {
      b_.commit();  // the object ends the line
      return;
    }
    // More on the line: another object (a Firehose batch without separator) or garbage.
    const std::size_t next = skip_space(line, static_cast<std::size_t>(rest - line.data()));
    if (next < line.size() && line[next] == '{') {
      b_.commit();
      at = next;
      continue;
    }
    fail("trailing content after the JSON object");
    return;
  }
}

namespace {

void read_json_lines_sequential(ByteSource& source, Format format, BatchBuilder& b, const ReadOptions& opt) {
  JsonReader reader(format, b);
  LineReader lines(source, opt.max_record_bytes);
  std::string_view line;
  std::uint64_t offset = 0;
  bool overlong = false;
  while (lines.next(line, offset, overlong)) {
    if (overlong) {
      b.malformed(offset, "record longer than " + std::to_string(opt.max_record_bytes) + " bytes");
    } else {
      reader.parse_line(line, offset, lines.readable_after(line));
    }
    if (b.full()) {
      b.flush(lines.position());
    }
  }
}

// A run of whole lines of the input (or one over-long line, skipped unbuffered), parsed by one of
// the chunk parsers into batches of its own.
struct Chunk {
  std::uint64_t base = 0;  // input offset of data[0]
  std::unique_ptr<char[]> data;
  std::size_t size = 0;  // followed by LineReader::k_padding zero bytes
  bool overlong = false;  // a line longer than max_record_bytes starts at base; no data
  std::uint64_t end = 0;  // input offset after the chunk
  std::deque<RecordBatch> batches;
  std::exception_ptr error;
  bool done = false;
};

// Parses one chunk the way read_json_lines_sequential parses the same lines: the same records,
// malformed entries and offsets, in batches of at most batch_records.
void parse_chunk(Chunk& c, Format format, std::uint32_t input, const ReadOptions& opt) {
  ReadStats unused;
  BatchSink collect = [&c](RecordBatch&& b) { c.batches.push_back(std::move(b)); };
  BatchBuilder b(input, opt, collect, unused, c.base);
  if (c.overlong) {
    b.malformed(c.base, "record longer than " + std::to_string(opt.max_record_bytes) + " bytes");
    b.flush(c.end);
    return;
  }
  JsonReader reader(format, b);
  const char* const begin = c.data.get();
  const char* const end = begin + c.size;
  const char* at = begin;
  while (at < end) {
    const char* nl = static_cast<const char*>(std::memchr(at, '\n', static_cast<std::size_t>(end - at)));
    const char* line_end = nl != nullptr ? nl : end;
    std::string_view line(at, static_cast<std::size_t>(line_end - at));
    const std::uint64_t offset = c.base + static_cast<std::uint64_t>(at - begin);
    at = nl != nullptr ? nl + 1 : end;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.size() > opt.max_record_bytes) {
      b.malformed(offset, "record longer than " + std::to_string(opt.max_record_bytes) + " bytes");
    } else {
      const auto readable_after = static_cast<std::size_t>(end + LineReader::k_padding - (line.data() + line.size()));
      reader.parse_line(line, offset, readable_after);
    }
    if (b.full()) {
      b.flush(c.base + static_cast<std::uint64_t>(at - begin));
    }
  }
  b.flush(c.end);
}

// Cuts the input into chunks of whole lines and parses them on `threads` threads; the batches
// reach `out` chunk by chunk in input order. Reading (and so hashing) stays on this thread.
class ChunkedJsonReader {
 public:
  ChunkedJsonReader(ByteSource& source, Format format, BatchBuilder& out, const ReadOptions& opt, std::size_t threads)
      : source_(source), format_(format), out_(out), opt_(opt), max_in_flight_(threads * 2 + 1) {
    chunk_bytes_ = std::max<std::size_t>(opt.chunk_bytes, 64);
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { work(); });
    }
  }
  ~ChunkedJsonReader() { stop(); }
  ChunkedJsonReader(const ChunkedJsonReader&) = delete;
  ChunkedJsonReader& operator=(const ChunkedJsonReader&) = delete;

  void run() {
    while (auto chunk = next_chunk()) {
      submit(std::move(chunk));
    }
    while (!in_flight_.empty()) {
      deliver_oldest();
    }
    stop();
  }

 private:
  // The next chunk: whole lines up to about chunk_bytes (a longer line whole, up to the limit).
  std::unique_ptr<Chunk> next_chunk() {
    if (eof_ && carry_.empty()) {
      return nullptr;
    }
    auto c = std::make_unique<Chunk>();
    c->base = position_;
    std::size_t capacity = std::max(chunk_bytes_, carry_.size() * 2);
    c->data = std::make_unique_for_overwrite<char[]>(capacity + LineReader::k_padding);
    std::memcpy(c->data.get(), carry_.data(), carry_.size());
    std::size_t size = carry_.size();
    carry_.clear();
    std::size_t scanned = 0;  // no newline in data[0, scanned) beyond what was found before
    const char* last_nl = nullptr;
    for (;;) {
      while (!eof_ && size < chunk_bytes_) {
        const std::size_t got = source_.read(c->data.get() + size, std::min(capacity - size, LineReader::k_read));
        if (got == 0) {
          eof_ = true;
          break;
        }
        size += got;
      }
      last_nl = static_cast<const char*>(memrchr(c->data.get() + scanned, '\n', size - scanned));
      if (last_nl != nullptr || eof_) {
        break;
      }
      scanned = size;
      if (size > opt_.max_record_bytes + 1) {  // + 1: a "\r" may still be cut off
        return overlong_chunk(std::move(c), size);
      }
      // One line longer than a chunk (within the limit): read on, growing to hold it.
      chunk_bytes_ = size + 1;
      if (size == capacity) {
        const std::size_t grown = capacity * 2;
        auto bigger = std::make_unique_for_overwrite<char[]>(grown + LineReader::k_padding);
        std::memcpy(bigger.get(), c->data.get(), size);
        c->data = std::move(bigger);
        capacity = grown;
      }
    }
    const std::size_t keep = last_nl != nullptr ? static_cast<std::size_t>(last_nl - c->data.get()) + 1 : size;
    carry_.assign(c->data.get() + keep, size - keep);
    chunk_bytes_ = std::max<std::size_t>(opt_.chunk_bytes, 64);
    c->size = keep;
    std::memset(c->data.get() + keep, 0, LineReader::k_padding);
    position_ += keep;
    c->end = position_;
    return c;
  }

  // A line over the limit: skipped to its newline without being buffered whole.
  std::unique_ptr<Chunk> overlong_chunk(std::unique_ptr<Chunk> c, std::size_t buffered) {
    c->overlong = true;
    c->data.reset();
    std::uint64_t skipped = buffered;
    std::vector<char> buf(LineReader::k_read);
    for (;;) {
      const std::size_t got = source_.read(buf.data(), buf.size());
      if (got == 0) {
        eof_ = true;
        break;
      }
      const void* nl = std::memchr(buf.data(), '\n', got);
      if (nl != nullptr) {
        const auto upto = static_cast<std::size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
        skipped += upto;
        carry_.assign(buf.data() + upto, got - upto);
        break;
      }
      skipped += got;
    }
    position_ += skipped;
    c->end = position_;
    chunk_bytes_ = std::max<std::size_t>(opt_.chunk_bytes, 64);
    return c;
  }

  void submit(std::unique_ptr<Chunk> c) {
    while (in_flight_.size() >= max_in_flight_) {
      deliver_oldest();
    }
    std::lock_guard lock(mu_);
    in_flight_.push_back(c.get());
    todo_.push_back(c.get());
    owned_.push_back(std::move(c));
    ready_.notify_one();
  }

  void deliver_oldest() {
    Chunk* c = in_flight_.front();
    {
      std::unique_lock lock(mu_);
      done_cv_.wait(lock, [&] { return c->done; });
    }
    if (c->error) {
      std::rethrow_exception(c->error);
    }
    for (auto& b : c->batches) {
      out_.forward(std::move(b));
    }
    std::lock_guard lock(mu_);
    in_flight_.pop_front();
    owned_.pop_front();
  }

  void work() {
    for (;;) {
      Chunk* c = nullptr;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !todo_.empty() || stopping_; });
        if (todo_.empty()) {
          return;
        }
        c = todo_.front();
        todo_.pop_front();
      }
      try {
        parse_chunk(*c, format_, out_.input(), opt_);
      } catch (...) {
        c->error = std::current_exception();
      }
      c->data.reset();  // the batches keep what they need
      std::lock_guard lock(mu_);
      c->done = true;
      done_cv_.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      todo_.clear();
      ready_.notify_all();
    }
    for (auto& t : workers_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }

  ByteSource& source_;
  Format format_;
  BatchBuilder& out_;
  const ReadOptions& opt_;
  std::size_t max_in_flight_;
  std::size_t chunk_bytes_;
  std::string carry_;  // bytes read after the last chunk's last newline
  std::uint64_t position_ = 0;
  bool eof_ = false;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable ready_, done_cv_;
  std::deque<Chunk*> todo_, in_flight_;
  std::deque<std::unique_ptr<Chunk>> owned_;
  bool stopping_ = false;
};

}  // namespace

void read_json_lines(ByteSource& source, Format format, BatchBuilder& b, const ReadOptions& opt) {
  std::size_t threads = opt.parse_threads;
  if (threads == 0) {
    threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
  }
  if (threads <= 1) {
    read_json_lines_sequential(source, format, b, opt);
    return;
  }
  ChunkedJsonReader chunked(source, format, b, opt, threads);
  chunked.run();
}

// ---- payload parser for the Avro reader ----

struct PayloadParser::Impl {
  explicit Impl(BatchBuilder& b) : reader(Format::iothub_avro, b) {}
  JsonReader reader;
};

PayloadParser::PayloadParser(BatchBuilder& b) : impl_(std::make_unique<Impl>(b)) {}
PayloadParser::~PayloadParser() = default;
std::string PayloadParser::parse(std::string_view json) { return impl_->reader.parse_payload(json); }

}  // namespace aiot::lineage::detail
