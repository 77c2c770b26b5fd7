// The JSON-lines formats: ndjson, iothub-json (IoT Hub routing, JSON encoding), aws-s3-json
// (AWS IoT rule output). simdjson On-Demand over the line reader's large buffers: a line is parsed
// in place, and only the strings a record keeps are copied (into the batch's arena).
#include <simdjson.h>

#include <string>

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

// A string value read in place when it has no escapes, else unescaped by simdjson.
inline error_code fast_string(od::value& v, std::string_view& out) {
  const std::string_view token = v.raw_json_token();
  if (token.size() >= 2 && token.front() == '"') {
    const char* raw = token.data() + 1;
    const char* p = raw;
    while (*p != '"' && *p != '\\') {
      ++p;
    }
    if (*p == '"') {
      out = std::string_view(raw, static_cast<std::size_t>(p - raw));
      return simdjson::SUCCESS;
    }
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

void read_json_lines(ByteSource& source, Format format, BatchBuilder& b, const ReadOptions& opt) {
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

// ---- payload parser for the Avro reader ----

struct PayloadParser::Impl {
  explicit Impl(BatchBuilder& b) : reader(Format::iothub_avro, b) {}
  JsonReader reader;
};

PayloadParser::PayloadParser(BatchBuilder& b) : impl_(std::make_unique<Impl>(b)) {}
PayloadParser::~PayloadParser() = default;
std::string PayloadParser::parse(std::string_view json) { return impl_->reader.parse_payload(json); }

}  // namespace aiot::lineage::detail
