// Format names, detection, the per-input driver (gzip, hashing, dispatch) and the pieces every
// format reader shares: the batch builder, the line reader, timestamps and lifted keys.
#include <openssl/evp.h>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/lineage/read_internal.hpp"
#include "aiot/lineage/readers.hpp"

namespace aiot::lineage {

namespace {

struct FormatName {
  Format format;
  std::string_view name;
};
constexpr std::array<FormatName, 6> k_format_names{{
    {Format::auto_detect, "auto"},
    {Format::ndjson, "ndjson"},
    {Format::csv, "csv"},
    {Format::iothub_json, "iothub-json"},
    {Format::iothub_avro, "iothub-avro"},
    {Format::aws_s3_json, "aws-s3-json"},
}};

constexpr std::string_view k_avro_magic{"Obj\x01", 4};
constexpr std::size_t k_detect_bytes = 64u << 10;

}  // namespace

Format parse_format(std::string_view name) {
  for (const auto& f : k_format_names) {
    if (f.name == name) {
      return f.format;
    }
  }
  std::string valid;
  for (const auto& f : k_format_names) {
    valid += valid.empty() ? "" : ", ";
    valid += f.name;
  }
  throw Error::usage("unknown telemetry format '" + std::string(name) + "'", "valid formats: " + valid);
}

std::string_view to_string(Format format) {
  for (const auto& f : k_format_names) {
    if (f.format == format) {
      return f.name;
    }
  }
  return "auto";
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The kind of JSON export from the top-level keys of its first objects. Lines that do not parse
// (a planted truncation, a cut-off last line of the head) fall back to looking for the quoted keys.
Format detect_json_kind(const std::vector<std::string_view>& json_lines) {
  bool enqueued = false, system = false, aws = false;
  auto note = [&](std::string_view key) {
    enqueued = enqueued || key == "EnqueuedTimeUtc";
    system = system || key == "SystemProperties";
    aws = aws || key == "clientId" || key == "receivedAt";
  };
  simdjson::ondemand::parser parser;
  for (const auto line : json_lines) {
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    bool parsed = false;
    if (!parser.iterate(padded).get(doc) && !doc.get_object().get(obj)) {
      parsed = true;
      for (auto field : obj) {
        std::string_view key;
        if (field.error() || field.unescaped_key().get(key)) {
          parsed = false;
          break;
        }
        note(key);
      }
    }
    if (parsed) {
      break;  // one whole object decides
    }
    for (const std::string_view key : {"EnqueuedTimeUtc", "SystemProperties", "clientId", "receivedAt"}) {
      if (line.find("\"" + std::string(key) + "\"") != std::string_view::npos) {
        note(key);
      }
    }
  }
  if (enqueued && system) {
    return Format::iothub_json;
  }
  return aws ? Format::aws_s3_json : Format::ndjson;
}

}  // namespace

Format detect_format(std::string_view head) {
  if (head.substr(0, 4) == k_avro_magic) {
    return Format::iothub_avro;
  }
  if (head.substr(0, 3) == "\xEF\xBB\xBF") {
    head.remove_prefix(3);
  }
  // JSON when a line of the head starts with '{' (the first line may be a malformed one); the
  // first such lines say which JSON export it is.
  std::vector<std::string_view> json_lines;
  std::size_t at = 0;
  while (at < head.size() && json_lines.size() < 8) {
    std::size_t end = head.find('\n', at);
    if (end == std::string_view::npos) {
      end = head.size();
    }
    std::size_t first = at;
    while (first < end && is_space(head[first])) {
      ++first;
    }
    if (first < end && head[first] == '{') {
      json_lines.push_back(head.substr(first, end - first));
    }
    at = end + 1;
  }
  return json_lines.empty() ? Format::csv : detect_json_kind(json_lines);
}

namespace {

// SHA-256 of a stream. Past its first k_inline_bytes the hashing runs on a thread of its own: the
// reader thread (read + parse) is the audit's critical path, and SHA-256 was a quarter of its CPU
// (0.5 s per GB with SHA-NI). Each read's bytes are copied into a pooled block (at most 8 blocks of
// at most 1 MiB) for that thread: a memcpy is ~20x cheaper than hashing them. Small inputs never
// start the thread.
class Sha256Stream {
 public:
  static constexpr std::size_t k_inline_bytes = 4u << 20;
  static constexpr std::size_t k_block_bytes = 1u << 20;
  static constexpr std::size_t k_max_blocks = 8;  // bytes waiting for the hashing thread: <= 8 MiB

  Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw Error::failure("OpenSSL: cannot initialise SHA-256");
    }
  }
  ~Sha256Stream() {
    stop(/*drain=*/false);
    EVP_MD_CTX_free(ctx_);
  }
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void update(const char* data, std::size_t n) {
    if (!worker_.joinable() && inline_bytes_ + n <= k_inline_bytes) {
      inline_bytes_ += n;
      ok_ = ok_ && EVP_DigestUpdate(ctx_, data, n) == 1;
      return;
    }
    if (!worker_.joinable()) {
      worker_ = std::thread([this] { work(); });
    }
    while (n > 0) {
      const std::size_t part = std::min(n, k_block_bytes);
      std::vector<char> block;
      {
        std::unique_lock lock(mu_);
        space_.wait(lock, [&] { return !spare_.empty() || blocks_ < k_max_blocks; });
        if (!spare_.empty()) {
          block = std::move(spare_.back());
          spare_.pop_back();
        } else {
          ++blocks_;
        }
      }
      block.assign(data, data + part);  // outside the lock; a spare block keeps its capacity
      {
        std::lock_guard lock(mu_);
        queued_.push_back(std::move(block));
      }
      ready_.notify_one();
      data += part;
      n -= part;
    }
  }

  std::string hex_digest() {
    stop(/*drain=*/true);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_, md, &len) != 1) {
      throw Error::failure("OpenSSL: SHA-256 of the input failed");
    }
    return str::hex(md, len);
  }

 private:
  void work() {
    for (;;) {
      std::vector<char> block;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !queued_.empty() || closing_; });
        if (queued_.empty() || abandoned_) {
          return;
        }
        block = std::move(queued_.front());
        queued_.pop_front();
      }
      const bool hashed = EVP_DigestUpdate(ctx_, block.data(), block.size()) == 1;
      {
        std::lock_guard lock(mu_);
        ok_ = ok_ && hashed;
        spare_.push_back(std::move(block));
      }
      space_.notify_one();
    }
  }

  // drain: hash what is queued first (the digest); otherwise the input is being abandoned.
  void stop(bool drain) {
    if (!worker_.joinable()) {
      return;
    }
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      abandoned_ = !drain;
    }
    ready_.notify_one();
    worker_.join();
  }

  EVP_MD_CTX* ctx_;
  std::uint64_t inline_bytes_ = 0;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<std::vector<char>> queued_;
  std::vector<std::vector<char>> spare_;
  std::size_t blocks_ = 0;  // blocks made so far (queued, being hashed or spare)
  bool closing_ = false, abandoned_ = false;
  bool ok_ = true;  // written by the hashing thread under mu_ once it runs; read after stop()
};

// Counts and hashes every byte a reader pulls.
class CountingSource : public ByteSource {
 public:
  CountingSource(ByteSource& inner, bool hash) : inner_(inner) {
    if (hash) {
      sha_ = std::make_unique<Sha256Stream>();
    }
  }

  std::size_t read(char* buf, std::size_t n) override {
    const std::size_t got = inner_.read(buf, n);
    bytes_ += got;
    if (sha_ && got > 0) {
      sha_->update(buf, got);
    }
    return got;
  }
  std::uint64_t bytes() const { return bytes_; }
  std::string hex_digest() { return sha_ ? sha_->hex_digest() : std::string(); }

 private:
  ByteSource& inner_;
  std::unique_ptr<Sha256Stream> sha_;
  std::uint64_t bytes_ = 0;
};

}  // namespace

ReadStats read_source(ByteSource& source, std::uint32_t input_index, const ReadOptions& opt, const BatchSink& sink) {
  ReadStats stats;
  detail::PeekedSource raw(source, 2);
  std::unique_ptr<detail::GzipSource> gzip;
  if (detail::has_gzip_magic(raw.head())) {
    gzip = std::make_unique<detail::GzipSource>(raw, /*throw_on_corrupt=*/false);
  }
  CountingSource counted(gzip ? static_cast<ByteSource&>(*gzip) : raw, opt.hash_content);
  detail::PeekedSource peeked(counted, k_detect_bytes);
  stats.detected = opt.format == Format::auto_detect ? detect_format(peeked.head()) : opt.format;

  ReadOptions effective = opt;
  effective.batch_records = std::max<std::size_t>(1, opt.batch_records);
  effective.max_record_bytes = std::max<std::size_t>(1, opt.max_record_bytes);
  detail::BatchBuilder builder(input_index, effective, sink, stats);
  switch (stats.detected) {
    case Format::csv:
      detail::read_csv(peeked, builder, effective);
      break;
    case Format::iothub_avro:
      detail::read_avro(peeked, builder, effective);
      break;
    default:
      detail::read_json_lines(peeked, stats.detected, builder, effective);
      break;
  }
  if (gzip && !gzip->corrupt().empty()) {
    builder.malformed(counted.bytes(), gzip->corrupt() + "; the rest of the input is unreadable");
  }
  stats.bytes = counted.bytes();
  builder.flush(stats.bytes);
  stats.sha256 = counted.hex_digest();
  return stats;
}

ReadStats read_input(const Input& in, std::uint32_t input_index, const ReadOptions& opt, const BatchSink& sink) {
  if (!in.open) {
    throw Error::failure("input " + in.name + " cannot be opened (no opener)");
  }
  auto source = in.open();
  return read_source(*source, input_index, opt, sink);
}

namespace {

struct BatchPool {
  static constexpr std::size_t k_max = 6;
  std::mutex mu;
  std::vector<RecordBatch> free;
};

BatchPool& batch_pool() {
  static BatchPool pool;
  return pool;
}

}  // namespace

void recycle_batch(RecordBatch&& batch) {
  RecordBatch b = std::move(batch);
  b.records.clear();
  b.fields.clear();
  b.malformed.clear();
  b.text.reset();
  b.bytes = 0;
  auto& pool = batch_pool();
  std::lock_guard lock(pool.mu);
  if (pool.free.size() < BatchPool::k_max) pool.free.push_back(std::move(b));
}

RecordBatch reuse_batch() {
  auto& pool = batch_pool();
  std::lock_guard lock(pool.mu);
  if (pool.free.empty()) return RecordBatch{};
  RecordBatch b = std::move(pool.free.back());
  pool.free.pop_back();
  return b;
}

namespace detail {

// ---- BatchBuilder ----

BatchBuilder::BatchBuilder(std::uint32_t input, const ReadOptions& opt, const BatchSink& sink, ReadStats& stats,
                           std::uint64_t start_position)
    : input_(input), opt_(opt), sink_(sink), stats_(stats), flushed_position_(start_position) {
  reset();
}

void BatchBuilder::reset() {
  batch_ = reuse_batch();
  name_hashes_.clear();  // a recycled batch's text may sit where the last one's names were
  batch_.records.reserve(std::min<std::size_t>(opt_.batch_records, 1u << 16));
  batch_.fields.reserve(std::min<std::size_t>(opt_.batch_records, 1u << 16) * 8);
}

Record& BatchBuilder::begin(std::uint64_t offset) {
  Record& r = batch_.records.emplace_back();
  r.input = input_;
  r.offset = offset;
  r.field_begin = static_cast<std::uint32_t>(batch_.fields.size());
  return r;
}

std::string_view BatchBuilder::keep_name(std::string_view name) {
  // Records of one export mostly repeat the previous record's field names in the same order:
  // point at that copy instead of storing the name again.
  const std::size_t at = batch_.fields.size() - batch_.records.back().field_begin;
  if (batch_.records.size() >= 2) {
    const Record& previous = batch_.records[batch_.records.size() - 2];
    if (at < previous.field_count) {
      const std::string_view before = batch_.fields[previous.field_begin + at].name;
      if (before == name) {
        return before;
      }
    }
  }
  return batch_.text.keep(name);
}

void BatchBuilder::add_number(std::string_view name, double value, Field::Kind kind) {
  const std::string_view kept = keep_name(name);
  Field& f = batch_.fields.emplace_back();
  f.name = kept;
  f.kind = kind;
  f.number = value;
}

void BatchBuilder::add_text(std::string_view name, std::string_view text) {
  const std::string_view kept = keep_name(name);
  Field& f = batch_.fields.emplace_back();
  f.name = kept;
  f.kind = Field::Kind::text;
  f.text = batch_.text.keep(text);
}

void BatchBuilder::add_null(std::string_view name) {
  const std::string_view kept = keep_name(name);
  Field& f = batch_.fields.emplace_back();
  f.name = kept;
  f.kind = Field::Kind::null;
}

namespace {

inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  // A multiply-xorshift step (as in wyhash/murmur finalisers): fast, and enough to tell payloads
  // apart; not cryptographic.
  h ^= v;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

inline std::uint64_t mix_bytes(std::uint64_t h, std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix(h, w);
  }
  std::uint64_t tail = 0;
  if (i < s.size()) {
    std::memcpy(&tail, s.data() + i, s.size() - i);
  }
  return mix(h, tail ^ (static_cast<std::uint64_t>(s.size()) << 56));
}

}  // namespace

void BatchBuilder::commit() {
  Record& r = batch_.records.back();
  r.field_count = static_cast<std::uint32_t>(batch_.fields.size() - r.field_begin);
  // Each field hashes on its own (independent chains the CPU overlaps), then the fields are
  // combined in order.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::uint32_t i = 0; i < r.field_count; ++i) {
    const Field& f = batch_.fields[r.field_begin + i];
    std::uint64_t value = static_cast<std::uint64_t>(f.kind);
    if (f.kind == Field::Kind::text) {
      value = mix_bytes(value, f.text);
    } else if (f.kind != Field::Kind::null) {
      std::uint64_t bits = 0;
      const double v = f.number == 0 ? 0.0 : f.number;  // -0 == 0
      std::memcpy(&bits, &v, sizeof bits);
      value = mix(value, bits);
    }
    if (name_hashes_.size() <= i) name_hashes_.resize(i + 1);
    auto& nh = name_hashes_[i];
    if (nh.data != f.name.data() || nh.size != f.name.size()) {
      nh = {f.name.data(), f.name.size(), mix_bytes(0x51ed270b27902b1dULL, f.name)};
    }
    const std::uint64_t field = nh.hash ^ (value * 0xff51afd7ed558ccdULL);
    h = (h ^ field) * 0x9e3779b97f4a7c15ULL + (h >> 31);
  }
  r.payload_hash = h;
  ++stats_.records;
}

void BatchBuilder::discard() {
  const Record& r = batch_.records.back();
  batch_.fields.resize(r.field_begin);
  batch_.records.pop_back();
}

void BatchBuilder::malformed(std::uint64_t offset, std::string reason) {
  batch_.malformed.push_back(Malformed{input_, offset, std::move(reason)});
  ++stats_.malformed;
}

bool BatchBuilder::full() const {
  return batch_.records.size() >= opt_.batch_records || batch_.malformed.size() >= opt_.batch_records;
}

void BatchBuilder::flush(std::uint64_t position) {
  if (batch_.records.empty() && batch_.malformed.empty() && position == flushed_position_) {
    return;
  }
  batch_.bytes = position - flushed_position_;
  flushed_position_ = position;
  sink_(std::move(batch_));
  reset();
}

void BatchBuilder::forward(RecordBatch&& batch) {
  stats_.records += batch.records.size();
  stats_.malformed += batch.malformed.size();
  flushed_position_ += batch.bytes;
  sink_(std::move(batch));
}

// ---- LineReader ----

LineReader::LineReader(ByteSource& source, std::size_t max_line_bytes)
    : source_(source), max_line_(max_line_bytes), capacity_(k_chunk) {
  buf_ = std::make_unique<char[]>(capacity_ + k_padding);
}

bool LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    base_ += begin_;
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ - end_ < k_chunk / 2) {
    // A line longer than a chunk (but within the limit): grow to hold it.
    const std::size_t grown = std::max(capacity_ * 2, end_ + k_chunk);
    auto bigger = std::make_unique<char[]>(grown + k_padding);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    capacity_ = grown;
  }
  // Read in pieces small enough to stay in L2 between the hash, stage 1 and the walk.
  const std::size_t got = source_.read(buf_.get() + end_, std::min(capacity_ - end_, k_read));
  if (got == 0) {
    eof_ = true;
    return false;
  }
  end_ += got;
  return true;
}

void LineReader::skip_to_newline() {
  for (;;) {
    // Everything buffered belongs to the over-long line: drop it.
    base_ += end_;
    begin_ = end_ = scan_ = 0;
    if (!fill()) {
      return;
    }
    const void* nl = std::memchr(buf_.get(), '\n', end_);
    if (nl != nullptr) {
      begin_ = scan_ = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.get()) + 1;
      return;
    }
  }
}

bool LineReader::next(std::string_view& line, std::uint64_t& offset, bool& overlong) {
  for (;;) {
    if (scan_ < end_) {
      const void* nl = std::memchr(buf_.get() + scan_, '\n', end_ - scan_);
      if (nl != nullptr) {
        const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.get());
        offset = base_ + begin_;
        std::size_t len = at - begin_;
        line = std::string_view(buf_.get() + begin_, len);
        begin_ = scan_ = at + 1;
        if (len > 0 && line[len - 1] == '\r') {
          line.remove_suffix(1);
        }
        overlong = line.size() > max_line_;
        if (overlong) {
          line = {};
        }
        return true;
      }
      scan_ = end_;
    }
    if (eof_) {
      if (begin_ < end_) {
        offset = base_ + begin_;
        line = std::string_view(buf_.get() + begin_, end_ - begin_);
        begin_ = scan_ = end_;
        if (!line.empty() && line.back() == '\r') {
          line.remove_suffix(1);
        }
        overlong = line.size() > max_line_;
        if (overlong) {
          line = {};
        }
        return true;
      }
      return false;
    }
    if (end_ - begin_ > max_line_ + 1) {  // + 1: a "\r" may still be cut off
      offset = base_ + begin_;
      skip_to_newline();
      line = {};
      overlong = true;
      return true;
    }
    fill();
  }
}

// ---- timestamps and numbers ----

namespace {

// Callers check the length first (parse_utc_ms needs at least 20 characters).
inline bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    const unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) {
      return false;
    }
    v = v * 10 + static_cast<int>(d);
  }
  out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<std::int64_t> parse_utc_ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00|-00:00)
  if (s.size() < 20) {
    return std::nullopt;
  }
  // Telemetry timestamps come in time order: the date, hour and minute of the previous one are
  // usually the same, so keep the last "YYYY-MM-DDTHH:MM" and its value.
  thread_local char cached_prefix[16];
  thread_local std::int64_t cached_minute_ms = 0;
  thread_local bool cached = false;
  std::int64_t minute_ms = 0;
  if (cached && std::memcmp(s.data(), cached_prefix, 16) == 0) {
    minute_ms = cached_minute_ms;
  } else {
    int year, month, day, hour, minute;
    if (!digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' || !digits(s, 8, 2, day) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) || s[13] != ':' ||
        !digits(s, 14, 2, minute)) {
      return std::nullopt;
    }
    static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > k_days[month - 1] + (month == 2 && leap(year) ? 1 : 0) ||
        hour > 23 || minute > 59) {
      return std::nullopt;
    }
    minute_ms = (days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                 hour * 3600 + minute * 60) * 1000;
    std::memcpy(cached_prefix, s.data(), 16);
    cached_minute_ms = minute_ms;
    cached = true;
  }
  int second = 0;
  if (s[16] != ':' || !digits(s, 17, 2, second) || second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  int millis = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    const std::size_t start = at;
    int scale = 100;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      millis += (s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) {
      return std::nullopt;
    }
  }
  const std::string_view zone = s.substr(at);
  if (zone != "Z" && zone != "z" && zone != "+00:00" && zone != "-00:00") {
    return std::nullopt;  // malformed, or an offset that is not UTC
  }
  return minute_ms + std::min(second, 59) * 1000 + millis;
}

std::optional<double> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return std::nullopt;
  }
  // JSON-style numbers only: no "inf", "nan", hex or leading '+'.
  const char c = s[0];
  if (!((c >= '0' && c <= '9') || c == '-' || c == '.')) {
    return std::nullopt;
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// ---- lifted keys ----

Lifted lifted_key(std::string_view k) {
  switch (k.size()) {
    case 2:
      return k == "ts" ? Lifted::device_ts : Lifted::none;
    case 3:
      return k == "seq" ? Lifted::seq : Lifted::none;
    case 5:
      return k == "model" ? Lifted::model : Lifted::none;
    case 6:
      return k == "schema" ? Lifted::schema : Lifted::none;
    case 8:
      return k == "deviceId" ? Lifted::device : (k == "moduleId" ? Lifted::module : Lifted::none);
    case 9:
      if (k == "device_id") return Lifted::device;
      if (k == "messageId") return Lifted::message;
      if (k == "timestamp") return Lifted::device_ts;
      if (k == "modelName") return Lifted::model;
      return Lifted::none;
    case 10:
      return k == "message_id" ? Lifted::message : Lifted::none;
    case 12:
      if (k == "enqueuedTime") return Lifted::hub_ts;
      if (k == "modelVersion") return Lifted::model_version;
      return Lifted::none;
    case 13:
      if (k == "schemaVersion") return Lifted::schema;
      if (k == "model_version") return Lifted::model_version;
      return Lifted::none;
    default:
      return Lifted::none;
  }
}

namespace {

bool set_once(BatchBuilder& b, std::string_view& slot, std::string_view text) {
  if (!slot.empty()) {
    return false;
  }
  slot = b.keep(text);
  return true;
}

std::optional<std::int64_t> epoch_ms(double v) {
  if (!std::isfinite(v) || std::fabs(v) > 9.0e15) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(v));
}

}  // namespace

bool lift_text(BatchBuilder& b, Record& r, Lifted which, std::string_view text) {
  switch (which) {
    case Lifted::device:
      return set_once(b, r.device_id, text);
    case Lifted::module:
      return set_once(b, r.module_id, text);
    case Lifted::message:
      return set_once(b, r.message_id, text);
    case Lifted::schema:
      return set_once(b, r.schema_id, text);
    case Lifted::model:
      return set_once(b, r.model_name, text);
    case Lifted::model_version:
      return set_once(b, r.model_version, text);
    case Lifted::device_ts: {
      if (r.device_ts_ms || r.device_ts_invalid) {
        return false;
      }
      auto ms = parse_utc_ms(text);
      if (!ms) {
        if (const auto n = parse_number(text)) {
          ms = epoch_ms(*n);
        }
      }
      if (ms) {
        r.device_ts_ms = ms;
      } else {
        r.device_ts_invalid = true;
        r.device_ts_text = b.keep(text);
      }
      return true;
    }
    case Lifted::hub_ts: {
      if (r.hub_ts_ms) {
        return false;
      }
      auto ms = parse_utc_ms(text);
      if (!ms) {
        if (const auto n = parse_number(text)) {
          ms = epoch_ms(*n);
        }
      }
      r.hub_ts_ms = ms;
      return true;
    }
    case Lifted::seq: {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.seq >= 0 || ec != std::errc{} || end != text.data() + text.size() || v < 0) {
        return false;
      }
      r.seq = v;
      return true;
    }
    case Lifted::none:
      return false;
  }
  return false;
}

bool lift_number(BatchBuilder& b, Record& r, Lifted which, double value, std::string_view raw) {
  switch (which) {
    case Lifted::device_ts:
      if (r.device_ts_ms || r.device_ts_invalid) {
        return false;
      }
      if (const auto ms = epoch_ms(value)) {
        r.device_ts_ms = ms;
      } else {
        r.device_ts_invalid = true;
        r.device_ts_text = b.keep(raw);
      }
      return true;
    case Lifted::hub_ts:
      if (r.hub_ts_ms) {
        return false;
      }
      r.hub_ts_ms = epoch_ms(value);
      return true;
    case Lifted::seq:
      return lift_text(b, r, which, raw);
    default:
      return lift_text(b, r, which, raw);  // ids and versions given as numbers keep their text
  }
}

// ---- IoT Hub stamps ----

std::string auth_type(std::string_view method) {
  simdjson::padded_string padded(method);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  std::string_view type;
  if (!parser.iterate(padded).get(doc) && !doc["type"].get_string().get(type)) {
    return std::string(type);
  }
  return std::string(method);
}

void apply_hub_stamps(BatchBuilder& b, Record& r, const HubStamps& h) {
  // Hub stamps are set by the hub from the connection: they win over what the payload claims.
  if (!h.device_id.empty()) r.device_id = h.device_id;
  if (!h.module_id.empty()) r.module_id = h.module_id;
  if (!h.message_id.empty()) r.message_id = h.message_id;
  if (!h.auth_method.empty()) r.auth_method = h.auth_method;
  if (!h.schema_id.empty()) r.schema_id = h.schema_id;
  const std::string_view enqueued = !h.enqueued_time.empty() ? h.enqueued_time : h.system_enqueued_time;
  if (!enqueued.empty()) {
    r.hub_ts_ms = std::nullopt;
    lift_text(b, r, Lifted::hub_ts, enqueued);
  }
  if (h.has_creation_time) {
    r.device_ts_ms = std::nullopt;
    r.device_ts_invalid = false;
    r.device_ts_text = {};
    lift_text(b, r, Lifted::device_ts, h.creation_time);
  }
}

}  // namespace detail

}  // namespace aiot::lineage
