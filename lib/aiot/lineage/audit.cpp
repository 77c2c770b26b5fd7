#include "aiot/lineage/audit.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/time.hpp"

namespace aiot::lineage {

namespace {

// Thrown inside the reader thread when the checker side gave up: unwinds read_input quickly.
struct Cancelled {};

// A bounded hand-over of batches from one producer to one consumer. The bound is what keeps
// memory flat however large the inputs are: a reader that is faster than the checks waits.
class BatchQueue {
 public:
  explicit BatchQueue(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  void push(RecordBatch&& b) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_ || cancelled_; });
    if (cancelled_) throw Cancelled{};
    q_.push_back(std::move(b));
    not_empty_.notify_one();
  }
  // False when closed and drained.
  bool pop(RecordBatch& out) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    out = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    q_.clear();
    not_full_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<RecordBatch> q_;
  bool closed_ = false;
  bool cancelled_ = false;
};

}  // namespace

namespace {

std::optional<std::int64_t> parse_time_ms(std::string text) {
  auto t = parse_rfc3339(text);
  if (!t && text.size() >= 2) {
    // "2026-11-16T00:00Z": seconds left out.
    auto z = text.find_last_of("Z+-");
    auto colon = std::count(text.begin(), text.end(), ':');
    if (z != std::string::npos && z > 10 && colon == 1) t = parse_rfc3339(text.substr(0, z) + ":00" + text.substr(z));
    if (!t && text.size() == 10) t = parse_rfc3339(text + "T00:00:00Z");  // a date
  }
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

// P[nW][nD][T[nH][nM][nS]]
std::optional<std::int64_t> parse_iso_duration_ms(std::string_view s) {
  if (s.size() < 2 || s[0] != 'P') return std::nullopt;
  std::int64_t total = 0;
  bool in_time = false, any = false;
  std::size_t i = 1;
  while (i < s.size()) {
    if (s[i] == 'T') {
      in_time = true;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i || j >= s.size()) return std::nullopt;
    double n = std::stod(std::string(s.substr(i, j - i)));
    double unit = 0;
    switch (s[j]) {
      case 'W': unit = in_time ? 0 : 7 * 86'400'000.0; break;
      case 'D': unit = in_time ? 0 : 86'400'000.0; break;
      case 'H': unit = in_time ? 3'600'000.0 : 0; break;
      case 'M': unit = in_time ? 60'000.0 : 0; break;
      case 'S': unit = in_time ? 1000.0 : 0; break;
      default: return std::nullopt;
    }
    if (unit == 0) return std::nullopt;
    total += static_cast<std::int64_t>(n * unit);
    any = true;
    i = j + 1;
  }
  if (!any) return std::nullopt;
  return total;
}

}  // namespace

std::pair<std::int64_t, std::int64_t> parse_window(std::string_view text) {
  const auto hint = "Give FROM/TO or FROM/DURATION, e.g. 2026-11-16T00:00:00Z/2026-11-23T00:00:00Z or 2026-11-16T00:00Z/7d.";
  auto slash = text.find('/');
  if (slash == std::string_view::npos) throw Error::usage(fmt::format("--window '{}': expected FROM/TO or FROM/DURATION", text), hint);
  auto from = parse_time_ms(std::string(text.substr(0, slash)));
  if (!from) throw Error::usage(fmt::format("--window '{}': '{}' is not an RFC 3339 time", text, text.substr(0, slash)), hint);
  auto rest = std::string(text.substr(slash + 1));
  std::optional<std::int64_t> to = parse_time_ms(rest);
  if (!to) {
    std::optional<std::int64_t> d;
    if (auto p = parse_duration(rest)) d = p->count();
    else d = parse_iso_duration_ms(rest);
    if (!d) throw Error::usage(fmt::format("--window '{}': '{}' is neither a time nor a duration", text, rest), hint);
    to = *from + *d;
  }
  if (*to <= *from) throw Error::usage(fmt::format("--window '{}' is empty: it ends before it starts", text), hint);
  return {*from, *to};
}

std::optional<FailOn> parse_fail_on(std::string_view s) {
  if (s == "error") return FailOn::error;
  if (s == "warn" || s == "warning") return FailOn::warn;
  if (s == "never") return FailOn::never;
  return std::nullopt;
}

Outcome AuditResult::worst() const {
  Outcome w = Outcome::pass;
  auto rank = [](Outcome o) {
    switch (o) {
      case Outcome::fail: return 3;
      case Outcome::warn: return 2;
      case Outcome::info: return 1;
      default: return 0;
    }
  };
  for (const auto& c : checks)
    if (rank(c.outcome()) > rank(w)) w = c.outcome();
  return w;
}

bool AuditResult::fails(FailOn on) const {
  auto w = worst();
  switch (on) {
    case FailOn::error: return w == Outcome::fail;
    case FailOn::warn: return w == Outcome::fail || w == Outcome::warn;
    case FailOn::never: return false;
  }
  return false;
}

std::size_t audit_parse_threads(std::size_t cores) { return cores > 3 ? std::min<std::size_t>(cores - 2, 8) : 1; }

AuditResult run_audit(AuditOptions o) {
  const auto started = std::chrono::steady_clock::now();
  AuditResult result;
  result.window_from_ms = o.checks.window_from_ms;
  result.window_to_ms = o.checks.window_to_ms;
  result.with_registry = o.checks.ledger != nullptr;
  result.registered_devices = o.checks.ledger ? o.checks.ledger->size() : 0;
  result.inputs.resize(o.inputs.size());
  for (std::size_t i = 0; i < o.inputs.size(); ++i) {
    auto& r = result.inputs[i];
    r.name = o.inputs[i].name;
    r.version = o.inputs[i].version;
    r.size = o.inputs[i].size;
    r.ol_namespace = o.inputs[i].ol_namespace;
    r.ol_name = o.inputs[i].ol_name;
  }
  if (!o.reader) {
    o.reader = [&o](std::size_t i, const BatchSink& sink) {
      return read_input(o.inputs[i], static_cast<std::uint32_t>(i), o.read, sink);
    };
  }

  Checker checker(o.checks);
  BatchQueue queue(o.queue_batches);
  std::exception_ptr reader_error;
  std::thread reader([&] {
    try {
      BatchSink sink = [&queue](RecordBatch&& b) { queue.push(std::move(b)); };
      for (std::size_t i = 0; i < o.inputs.size(); ++i) {
        auto& rep = result.inputs[i];
        try {
          auto st = o.reader(i, sink);
          rep.bytes = st.bytes;
          rep.records = st.records;
          rep.malformed = st.malformed;
          rep.sha256 = st.sha256;
          rep.format = std::string(to_string(st.detected));
        } catch (const Error& e) {
          if (o.fatal && o.fatal(e)) throw;
          rep.error = e.message();
          rep.error_code = to_int(e.code());
        }
      }
    } catch (const Cancelled&) {
    } catch (...) {
      reader_error = std::current_exception();
    }
    queue.close();
  });

  try {
    RecordBatch batch;
    std::uint64_t bytes = 0;
    while (queue.pop(batch)) {
      bytes += batch.bytes;
      checker.consume_async(std::move(batch));  // per-field checks on a second thread
      if (o.progress) o.progress(bytes);
      batch = RecordBatch{};  // frees its text now, not when the next one arrives
    }
  } catch (...) {
    queue.cancel();
    reader.join();
    throw;
  }
  reader.join();
  if (reader_error) std::rethrow_exception(reader_error);

  checker.finish();
  result.checks = checker.results();
  result.devices = checker.devices();
  result.models = checker.models();
  result.stats = checker.stats();
  result.malformed_examples = checker.malformed_examples();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace aiot::lineage
