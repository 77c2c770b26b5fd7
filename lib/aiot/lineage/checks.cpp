#include "aiot/lineage/checks.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "aiot/core/time.hpp"
#include "aiot/lineage/drift.hpp"
#include "aiot/lineage/profile.hpp"
#include "aiot/lineage/sketch.hpp"
#include "aiot/lineage/window_stats.hpp"

namespace aiot::lineage {

namespace {

using json = nlohmann::json;

constexpr std::int64_t k_no_time = std::numeric_limits<std::int64_t>::min();
constexpr std::size_t k_reorder_depth = 8;  // TS006 sorts device times within this many records
constexpr std::size_t k_learn_intervals = 15;
constexpr std::uint32_t k_no_model = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t k_no_key = std::numeric_limits<std::uint64_t>::max();  // record(): not computed yet
constexpr std::uint8_t k_ignore_stuck = 1, k_ignore_outlier = 2, k_ignore_unknown = 0xff;
// RecordMeta kept per device for the outlier windows: at least twice a window's 2k+1 values, so a
// field present in most records finds its values' records there.
constexpr std::size_t k_min_record_ring = 64;

std::string when(std::int64_t ms) { return format_rfc3339(TimePoint(std::chrono::milliseconds(ms))); }

std::string human_ms(std::int64_t ms) {
  return format_duration(std::chrono::milliseconds(ms < 0 ? -ms : ms));
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// TS005's keys of one device: an open-addressing set of non-zero 64-bit hashes (linear probing,
// deletion by backward shift). A node-based set allocated and freed a node per record.
class KeySet {
 public:
  bool contains(std::uint64_t k) const {
    if (slots_.empty()) return false;
    for (std::size_t i = home(k);; i = (i + 1) & mask()) {
      if (slots_[i] == k) return true;
      if (slots_[i] == 0) return false;
    }
  }
  // False when k was there already. k must not be 0 (the empty slot).
  bool insert(std::uint64_t k) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    return place(k);
  }
  // Brings k's home slot into cache ahead of contains/insert (the record stage looks ahead).
  void prefetch(std::uint64_t k) const {
    if (!slots_.empty()) __builtin_prefetch(slots_.data() + home(k));
  }
  void erase(std::uint64_t k) {
    if (slots_.empty()) return;
    std::size_t i = home(k);
    while (slots_[i] != k) {
      if (slots_[i] == 0) return;
      i = (i + 1) & mask();
    }
    // Backward shift: pull later members of the probe chain into the hole when their home allows.
    for (std::size_t j = (i + 1) & mask(); slots_[j] != 0; j = (j + 1) & mask()) {
      const std::size_t h = home(slots_[j]);
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = 0;
    --size_;
  }

 private:
  std::size_t mask() const { return slots_.size() - 1; }
  std::size_t home(std::uint64_t k) const { return static_cast<std::size_t>(k ^ (k >> 29)) & mask(); }
  bool place(std::uint64_t k) {
    std::size_t i = home(k);
    for (; slots_[i] != 0; i = (i + 1) & mask())
      if (slots_[i] == k) return false;
    slots_[i] = k;
    ++size_;
    return true;
  }
  void grow() {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, 0);
    size_ = 0;
    for (auto k : old)
      if (k != 0) place(k);
  }
  std::vector<std::uint64_t> slots_;  // size a power of two, at most half full
  std::size_t size_ = 0;
};

// TS003's histogram of one device's quantised skews (skew_key: never INT32_MIN): an open-addressing
// table with the last key remembered (a device's skew mostly stays in one 1 s step). A node-based
// map cost a hash and a cache miss per record.
class SkewCounts {
 public:
  void add(std::int32_t key) {
    if (last_ < slots_.size() && slots_[last_].first == key) {
      ++slots_[last_].second;
      return;
    }
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(key);
    while (slots_[i].first != k_empty && slots_[i].first != key) i = (i + 1) & (slots_.size() - 1);
    if (slots_[i].first == k_empty) {
      slots_[i] = {key, 0};
      ++size_;
    }
    ++slots_[i].second;
    last_ = i;
  }
  // Keeps only `key`, counted n times.
  void set_only(std::int32_t key, std::uint32_t n) {
    clear();
    add(key);
    slots_[last_].second = n;
  }
  std::vector<std::pair<std::int32_t, std::uint32_t>> entries() const {
    std::vector<std::pair<std::int32_t, std::uint32_t>> out;
    for (const auto& s : slots_)
      if (s.first != k_empty) out.push_back(s);
    return out;
  }
  bool empty() const { return size_ == 0; }
  std::int32_t first_key() const {
    for (const auto& s : slots_)
      if (s.first != k_empty) return s.first;
    return 0;
  }
  void clear() {
    slots_.clear();
    size_ = 0;
    last_ = k_none;
  }

 private:
  static constexpr std::int32_t k_empty = std::numeric_limits<std::int32_t>::min();
  static constexpr std::size_t k_none = std::numeric_limits<std::size_t>::max();
  std::size_t home(std::int32_t key) const {
    return static_cast<std::size_t>((static_cast<std::uint32_t>(key) * 0x9e3779b9u) >> 8) & (slots_.size() - 1);
  }
  void grow() {
    auto old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, {k_empty, 0});
    size_ = 0;
    last_ = k_none;
    for (const auto& s : old) {
      if (s.first == k_empty) continue;
      std::size_t i = home(s.first);
      while (slots_[i].first != k_empty) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
      ++size_;
    }
  }
  std::vector<std::pair<std::int32_t, std::uint32_t>> slots_;
  std::size_t size_ = 0;
  std::size_t last_ = k_none;
};

struct Sample {
  double x = 0;
  std::int64_t t = 0;
  std::uint64_t offset = 0;
  std::uint64_t rec = 0;
  std::uint32_t input = 0;
  std::uint32_t model = k_no_model;
};

// Where a record came from, for the examples and runs of the outlier check: kept once per record
// in the device's record_ring instead of beside every value of every field's window.
struct RecordMeta {
  std::int64_t t = 0;
  std::uint64_t offset = 0;
  std::uint64_t rec = 0;
  std::uint32_t input = 0;
  std::uint32_t model = k_no_model;
};

struct FieldState {
  std::uint64_t present = 0;
  std::uint64_t first_record = 0;  // device record index when first expected
  bool known = false;              // expected of the device from first_record on
  std::uint64_t last_present_rec = std::numeric_limits<std::uint64_t>::max();
  // STK001
  bool has_last = false;
  double last = 0;
  std::uint32_t same = 0;
  std::int64_t same_start = 0, same_end = 0;
  Sample same_first;
  bool fractional = false;  // has shown a non-whole value (STK001 skips counters, flags, classes)
  // The device's thresholds' stuck_ignore / outlier_ignore for this field, looked up once (the
  // device's thresholds never change): k_ignore_* bits, k_ignore_unknown before the lookup.
  std::uint8_t ignore = k_ignore_unknown;
  // OUT001: centred window, circular, with the window's sum and sum of squares for a cheap pre-test.
  // ring_x holds the values; ring_j each value's record (the device's field-record index), whose
  // RecordMeta is in the device's record ring, or in spill once the device ring has moved on.
  std::vector<double> ring_x;
  std::vector<std::uint64_t> ring_j;
  std::vector<std::pair<std::uint64_t, RecordMeta>> spill;
  std::size_t ring_head = 0, ring_n = 0;
  double sum = 0, sum2 = 0;
  // The series' typical window σ (a robust running mean): floors the window's MAD, whose
  // estimate from 31 values is noisy enough to call plain noise an outlier now and then.
  double sd_avg = 0;
  std::uint32_t sd_n = 0;
};

struct OpenRun {
  std::uint64_t n = 0;
  std::int64_t start = 0, end = 0;
  std::uint64_t last_rec = 0;
};

struct TimedRef {
  std::int64_t t;
  std::uint32_t input;
  std::uint64_t offset;
  bool operator>(const TimedRef& o) const { return t > o.t; }
};

struct Gap {
  std::int64_t from, to;
  std::uint32_t input;
  std::uint64_t offset;
};

struct DeviceState {
  std::string id;
  std::uint32_t index = 0;  // in Impl::devices (creation order)
  std::string device_class;
  const Thresholds* th = nullptr;
  const LedgerDevice* ledger = nullptr;
  bool registered = false;
  std::uint64_t seen = 0;     // records delivered for the device (run indexes)
  std::uint64_t records = 0;  // checked
  std::uint64_t duplicates = 0, flagged = 0, missing = 0;
  std::int64_t first_t = k_no_time, last_t = k_no_time, max_hub = k_no_time;
  std::int64_t max_dev_ts_order = k_no_time;  // highest device time of in-order records
  std::int64_t max_seq = -1;                  // highest seq so far
  std::uint64_t field_records = 0;            // records whose fields were checked
  // TS005
  std::deque<std::pair<std::int64_t, std::uint64_t>> recent;
  KeySet keys;
  std::int64_t max_dev_ts = k_no_time;
  // TS003: hub - device time, quantised
  SkewCounts skew;
  std::uint64_t skew_n = 0;
  // TS006
  std::priority_queue<TimedRef, std::vector<TimedRef>, std::greater<>> reorder;
  std::int64_t gap_last = k_no_time;
  std::int64_t interval = 0;
  std::vector<Gap> learning;  // intervals seen before the expected one is known
  const TelemetrySchema* schema = nullptr;
  // The fields stage's own (it may run on its own thread): field state, its record count and the
  // records it flagged (added to flagged in finish()).
  std::vector<FieldState> fields;  // by field id
  // The last field-checked records' RecordMeta, by field-record index modulo the size (a power of
  // two; allocated when OUT001 first needs it).
  std::vector<RecordMeta> record_ring;
  std::uint64_t field_flagged = 0;
  std::array<OpenRun, k_check_count> runs{};  // each check's run belongs to the stage that checks it
  std::vector<std::uint32_t> models;
};

struct ModelAgg {
  std::string version;
  std::uint64_t records = 0, flagged = 0, devices = 0, mismatches = 0;
};

// A model version as the fields stage sees it (by the same model id).
struct ModelFields {
  ModelProfile* profile = nullptr;
  std::vector<FieldProfile*> field_profiles;  // by field id
  std::uint64_t flagged = 0;
};

// What the record stage hands the fields stage about one record (RNG001, STK001, OUT001, CMP001,
// the profile): the checks there touch no state of the record stage's checks and vice versa, so
// the two stages can run on two threads, the fields stage a batch behind, with the same results.
struct FieldWork {
  DeviceState* device = nullptr;  // null: a new model id (version), nothing else
  const Record* record = nullptr;
  std::string_view version;       // attributed version: ledger or batch text (alive with the batch)
  const TelemetrySchema* schema = nullptr;
  std::uint64_t rec = 0;
  std::int64_t t = 0;
  std::uint32_t model = 0;
  bool schema_changed = false;  // expect the schema's required fields first
  bool check_fields = false;
  bool in_order = false;
  bool flagged = false;  // by the record stage's checks
};

// Skew quantised: 1 s steps up to 10 min, 1 min steps up to a day, then hours.
std::int32_t skew_key(std::int64_t s) {
  std::int64_t a = s < 0 ? -s : s;
  std::int64_t k;
  if (a < 600'000) k = a / 1000;
  else if (a < 86'400'000) k = 600 + (a - 600'000) / 60'000;
  else k = std::min<std::int64_t>(600 + 1430 + (a - 86'400'000) / 3'600'000, 1'000'000);
  return static_cast<std::int32_t>(s < 0 ? -k : k);
}
std::int64_t skew_value(std::int32_t key) {
  std::int64_t k = key < 0 ? -static_cast<std::int64_t>(key) : key;
  std::int64_t a;
  if (k < 600) a = k * 1000;
  else if (k < 2030) a = 600'000 + (k - 600) * 60'000;
  else a = 86'400'000 + (k - 2030) * 3'600'000;
  return key < 0 ? -a : a;
}

double median_of(double* v, std::size_t n) {
  std::nth_element(v, v + n / 2, v + n);
  double hi = v[n / 2];
  if (n % 2 == 1) return hi;
  double lo = *std::max_element(v, v + n / 2);
  return (lo + hi) / 2;
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t h = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::pass: return "pass";
    case Outcome::info: return "info";
    case Outcome::warn: return "warn";
    case Outcome::fail: return "fail";
    case Outcome::skipped: return "skipped";
  }
  return "?";
}

Outcome CheckResult::outcome() const {
  if (!evaluated) return Outcome::skipped;
  if (!severity || count == 0) return Outcome::pass;
  switch (*severity) {
    case Severity::info: return Outcome::info;
    case Severity::warn: return Outcome::warn;
    case Severity::error: return Outcome::fail;
  }
  return Outcome::pass;
}

double DeviceSummary::score() const {
  if (records == 0) return 1.0;
  return 1.0 - static_cast<double>(std::min(flagged, records)) / static_cast<double>(records);
}

double ModelSummary::score() const {
  if (records == 0) return 1.0;
  return 1.0 - static_cast<double>(std::min(flagged, records)) / static_cast<double>(records);
}

struct Checker::Impl {
  CheckerOptions opt;
  std::vector<CheckResult> results;
  CheckStats stats;
  std::vector<Malformed> malformed;
  std::vector<std::unique_ptr<DeviceState>> devices;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> device_index;
  std::vector<std::string> field_names;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> field_index;
  std::vector<ModelAgg> models;
  std::deque<std::string> model_versions;  // by model id; never moved (FieldWork views them)
  std::vector<ModelFields> model_fields;   // the fields stage's, by model id
  std::vector<FieldWork> work;             // the record stage's output for the batch
  std::uint32_t last_model = k_no_model;  // model_id's last answer
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> model_index;
  // Field names repeat batch after batch: a small cache by the view's pointer saves the hashing.
  struct CacheEntry {
    const char* data = nullptr;
    std::size_t size = 0;
    std::uint32_t id = 0;
  };
  std::array<CacheEntry, 256> name_cache{};
  // Ranges by (schema, thresholds) and field id; nullptr = none.
  struct RangeKey {
    const void* schema;
    const void* th;
    bool operator==(const RangeKey&) const = default;
  };
  struct RangeTable {
    RangeKey key;
    std::vector<const ValueRange*> by_field;
    std::vector<const FieldSpec*> spec_by_field;
    std::vector<bool> resolved;
  };
  std::vector<RangeTable> range_tables;
  bool finished = false;
  // consume_async(): the fields stage on its own thread, fed batches with their FieldWork.
  struct FieldsJob {
    std::unique_ptr<RecordBatch> batch;
    std::vector<FieldWork> work;
  };
  static constexpr std::size_t k_fields_queue = 2;  // batches waiting for the fields stage
  std::thread fields_thread;
  std::mutex fields_mu;
  std::condition_variable fields_ready, fields_space;
  std::deque<FieldsJob> fields_jobs;
  bool fields_closed = false;
  std::exception_ptr fields_error;
  // Per-record scratch (one for each stage)
  bool rec_flagged = false;
  bool fields_flagged = false;
  // The fields stage on its own thread (without a profile, whose sketches depend on the order of
  // values across devices) takes a batch's records device by device: each device's field state
  // stays in cache for its records instead of being fetched for every record. Per device the
  // order is the input's, so every count is the same; the examples and runs of its checks, which
  // must come out in input order, wait per batch with a key (record position, then order within
  // the record) and are put back in that order at the end of the batch.
  bool fields_deferred = false;
  std::uint64_t fields_pos = 0;   // records the fields stage has taken (its position in the input)
  std::uint64_t event_key = 0;    // (position << 20) + events so far of the record being checked
  struct PendingExample {
    std::uint64_t key;
    Example example;
  };
  struct PendingRun {
    std::uint64_t key;
    Run run;
  };
  std::array<std::vector<PendingExample>, k_check_count> pending_examples;
  std::array<std::vector<PendingRun>, k_check_count> pending_runs;
  std::vector<std::uint32_t> batch_fids;    // field id of each field of the batch (grouped pass)
  std::vector<std::uint32_t> group_order;   // the batch's work items, device by device
  std::vector<std::uint32_t> group_counts;

  explicit Impl(CheckerOptions o) : opt(std::move(o)) {
    results.resize(k_check_count);
    for (const auto& ci : check_catalog()) results[index(ci.check)].check = ci.check;
    const auto& t = opt.policy->defaults;
    auto& r = results;
    r[index(Check::TS002)].expected = {{"warn_after", human_ms(t.future_warn_ms)}, {"error_after", human_ms(t.future_error_ms)}};
    r[index(Check::TS003)].expected = {{"warn_beyond", human_ms(t.skew_warn_ms)}, {"error_beyond", human_ms(t.skew_error_ms)}};
    r[index(Check::TS003)].unit = "devices";
    r[index(Check::TS005)].expected = {{"window", human_ms(t.duplicate_window_ms)}};
    r[index(Check::TS006)].expected = {{"interval", t.interval_ms ? human_ms(t.interval_ms) : "learned per device"},
                                       {"factor", t.gap_factor}};
    r[index(Check::TS006)].unit = "gaps";
    r[index(Check::TS007)].expected = {{"late_after", human_ms(t.late_after_ms)}};
    r[index(Check::FR001)].expected = {{"warn_after", human_ms(t.fresh_warn_ms)}, {"error_after", human_ms(t.fresh_error_ms)}};
    r[index(Check::FR001)].unit = "devices";
    r[index(Check::CMP001)].expected = {{"warn_above", t.missing_warn}, {"error_above", t.missing_error}};
    r[index(Check::CMP001)].unit = "values";
    r[index(Check::RNG001)].unit = "values";
    r[index(Check::RNG001)].expected = {{"source", "schema field ranges and enums; policy ranges"}};
    static constexpr const char* k_methods[] = {"hampel", "robust-z", "both", "either"};
    r[index(Check::OUT001)].expected = {{"method", k_methods[static_cast<int>(t.outlier_method)]},
                                        {"k", t.hampel_k},
                                        {"nsigma", t.hampel_nsigma},
                                        {"robust_z", t.robust_z},
                                        {"warn_rate", t.outlier_warn_rate}};
    r[index(Check::OUT001)].unit = "values";
    r[index(Check::STK001)].expected = {{"min_run", t.stuck_min_run}};
    r[index(Check::STK001)].unit = "runs";
    r[index(Check::DRF001)].expected = {{"metric", "psi"}, {"warn_at", t.drift_warn}, {"error_at", t.drift_error},
                                        {"min_count", t.drift_min_count}};
    r[index(Check::DRF001)].unit = "fields";
    r[index(Check::ATT002)].expected = {{"install_window", human_ms(t.install_window_ms)}};
    r[index(Check::TS001)].expected = {{"clock", "RFC 3339 UTC"}};
    r[index(Check::SCH001)].expected = {{"schemas", opt.schemas ? opt.schemas->ids() : std::vector<std::string>{}}};
    if (!opt.schemas || opt.schemas->empty()) skip(Check::SCH001, "no --schemas given");
    if (!opt.ledger) {
      for (auto c : {Check::ATT001, Check::ATT002, Check::REG001, Check::REG002}) skip(c, "no registry");
    }
    if (!opt.baseline) skip(Check::DRF001, "no --baseline profile given");
    for (const auto& ci : check_catalog())
      if (!t.enabled[index(ci.check)]) skip(ci.check, "disabled by the policy");
  }

  ~Impl() {
    try {
      stop_fields();
    } catch (...) {
      // An error of the fields stage nobody asked for any more (the audit is being unwound).
    }
  }

  // The record stage here, the fields stage on the fields thread (started on first use).
  void consume_async(RecordBatch&& b) {
    auto batch = std::make_unique<RecordBatch>(std::move(b));
    consume_malformed_and_count(*batch);
    work.reserve(batch->records.size() + 16);
    records_with_lookahead(*batch);
    FieldsJob job{std::move(batch), std::move(work)};
    work = {};
    if (!fields_thread.joinable()) {
      fields_closed = false;
      fields_deferred = !opt.profile;
      fields_thread = std::thread([this] { fields_loop(); });
    }
    std::unique_lock lock(fields_mu);
    fields_space.wait(lock, [&] { return fields_jobs.size() < k_fields_queue || fields_error; });
    if (fields_error) {
      lock.unlock();
      stop_fields();  // rethrows it
    }
    fields_jobs.push_back(std::move(job));
    fields_ready.notify_one();
  }

  void fields_loop() {
    for (;;) {
      FieldsJob job;
      {
        std::unique_lock lock(fields_mu);
        fields_ready.wait(lock, [&] { return !fields_jobs.empty() || fields_closed; });
        if (fields_jobs.empty()) return;
        job = std::move(fields_jobs.front());
        fields_jobs.pop_front();
        fields_space.notify_one();
      }
      try {
        begin_fields_batch();
        if (fields_deferred) {
          fields_by_device(*job.batch, job.work);
        } else {
          for (const auto& w : job.work) fields_of_record(*job.batch, w);
        }
        recycle_batch(std::move(*job.batch));
      } catch (...) {
        std::lock_guard lock(fields_mu);
        fields_error = std::current_exception();
        fields_jobs.clear();
        fields_space.notify_all();
        return;
      }
    }
  }

  // Waits for the fields stage to finish what it was given; rethrows its error.
  void stop_fields() {
    if (!fields_thread.joinable()) return;
    {
      std::lock_guard lock(fields_mu);
      fields_closed = true;
      fields_ready.notify_all();
    }
    fields_thread.join();
    fields_deferred = false;
    if (auto e = std::exchange(fields_error, nullptr)) std::rethrow_exception(e);
  }

  static bool field_stage_check(Check c) {
    return c == Check::RNG001 || c == Check::STK001 || c == Check::OUT001 || c == Check::CMP001;
  }
  // Only the fields stage asks for its own checks, so the record stage never reads fields_deferred.
  bool deferred(Check c) const { return field_stage_check(c) && fields_deferred; }

  void add_example(Check c, Example e) {
    auto& r = results[index(c)];
    if (r.examples.size() >= opt.max_examples) return;
    if (deferred(c)) pending_examples[index(c)].push_back({event_key++, std::move(e)});
    else r.examples.push_back(std::move(e));
  }

  // The fields stage's waiting examples and runs, in input order, after a batch.
  void put_back_pending() {
    for (auto c : {Check::RNG001, Check::STK001, Check::OUT001, Check::CMP001}) {
      auto& r = results[index(c)];
      auto& ex = pending_examples[index(c)];
      std::sort(ex.begin(), ex.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
      for (auto& e : ex) {
        if (r.examples.size() >= opt.max_examples) break;
        r.examples.push_back(std::move(e.example));
      }
      ex.clear();
      auto& runs = pending_runs[index(c)];
      std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
      for (auto& run : runs) {
        if (r.runs.size() >= opt.max_runs) break;
        r.runs.push_back(std::move(run.run));
      }
      runs.clear();
    }
  }

  // The batch's field work device by device (each device's records in input order). Field ids are
  // handed out first, in input order, as the record-by-record pass would.
  void fields_by_device(const RecordBatch& b, const std::vector<FieldWork>& work) {
    batch_fids.resize(b.fields.size());
    std::uint32_t max_device = 0;
    const Record* previous = nullptr;  // the last record whose field ids were handed out
    for (const auto& w : work) {
      if (!w.device) {
        fields_of_record(b, w);  // a new model id: in order, before the records that use it
        continue;
      }
      max_device = std::max(max_device, w.device->index);
      if (w.schema_changed) {
        for (const auto& [name, spec] : w.schema->fields)
          if (spec.required) field_id(name);
      }
      if (w.check_fields) {
        // The reader points a name at the previous record's copy when it repeats at the same place
        // (BatchBuilder::keep_name): the same address there is the same name, and so the same id.
        const Record& r = *w.record;
        const Field* f = b.fields_of(r);
        const Field* pf = previous ? b.fields_of(*previous) : nullptr;
        const std::uint32_t* pfids = previous ? batch_fids.data() + previous->field_begin : nullptr;
        for (std::uint32_t i = 0; i < r.field_count; ++i) {
          const bool same = pf && i < previous->field_count && pf[i].name.data() == f[i].name.data() && pf[i].name.size() == f[i].name.size();
          batch_fids[r.field_begin + i] = same ? pfids[i] : field_id(f[i].name);
        }
        previous = &r;
      }
    }
    group_counts.assign(static_cast<std::size_t>(max_device) + 2, 0);
    for (const auto& w : work)
      if (w.device) ++group_counts[w.device->index + 1];
    for (std::size_t i = 1; i < group_counts.size(); ++i) group_counts[i] += group_counts[i - 1];
    group_order.resize(group_counts.back());
    std::vector<std::uint64_t> positions(work.size());
    for (std::uint32_t i = 0; i < work.size(); ++i) {
      if (!work[i].device) continue;
      positions[i] = fields_pos++;
      group_order[group_counts[work[i].device->index]++] = i;
    }
    for (std::size_t g = 0; g < group_order.size(); ++g) {
      if (g + 4 < group_order.size()) {
        // The next records are scattered over the batch now: fetch them ahead.
        const Record& next = *work[group_order[g + 4]].record;
        __builtin_prefetch(&next);
        __builtin_prefetch(reinterpret_cast<const char*>(&next) + 64);
        const char* f = reinterpret_cast<const char*>(b.fields.data() + next.field_begin);
        for (std::uint32_t at = 0; at < next.field_count * sizeof(Field); at += 64) __builtin_prefetch(f + at);
      }
      const std::uint32_t i = group_order[g];
      event_key = positions[i] << 20;
      fields_of_record(b, work[i], batch_fids.data());
    }
    put_back_pending();
  }

  void skip(Check c, std::string why) {
    auto& r = results[index(c)];
    if (!r.evaluated) return;
    r.evaluated = false;
    r.skipped_reason = std::move(why);
  }

  bool on(Check c, const DeviceState& d) const { return results[index(c)].evaluated && d.th->enabled[index(c)]; }

  Severity sev(Check c, const DeviceState& d, Severity computed) const {
    const auto& o = d.th->severity[index(c)];
    return o ? *o : computed;
  }

  // --- interning ---------------------------------------------------------------------------------
  std::uint32_t field_id(std::string_view name) {
    // Names sit side by side in the batch's arena: a multiplicative hash spreads neighbours over the
    // slots (shifted addresses collided, and two names evicting each other cost a lookup per record).
    static_assert(std::tuple_size_v<decltype(name_cache)> == 256);
    const auto slot = static_cast<std::size_t>(((reinterpret_cast<std::uintptr_t>(name.data()) ^ name.size()) * 0x9e3779b97f4a7c15ULL) >> 56);
    auto& c = name_cache[slot];
    if (c.data == name.data() && c.size == name.size()) return c.id;
    std::uint32_t id;
    if (auto it = field_index.find(name); it != field_index.end()) id = it->second;
    else {
      id = static_cast<std::uint32_t>(field_names.size());
      field_names.emplace_back(name);
      field_index.emplace(std::string(name), id);
    }
    c = {name.data(), name.size(), id};
    return id;
  }

  std::uint32_t model_id(std::string_view version) {
    // Nearly every record names the same version as the one before: compare before hashing.
    if (last_model != k_no_model && version == models[last_model].version) return last_model;
    if (auto it = model_index.find(version); it != model_index.end()) return last_model = it->second;
    auto id = static_cast<std::uint32_t>(models.size());
    models.emplace_back();
    models.back().version = std::string(version);
    model_versions.emplace_back(version);
    FieldWork created;
    created.version = model_versions.back();
    created.model = id;
    work.push_back(created);  // the fields stage creates the profile's entry in the same order
    model_index.emplace(std::string(version), id);
    return last_model = id;
  }

  DeviceState& device(std::string_view id) {
    if (auto it = device_index.find(id); it != device_index.end()) return *devices[it->second];
    auto d = std::make_unique<DeviceState>();
    d->id = std::string(id);
    d->index = static_cast<std::uint32_t>(devices.size());
    if (opt.ledger) {
      d->ledger = opt.ledger->find(id);
      d->registered = d->ledger != nullptr;
      if (d->ledger) d->device_class = d->ledger->device_class;
    }
    d->th = &opt.policy->for_class(d->device_class);
    d->interval = d->th->interval_ms;
    device_index.emplace(d->id, static_cast<std::uint32_t>(devices.size()));
    devices.push_back(std::move(d));
    return *devices.back();
  }

  // --- findings ----------------------------------------------------------------------------------
  void close_run(Check c, DeviceState& d) {
    auto& o = d.runs[index(c)];
    if (o.n == 0) return;
    add_run(c, d, o.start, o.end, o.n);
    o.n = 0;
  }

  void add_run(Check c, const DeviceState& d, std::int64_t start, std::int64_t end, std::uint64_t n) {
    auto& r = results[index(c)];
    ++r.runs_total;
    if (r.runs.size() >= opt.max_runs) return;
    if (deferred(c)) pending_runs[index(c)].push_back({event_key++, Run{d.id, start, end, n}});
    else r.runs.push_back({d.id, start, end, n});
  }

  template <class Detail>
  void finding(Check c, const DeviceState& d, Severity s, std::uint32_t input, std::uint64_t offset, Detail&& detail,
               std::uint64_t weight = 1) {
    auto& r = results[index(c)];
    r.count += weight;
    s = sev(c, d, s);
    if (!r.severity || s > *r.severity) r.severity = s;
    if (s == Severity::error) r.errors += weight;
    if (r.examples.size() < opt.max_examples) add_example(c, {input, offset, d.id, detail()});
  }

  // A finding on one record of the device, merged into runs of consecutive records.
  template <class Detail>
  void flag(Check c, DeviceState& d, std::uint64_t rec, std::int64_t t, Severity s, std::uint32_t input,
            std::uint64_t offset, Detail&& detail) {
    finding(c, d, s, input, offset, std::forward<Detail>(detail));
    auto& o = d.runs[index(c)];
    if (t == k_no_time) t = o.n ? o.end : 0;
    if (o.n > 0 && rec <= o.last_rec + 1) {
      ++o.n;
      o.start = std::min(o.start, t);
      o.end = std::max(o.end, t);
      o.last_rec = std::max(o.last_rec, rec);
    } else {
      close_run(c, d);
      o = {1, t, t, rec};
    }
  }

  void bump(Check c, const char* key) {
    auto& a = results[index(c)].actual;
    a[key] = a.value(key, std::uint64_t{0}) + 1;
  }

  // --- per record --------------------------------------------------------------------------------
  void consume(const RecordBatch& b) {
    stop_fields();  // after consume_async: the fields stage catches up first
    consume_malformed_and_count(b);
    begin_fields_batch();
    for (const auto& r : b.records) {
      record(r);
      run_fields(b);  // inline: record stage and fields stage interleave per record
    }
  }

  // The record stage over a batch, in input order. Its time goes to cache misses on the state of
  // a different device each record; so the devices are looked up first (in input order: devices
  // are created in the same order) and each record's device state is fetched a few records ahead.
  std::vector<DeviceState*> ahead_devices;
  std::vector<std::uint64_t> ahead_ids;  // TS005 message-id keys
  void records_with_lookahead(const RecordBatch& b) {
    const auto& records = b.records;
    const std::size_t n = records.size();
    ahead_devices.resize(n);
    ahead_ids.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Record& r = records[i];
      ahead_devices[i] = outside_window(r) ? nullptr : &device(r.device_id);
      ahead_ids[i] = message_key(r);
    }
    constexpr std::size_t k_far = 8, k_near = 3;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + k_far < n && ahead_devices[i + k_far]) {
        const char* p = reinterpret_cast<const char*>(ahead_devices[i + k_far]);
        for (std::size_t at = 0; at < 320; at += 64) __builtin_prefetch(p + at, 1);
      }
      if (i + k_near < n && ahead_devices[i + k_near]) {
        const DeviceState& d = *ahead_devices[i + k_near];
        if (ahead_ids[i + k_near]) d.keys.prefetch(ahead_ids[i + k_near]);
        if (!d.recent.empty()) __builtin_prefetch(&d.recent.front());
        if (d.ledger) __builtin_prefetch(d.ledger);
      }
      record(records[i], ahead_devices[i], ahead_ids[i]);
    }
  }

  bool outside_window(const Record& r) const {
    if (!opt.window_from_ms && !opt.window_to_ms) return false;
    const std::optional<std::int64_t> dev_ts = r.device_ts_ms;
    const std::optional<std::int64_t> hub_ts = r.hub_ts_ms;
    auto tw = hub_ts ? *hub_ts : dev_ts ? *dev_ts : k_no_time;
    return tw != k_no_time && ((opt.window_from_ms && tw < *opt.window_from_ms) || (opt.window_to_ms && tw >= *opt.window_to_ms));
  }

  static std::uint64_t message_key(const Record& r) {
    return r.message_id.empty() ? 0 : mix(std::hash<std::string_view>{}(r.message_id), 1);
  }

  void consume_malformed_and_count(const RecordBatch& b) {
    stats.malformed += b.malformed.size();
    stats.bytes += b.bytes;
    auto& mal = results[index(Check::MAL001)];
    for (const auto& m : b.malformed) {
      if (malformed.size() < opt.max_examples * 4) malformed.push_back(m);
      if (!mal.evaluated) continue;
      ++mal.count;
      Severity s = opt.policy->defaults.severity[index(Check::MAL001)].value_or(Severity::warn);
      if (!mal.severity || s > *mal.severity) mal.severity = s;
      if (s == Severity::error) ++mal.errors;
      if (mal.examples.size() < opt.max_examples) mal.examples.push_back({m.input, m.offset, "", m.reason});
    }
    stats.records_read += b.records.size();
  }

  // found: the record's device when already looked up (null: look it up); key: its message-id key.
  void record(const Record& r, DeviceState* found = nullptr, std::uint64_t key = k_no_key) {
    const std::optional<std::int64_t> dev_ts = r.device_ts_ms;
    const std::optional<std::int64_t> hub_ts = r.hub_ts_ms;
    const std::int64_t t = dev_ts ? *dev_ts : hub_ts ? *hub_ts : k_no_time;
    if (outside_window(r)) {
      ++stats.outside_window;
      return;
    }
    DeviceState& d = found ? *found : device(r.device_id);
    const std::uint64_t rec = d.seen++;
    rec_flagged = false;
    const auto in = r.input;
    const auto off = r.offset;

    if (opt.ledger) {
      if (!d.registered) {
        if (on(Check::REG001, d)) {
          flag(Check::REG001, d, rec, t, Severity::error, in, off, [&] {
            return r.device_id.empty() ? std::string("no device id") : fmt::format("{} is not in the registry", r.device_id);
          });
        }
        // An unknown sender's records take part in nothing else: its series means nothing here.
        ++d.records;
        ++d.flagged;
        ++stats.records;
        ++models[model_id(r.model_version)].records;
        return;
      } else if ((!d.ledger->enabled || d.ledger->decommissioned) && on(Check::REG002, d)) {
        flag(Check::REG002, d, rec, t, Severity::error, in, off, [&] {
          return fmt::format("{} is {}", d.id, d.ledger->decommissioned ? "decommissioned" : "disabled");
        });
        rec_flagged = true;
      }
    }
    if ((r.device_ts_invalid || t == k_no_time) && on(Check::TS001, d)) {
      flag(Check::TS001, d, rec, t, Severity::error, in, off, [&] {
        return r.device_ts_invalid ? fmt::format("device time '{}'", r.device_ts_text) : std::string("no timestamp at all");
      });
      rec_flagged = true;
    }

    // TS005 before anything else that keeps state: a duplicate must not count twice anywhere.
    if (on(Check::TS005, d) && is_duplicate(d, r, t, key == k_no_key ? message_key(r) : key)) {
      ++d.duplicates;
      ++stats.duplicates;
      flag(Check::TS005, d, rec, t, Severity::warn, in, off, [&] {
        return r.message_id.empty() ? fmt::format("same device time and payload as an earlier record")
                                    : fmt::format("message id {} seen before", r.message_id);
      });
      if (rec_flagged) ++d.flagged;
      return;
    }
    ++d.records;
    ++stats.records;
    if (hub_ts) {
      d.max_hub = std::max(d.max_hub, *hub_ts);
      if (!stats.min_hub_ms || *hub_ts < *stats.min_hub_ms) stats.min_hub_ms = *hub_ts;
      if (!stats.max_hub_ms || *hub_ts > *stats.max_hub_ms) stats.max_hub_ms = *hub_ts;
    }
    if (t != k_no_time) {
      if (d.first_t == k_no_time || t < d.first_t) d.first_t = t;
      if (d.last_t == k_no_time || t > d.last_t) d.last_t = t;
    }

    bool in_order = true;
    if (dev_ts && hub_ts) {
      const std::int64_t ahead = *dev_ts - *hub_ts;
      if (ahead > d.th->future_warn_ms && on(Check::TS002, d)) {
        flag(Check::TS002, d, rec, t, ahead > d.th->future_error_ms ? Severity::error : Severity::warn, in, off,
             [&] { return fmt::format("device time {} ahead of the hub's", human_ms(ahead)); });
        // Its claimed time means nothing: not attributed, not ordered, not field-checked.
        ++d.flagged;
        ++models[model_id(r.model_version)].records;
        return;
      }
      d.skew.add(skew_key(-ahead));
      ++d.skew_n;
      if (-ahead > d.th->late_after_ms && on(Check::TS007, d)) {
        flag(Check::TS007, d, rec, t, Severity::warn, in, off,
             [&] { return fmt::format("arrived {} after its device time", human_ms(-ahead)); });
        bump(Check::TS007, "late");
        rec_flagged = true;
      }
    }
    if (r.seq >= 0 && d.max_seq >= 0 && r.seq < d.max_seq) {
      // Sent before a record that arrived earlier: an out-of-order arrival, which leaves the
      // device's ordering state alone.
      in_order = false;
      bump(Check::TS007, "out_of_order_arrivals");
      if (on(Check::TS007, d) && !rec_flagged) {
        flag(Check::TS007, d, rec, t, Severity::warn, in, off,
             [&] { return fmt::format("seq {} after seq {}: arrived out of order", r.seq, d.max_seq); });
        rec_flagged = true;
      }
    } else if (dev_ts) {
      if (d.max_dev_ts_order != k_no_time && *dev_ts < d.max_dev_ts_order) {
        in_order = false;
        if (on(Check::TS004, d)) {
          flag(Check::TS004, d, rec, t, Severity::warn, in, off, [&] {
            return fmt::format("device time {} before the device's latest {}", when(*dev_ts), when(d.max_dev_ts_order));
          });
          rec_flagged = true;
        }
      } else {
        d.max_dev_ts_order = *dev_ts;
        if (on(Check::TS006, d)) {
          d.reorder.push({*dev_ts, in, off});
          if (d.reorder.size() > k_reorder_depth) {
            auto x = d.reorder.top();
            d.reorder.pop();
            gap_step(d, x);
          }
        }
      }
      if (r.seq >= 0) d.max_seq = std::max(d.max_seq, r.seq);
    } else if (r.seq >= 0) {
      d.max_seq = std::max(d.max_seq, r.seq);
    }

    // Attribution.
    std::string_view version = r.model_version;
    if (opt.ledger && d.registered) {
      if (t == k_no_time) {
        if (on(Check::ATT001, d)) {
          flag(Check::ATT001, d, rec, t, Severity::warn, in, off, [] { return std::string("no time to attribute by"); });
          rec_flagged = true;
        }
      } else {
        auto a = opt.ledger->attribute(*d.ledger, t, r.model_version);
        version = a.version;
        if (a.status == Attribution::Status::no_interval && on(Check::ATT001, d)) {
          flag(Check::ATT001, d, rec, t, Severity::warn, in, off,
               [&] { return fmt::format("the ledger knows no model version of {} at {}", d.id, when(t)); });
          rec_flagged = true;
        } else if (a.status == Attribution::Status::mismatch && on(Check::ATT002, d)) {
          flag(Check::ATT002, d, rec, t, Severity::error, in, off, [&] {
            const auto& reason = a.interval->reason;
            std::string kind = reason.find("failed") != std::string::npos       ? "failed install"
                               : a.leak || reason.rfind("before rollout", 0) == 0 ? "canary leak"
                                                                                  : "unexpected version";
            return fmt::format("{}: payload says {}, the ledger {} ({})", kind, r.model_version, a.expected, reason);
          });
          rec_flagged = true;
          models[model_id(version)].mismatches++;
        }
      }
    }
    const std::uint32_t mid = model_id(version);
    auto& model = models[mid];
    ++model.records;
    if (std::find(d.models.begin(), d.models.end(), mid) == d.models.end()) {
      d.models.push_back(mid);
      ++model.devices;
    }

    // Schema.
    bool schema_changed = false;
    const TelemetrySchema* schema = nullptr;
    if (opt.schemas && !opt.schemas->empty() && !r.schema_id.empty()) {
      schema = opt.schemas->find(r.schema_id);
      if (!schema && on(Check::SCH001, d)) {
        flag(Check::SCH001, d, rec, t, Severity::error, in, off,
             [&] { return fmt::format("schema '{}' is not among --schemas", r.schema_id); });
        rec_flagged = true;
      }
      if (schema && schema != d.schema) {
        d.schema = schema;
        if (d.interval == 0 && d.th->interval_ms == 0) d.interval = schema->interval_for(d.device_class);
        schema_changed = true;
      }
    }

    FieldWork w;
    w.device = &d;
    w.record = &r;
    w.version = version;
    w.schema = schema;
    w.rec = rec;
    w.t = t;
    w.model = mid;
    w.schema_changed = schema_changed;
    // Fields: of records whose schema is known (all records without --schemas).
    w.check_fields = !(opt.schemas && !opt.schemas->empty() && !r.schema_id.empty() && !schema);
    w.in_order = in_order;
    w.flagged = rec_flagged;
    work.push_back(w);
  }

  // --- the fields stage --------------------------------------------------------------------------
  void begin_fields_batch() {
    name_cache.fill({});  // names are views into the batch: a new batch, new addresses
  }

  // Runs (and clears) the record stage's work so far for batch b.
  void run_fields(const RecordBatch& b) {
    for (const auto& w : work) fields_of_record(b, w);
    work.clear();
  }

  // fids: the field ids of the batch's fields when already handed out (fields_by_device).
  void fields_of_record(const RecordBatch& b, const FieldWork& w, const std::uint32_t* fids = nullptr) {
    if (!w.device) {
      auto& m = model_fields.emplace_back();
      if (opt.profile) m.profile = &opt.profile->model(w.version);
      return;
    }
    DeviceState& d = *w.device;
    const Record& r = *w.record;
    if (w.schema_changed) {
      for (const auto& [name, spec] : w.schema->fields)
        if (spec.required) expect_field(d, field_id(name));
    }
    if (opt.profile) opt.profile->add_record(d.id, d.device_class, w.version);
    fields_flagged = w.flagged;
    auto& model = model_fields[w.model];
    if (w.check_fields) {
      ++d.field_records;
      if (on(Check::OUT001, d)) keep_record_meta(d, {w.t, r.offset, w.rec, r.input, w.model});
      const Field* f = b.fields_of(r);
      RangeTable* ranges = range_table(w.schema, d.th);
      for (std::uint32_t i = 0; i < r.field_count; ++i) {
        const std::uint32_t fid = fids ? fids[r.field_begin + i] : field_id(f[i].name);
        field(d, f[i], fid, w.rec, w.t, r.input, r.offset, w.model, ranges, model, w.in_order);
      }
    }
    if (w.check_fields && on(Check::CMP001, d)) {
      // Expected fields absent from this record: examples and runs (the count is settled in finish()).
      for (std::uint32_t fid = 0; fid < d.fields.size(); ++fid) {
        auto& fs = d.fields[fid];
        if (fs.known && fs.last_present_rec != w.rec) {
          flag_missing(d, w.rec, w.t, r.input, r.offset, fid);
          fields_flagged = true;
        }
      }
    }
    if (fields_flagged) {
      ++d.field_flagged;
      ++model.flagged;
    }
  }

  // The record's meta goes into the device's ring. The record it overwrites is copied into the
  // windows that still hold one of its values (fields present in few of the ring's records).
  void keep_record_meta(DeviceState& d, const RecordMeta& m) {
    const std::uint64_t j = d.field_records - 1;
    if (d.record_ring.empty()) {
      const auto w = static_cast<std::size_t>(2 * d.th->hampel_k + 1);
      d.record_ring.resize(std::bit_ceil(std::max(k_min_record_ring, 2 * w)));
    }
    const std::uint64_t ring = d.record_ring.size();
    RecordMeta& slot = d.record_ring[j & (ring - 1)];
    if (j >= ring) {
      const std::uint64_t leaving = j - ring;
      for (auto& fs : d.fields) {
        if (fs.ring_n == 0 || fs.ring_j[fs.ring_head] > leaving) continue;
        const std::size_t w = fs.ring_j.size();
        const std::uint64_t oldest = fs.ring_j[fs.ring_head];
        std::erase_if(fs.spill, [&](const auto& e) { return e.first < oldest; });
        // The window's records rise from its oldest: binary search for the one leaving.
        std::size_t lo = 0, hi = fs.ring_n;
        while (lo < hi) {
          const std::size_t mid = (lo + hi) / 2;
          if (fs.ring_j[(fs.ring_head + mid) % w] < leaving) lo = mid + 1;
          else hi = mid;
        }
        if (lo < fs.ring_n && fs.ring_j[(fs.ring_head + lo) % w] == leaving) fs.spill.emplace_back(leaving, slot);
      }
    }
    slot = m;
  }

  const RecordMeta& record_meta(const DeviceState& d, const FieldState& fs, std::uint64_t j) const {
    if (d.field_records - j <= d.record_ring.size()) return d.record_ring[j & (d.record_ring.size() - 1)];
    for (const auto& [held, m] : fs.spill)
      if (held == j) return m;
    throw std::logic_error("OUT001: a window's record is neither in the device's ring nor spilled");
  }

  void flag_missing(DeviceState& d, std::uint64_t rec, std::int64_t t, std::uint32_t in, std::uint64_t off, std::uint32_t fid) {
    auto& r = results[index(Check::CMP001)];
    if (r.examples.size() < opt.max_examples)
      add_example(Check::CMP001, {in, off, d.id, fmt::format("{} missing or null", field_names[fid])});
    auto& o = d.runs[index(Check::CMP001)];
    if (o.n > 0 && rec <= o.last_rec + 1) {
      if (rec != o.last_rec) ++o.n;
      o.end = std::max(o.end, t);
      o.last_rec = rec;
    } else {
      close_run(Check::CMP001, d);
      o = {1, t, t, rec};
    }
  }

  void expect_field(DeviceState& d, std::uint32_t fid) {
    if (d.fields.size() <= fid) d.fields.resize(fid + 1);
    auto& fs = d.fields[fid];
    if (!fs.known) {
      fs.known = true;
      fs.first_record = d.field_records - 1;  // index among field-checked records
    }
  }

  bool is_duplicate(DeviceState& d, const Record& r, std::int64_t t, std::uint64_t k1) {
    // With a message id, the id is the key (a re-send keeps it); without one, time and payload.
    std::uint64_t k2 = k1 == 0 && r.device_ts_ms ? mix(static_cast<std::uint64_t>(*r.device_ts_ms) * 31 + r.payload_hash, 2) : 0;
    if ((k1 && d.keys.contains(k1)) || (k2 && d.keys.contains(k2))) return true;
    std::int64_t now = t == k_no_time ? (d.max_dev_ts == k_no_time ? 0 : d.max_dev_ts) : t;
    if (d.max_dev_ts == k_no_time || now > d.max_dev_ts) d.max_dev_ts = now;
    // Keys older than the window (of the device's own clock) are forgotten: memory stays per device.
    while (!d.recent.empty() && d.recent.front().first < d.max_dev_ts - d.th->duplicate_window_ms) {
      d.keys.erase(d.recent.front().second);
      d.recent.pop_front();
    }
    for (auto k : {k1, k2}) {
      if (k && d.keys.insert(k)) d.recent.emplace_back(now, k);
    }
    return false;
  }

  // --- TS006 ---------------------------------------------------------------------------------------
  void gap_step(DeviceState& d, const TimedRef& x) {
    if (d.gap_last != k_no_time && x.t > d.gap_last) {
      Gap g{d.gap_last, x.t, x.input, x.offset};
      if (d.interval > 0) judge_gap(d, g);
      else {
        d.learning.push_back(g);
        if (d.learning.size() >= k_learn_intervals) learn_interval(d);
      }
    }
    if (d.gap_last == k_no_time || x.t > d.gap_last) d.gap_last = x.t;
  }

  void learn_interval(DeviceState& d) {
    if (d.learning.size() >= 3) {
      std::vector<double> deltas;
      for (const auto& g : d.learning) deltas.push_back(static_cast<double>(g.to - g.from));
      d.interval = static_cast<std::int64_t>(median_of(deltas.data(), deltas.size()));
      for (const auto& g : d.learning) judge_gap(d, g);
    }
    d.learning.clear();
    d.learning.shrink_to_fit();
  }

  void judge_gap(DeviceState& d, const Gap& g) {
    const double dt = static_cast<double>(g.to - g.from);
    if (d.interval <= 0 || dt <= d.th->gap_factor * static_cast<double>(d.interval)) return;
    auto missing = static_cast<std::uint64_t>(std::max<long long>(1, std::llround(dt / static_cast<double>(d.interval)) - 1));
    d.missing += missing;
    results[index(Check::TS006)].actual["missing_records"] =
        results[index(Check::TS006)].actual.value("missing_records", std::uint64_t{0}) + missing;
    finding(Check::TS006, d, Severity::warn, g.input, g.offset, [&] {
      return fmt::format("no record for {} ({} missing at a {} interval) before {}", human_ms(g.to - g.from), missing,
                         human_ms(d.interval), when(g.to));
    });
    add_run(Check::TS006, d, g.from, g.to, missing);
    ++d.flagged;
  }

  // --- fields ----------------------------------------------------------------------------------------
  RangeTable* range_table(const TelemetrySchema* schema, const Thresholds* th) {
    if (!schema && th->ranges.empty()) return nullptr;
    RangeKey key{schema, th};
    for (auto& t : range_tables)
      if (t.key == key) return &t;
    range_tables.push_back({key, {}, {}, {}});
    return &range_tables.back();
  }

  void resolve(RangeTable& t, std::uint32_t fid) {
    if (t.resolved.size() <= fid) {
      t.resolved.resize(field_names.size(), false);
      t.by_field.resize(field_names.size(), nullptr);
      t.spec_by_field.resize(field_names.size(), nullptr);
    }
    if (t.resolved[fid]) return;
    t.resolved[fid] = true;
    const auto& name = field_names[fid];
    if (const auto* s = static_cast<const TelemetrySchema*>(t.key.schema)) {
      if (auto it = s->fields.find(name); it != s->fields.end()) {
        t.spec_by_field[fid] = &it->second;
        t.by_field[fid] = &it->second.range;
        return;
      }
    }
    const auto* th = static_cast<const Thresholds*>(t.key.th);
    if (auto it = th->ranges.find(name); it != th->ranges.end()) t.by_field[fid] = &it->second;
  }

  void field(DeviceState& d, const Field& f, const std::uint32_t fid, std::uint64_t rec, std::int64_t t, std::uint32_t in,
             std::uint64_t off, std::uint32_t mid, RangeTable* ranges, ModelFields& model, bool in_order) {
    if (d.fields.size() <= fid) d.fields.resize(fid + 1);
    auto& fs = d.fields[fid];
    if (!fs.known) {
      fs.known = true;
      fs.first_record = d.field_records - 1;
    }
    if (opt.profile) {
      if (model.field_profiles.size() <= fid) model.field_profiles.resize(fid + 1, nullptr);
      auto*& fp = model.field_profiles[fid];
      if (!fp) fp = &model.profile->field(field_names[fid]);
      fp->add(f);
    }
    if (f.kind == Field::Kind::null) return;  // missing for CMP001 (not present)
    ++fs.present;
    fs.last_present_rec = rec;

    if (ranges && on(Check::RNG001, d)) {
      resolve(*ranges, fid);
      const ValueRange* range = ranges->by_field[fid];
      const FieldSpec* spec = ranges->spec_by_field[fid];
      std::string why;
      if (spec && !spec->type.empty() && spec->type != "any") {
        bool numeric = f.kind == Field::Kind::number;
        bool ok = (spec->type == "number" && numeric) || (spec->type == "integer" && numeric && f.number == std::floor(f.number)) ||
                  (spec->type == "string" && f.kind == Field::Kind::text) ||
                  (spec->type == "boolean" && f.kind == Field::Kind::boolean);
        if (!ok) why = fmt::format("{} is not of type {}", f.name, spec->type);
      }
      if (why.empty() && range) {
        if (f.kind == Field::Kind::number) {
          if ((range->min && f.number < *range->min) || (range->max && f.number > *range->max))
            why = fmt::format("{} = {} outside [{}, {}]", f.name, f.number, range->min ? fmt::format("{}", *range->min) : "-inf",
                              range->max ? fmt::format("{}", *range->max) : "inf");
          else if (!range->allowed.empty()) {
            auto text = fmt::format("{}", f.number);
            if (std::find(range->allowed.begin(), range->allowed.end(), text) == range->allowed.end())
              why = fmt::format("{} = {} not in the enum", f.name, text);
          }
        } else if (f.kind == Field::Kind::text && !range->allowed.empty()) {
          if (std::find(range->allowed.begin(), range->allowed.end(), f.text) == range->allowed.end())
            why = fmt::format("{} = '{}' not in the enum", f.name, f.text);
        }
      }
      if (!why.empty()) {
        flag(Check::RNG001, d, rec, t, Severity::error, in, off, [&] { return why; });
        fields_flagged = true;
        return;  // an invalid value is no sample of the sensor
      }
    }

    // STK001 and OUT001 look at the device's series: in-order records only.
    if (f.kind != Field::Kind::number || !in_order) return;
    const double x = f.number;
    if (fs.ignore == k_ignore_unknown) {
      fs.ignore = static_cast<std::uint8_t>((d.th->stuck_ignore.count(field_names[fid]) ? k_ignore_stuck : 0) |
                                            (d.th->outlier_ignore.count(field_names[fid]) ? k_ignore_outlier : 0));
    }
    if (on(Check::STK001, d) && !(fs.ignore & k_ignore_stuck)) {
      if (fs.has_last && x == fs.last) {
        ++fs.same;
        fs.same_end = t;
      } else {
        end_stuck(d, fs, fid);
        fs.same = 1;
        fs.same_start = fs.same_end = t;
        fs.same_first = {x, t, off, rec, in, mid};
      }
    }
    fs.has_last = true;
    fs.last = x;
    if (!fs.fractional && x != std::floor(x)) fs.fractional = true;
    if (on(Check::OUT001, d) && !(fs.ignore & k_ignore_outlier)) {
      const std::size_t w = static_cast<std::size_t>(2 * d.th->hampel_k + 1);
      if (fs.ring_x.size() != w) {
        fs.ring_x.assign(w, 0.0);
        fs.ring_j.assign(w, 0);
        fs.spill.clear();
        fs.ring_head = fs.ring_n = 0;
      }
      const std::uint64_t j = d.field_records - 1;
      if (fs.ring_n < w) {
        const std::size_t slot = (fs.ring_head + fs.ring_n) % w;
        fs.ring_x[slot] = x;
        fs.ring_j[slot] = j;
        ++fs.ring_n;
      } else {
        const double old = fs.ring_x[fs.ring_head];
        fs.sum -= old;
        fs.sum2 -= old * old;
        fs.ring_x[fs.ring_head] = x;
        fs.ring_j[fs.ring_head] = j;
        if (++fs.ring_head == w) fs.ring_head = 0;
      }
      fs.sum += x;
      fs.sum2 += x * x;
      if (fs.ring_head == 0 && fs.ring_n == w) {
        // Re-add from scratch once per window: rounding errors never pile up.
        fs.sum = fs.sum2 = 0;
        for (const double v : fs.ring_x) {
          fs.sum += v;
          fs.sum2 += v * v;
        }
      }
      if (fs.ring_n == w) judge_outlier(d, fs, fid);
    }
  }

  void end_stuck(DeviceState& d, FieldState& fs, std::uint32_t fid) {
    if (fs.same >= static_cast<std::uint32_t>(d.th->stuck_min_run) && fs.fractional) {
      const auto n = fs.same;
      finding(Check::STK001, d, Severity::warn, fs.same_first.input, fs.same_first.offset, [&] {
        return fmt::format("{} stuck at {} for {} samples", field_names[fid], fs.last, n);
      });
      add_run(Check::STK001, d, fs.same_start, fs.same_end, n);
      auto& a = results[index(Check::STK001)].actual;
      a["samples"] = a.value("samples", std::uint64_t{0}) + n;
      d.field_flagged += n;
      if (fs.same_first.model != k_no_model) model_fields[fs.same_first.model].flagged += n;
    }
    fs.same = 0;
  }

  // The MAD's floor: 3/4 of what the series' typical σ would give (a 31-value window's MAD is noisy).
  static double mad_floor(double sd_avg) { return 0.75 * 0.6745 * sd_avg; }

  // |x - median| must exceed this multiple of the MAD to be flagged by the policy's method.
  static double flag_multiple(const Thresholds& th) {
    const double hampel = th.hampel_nsigma * 1.4826, robust = th.robust_z / 0.6745;
    switch (th.outlier_method) {
      case OutlierMethod::hampel: return hampel;
      case OutlierMethod::robust_z: return robust;
      case OutlierMethod::both: return std::max(hampel, robust);
      case OutlierMethod::either: return std::min(hampel, robust);
    }
    return std::min(hampel, robust);
  }

  void judge_outlier(DeviceState& d, FieldState& fs, std::uint32_t fid) {
    const std::size_t w = fs.ring_x.size();
    const std::size_t k = w / 2;
    const std::size_t mid_slot = fs.ring_head + k < w ? fs.ring_head + k : fs.ring_head + k - w;
    const double mid_x = fs.ring_x[mid_slot];
    {
      // Pre-test: a value no test can flag is not judged further, which skips the medians for most
      // values and cannot change a result.
      const double n = static_cast<double>(w);
      const double mean = fs.sum / n;
      const double var = std::max(0.0, fs.sum2 / n - mean * mean);
      const double wsd = std::sqrt(var);
      if (fs.sd_n == 0) fs.sd_avg = wsd;
      else if (fs.sd_n < 64) fs.sd_avg += (std::min(wsd, 3 * fs.sd_avg) - fs.sd_avg) / (fs.sd_n + 1.0);
      else fs.sd_avg += (std::min(wsd, 3 * fs.sd_avg) - fs.sd_avg) * (1.0 / 64);  // exactly / 64 (a power of two)
      ++fs.sd_n;
      // Flagging needs |x - median| > K × MAD (K: the method's multiple of the MAD), and the MAD is at
      // least its floor (below). The median of any set lies within one population σ of its mean, so
      // |x - median| <= |x - mean| + σ: a value with |x - mean| + σ <= K × floor cannot be flagged.
      // The margin covers the rounding of the running sums and of the tests themselves.
      const double dv = std::fabs(mid_x - mean);
      const double floor = mad_floor(fs.sd_avg);
      const double bound = flag_multiple(*d.th) * floor;
      // (|mean| + σ bounds the window's RMS, so no second square root is needed.)
      const double margin = 1e-6 * (std::fabs(mean) + wsd) + 1e-9 * (std::fabs(mid_x) + bound);
      if (dv + wsd + margin <= bound) return;
      // Then exactly, by counting: the median lies within reach of x when at most k values are
      // below x - reach and at most k above x + reach (the median is the (k+1)-th of 2k+1).
      const double reach = bound - margin;
      if (reach > 0) {
        const double lo = mid_x - reach, hi = mid_x + reach;
        std::size_t below = 0, above = 0;
        for (const double v : fs.ring_x) {
          below += v < lo ? 1 : 0;
          above += v > hi ? 1 : 0;
        }
        if (below <= k && above <= k) return;
      }
    }
    std::array<double, 101> buf;
    const std::size_t n = std::min<std::size_t>(w, buf.size());
    double med = 0, window_mad = 0;
    if (n % 2 == 1) {
      median_and_mad(fs.ring_x.data(), n, buf.data(), med, window_mad);
    } else {
      for (std::size_t i = 0; i < n; ++i) buf[i] = fs.ring_x[i];
      med = median_of(buf.data(), n);
      for (std::size_t i = 0; i < n; ++i) buf[i] = std::fabs(fs.ring_x[i] - med);
      window_mad = median_of(buf.data(), n);
    }
    if (window_mad <= 0) return;  // a flat window cannot judge (and stuck values are STK001's)
    const double mad = std::max(window_mad, mad_floor(fs.sd_avg));
    const double dev = std::fabs(mid_x - med);
    const bool hampel = dev > d.th->hampel_nsigma * 1.4826 * mad;
    const bool robust = 0.6745 * dev / mad > d.th->robust_z;
    bool out = false;
    switch (d.th->outlier_method) {
      case OutlierMethod::hampel: out = hampel; break;
      case OutlierMethod::robust_z: out = robust; break;
      case OutlierMethod::both: out = hampel && robust; break;
      case OutlierMethod::either: out = hampel || robust; break;
    }
    if (!out) return;
    const RecordMeta& mid = record_meta(d, fs, fs.ring_j[mid_slot]);
    finding(Check::OUT001, d, Severity::info, mid.input, mid.offset, [&] {
      return fmt::format("{} = {} (window median {}, MAD {})", field_names[fid], mid_x, med, mad);
    });
    auto& o = d.runs[index(Check::OUT001)];
    if (o.n > 0 && mid.rec <= o.last_rec + 1) {
      ++o.n;
      o.end = std::max(o.end, mid.t);
      o.last_rec = std::max(o.last_rec, mid.rec);
    } else {
      close_run(Check::OUT001, d);
      o = {1, mid.t, mid.t, mid.rec};
    }
    ++d.field_flagged;
    if (mid.model != k_no_model) model_fields[mid.model].flagged++;
  }

  // --- end of stream -----------------------------------------------------------------------------------
  void finish() {
    stop_fields();
    if (finished) return;
    finished = true;
    const auto& t = opt.policy->defaults;
    std::optional<std::int64_t> fresh_ref = opt.window_to_ms ? opt.window_to_ms : stats.max_hub_ms;
    std::uint64_t expected_values = 0, missing_values = 0;
    std::map<std::string, std::uint64_t> missing_by_field;
    std::uint64_t numeric_values = 0;
    std::uint64_t devices_with_time = 0, devices_with_skew = 0;
    for (auto& dp : devices) {
      auto& d = *dp;
      while (!d.reorder.empty()) {
        auto x = d.reorder.top();
        d.reorder.pop();
        gap_step(d, x);
      }
      if (d.interval == 0 && !d.learning.empty()) learn_interval(d);
      for (std::uint32_t fid = 0; fid < d.fields.size(); ++fid) {
        auto& fs = d.fields[fid];
        if (on(Check::STK001, d)) end_stuck(d, fs, fid);
        if (fs.known && on(Check::CMP001, d)) {
          const std::uint64_t expected = d.field_records - fs.first_record;
          const std::uint64_t miss = expected > fs.present ? expected - fs.present : 0;
          expected_values += expected;
          missing_values += miss;
          if (miss) missing_by_field[field_names[fid]] += miss;
        }
        numeric_values += fs.present;
      }
      for (const auto& ci : check_catalog()) close_run(ci.check, d);

      // TS003: median skew.
      if (d.skew_n > 0) {
        ++devices_with_skew;
        std::vector<std::pair<std::int32_t, std::uint32_t>> h = d.skew.entries();
        std::sort(h.begin(), h.end());
        std::uint64_t acc = 0, half = (d.skew_n + 1) / 2;
        std::int64_t median = 0;
        for (const auto& [k, n] : h) {
          acc += n;
          if (acc >= half) {
            median = skew_value(k);
            break;
          }
        }
        d.skew.set_only(skew_key(median), static_cast<std::uint32_t>(d.skew_n));  // keep only the answer
        if (on(Check::TS003, d) && std::llabs(median) > d.th->skew_warn_ms) {
          auto s = std::llabs(median) > d.th->skew_error_ms ? Severity::error : Severity::warn;
          finding(Check::TS003, d, s, 0, 0, [&] {
            return fmt::format("median hub - device time {}{}", median < 0 ? "-" : "", human_ms(median));
          });
          add_run(Check::TS003, d, d.first_t, d.last_t, d.records);
        }
      }
      // FR001.
      if (d.records > 0 && fresh_ref && on(Check::FR001, d)) {
        ++devices_with_time;
        std::int64_t last = d.max_hub != k_no_time ? d.max_hub : d.last_t;
        if (last != k_no_time) {
          std::int64_t age = *fresh_ref - last;
          if (age > d.th->fresh_warn_ms) {
            auto s = age > d.th->fresh_error_ms ? Severity::error : Severity::warn;
            finding(Check::FR001, d, s, 0, 0,
                    [&] { return fmt::format("last record {} before {}", human_ms(age), when(*fresh_ref)); });
            add_run(Check::FR001, d, d.first_t, last, d.records);
          }
        }
      }
    }
    (void)numeric_values;
    // Device-level examples carry no input:offset.
    for (auto c : {Check::TS003, Check::FR001})
      for (auto& e : results[index(c)].examples) e.offset = 0;

    auto& ts3 = results[index(Check::TS003)];
    ts3.denominator = devices_with_skew;
    auto& fr = results[index(Check::FR001)];
    fr.denominator = devices_with_time;
    if (fresh_ref) fr.actual["reference"] = when(*fresh_ref);

    auto& cmp = results[index(Check::CMP001)];
    cmp.count = missing_values;
    cmp.denominator = expected_values;
    cmp.actual["by_field"] = missing_by_field;
    if (missing_values > 0) {
      double rate = cmp.rate();
      Severity s = rate > t.missing_error ? Severity::error : rate > t.missing_warn ? Severity::warn : Severity::info;
      if (t.severity[index(Check::CMP001)]) s = *t.severity[index(Check::CMP001)];
      cmp.severity = s;
      if (s == Severity::error) cmp.errors = missing_values;
    }

    auto& out = results[index(Check::OUT001)];
    out.denominator = 0;
    for (auto& dp : devices)
      for (auto& fs : dp->fields) out.denominator += fs.present;
    if (out.count > 0 && !t.severity[index(Check::OUT001)])
      out.severity = out.rate() > t.outlier_warn_rate ? Severity::warn : Severity::info;

    std::uint64_t records = stats.records;
    for (auto c : {Check::TS002, Check::TS004, Check::TS007, Check::ATT001, Check::ATT002, Check::SCH001})
      results[index(c)].denominator = records;
    for (auto c : {Check::TS001, Check::TS005, Check::REG001, Check::REG002})
      results[index(c)].denominator = stats.records + stats.duplicates;
    results[index(Check::MAL001)].denominator = stats.records_read + stats.malformed;
    results[index(Check::RNG001)].denominator = out.denominator;
    std::uint64_t intervals = 0;
    for (auto& dp : devices) intervals += dp->records > 0 ? dp->records - 1 : 0;
    results[index(Check::TS006)].denominator = intervals;
    std::uint64_t stuck_values = 0;
    for (auto& dp : devices)
      for (auto& fs : dp->fields) stuck_values += fs.present;
    results[index(Check::STK001)].denominator = stuck_values;
    if (!results[index(Check::TS006)].actual.contains("missing_records")) results[index(Check::TS006)].actual["missing_records"] = 0;
    if (!results[index(Check::STK001)].actual.contains("samples")) results[index(Check::STK001)].actual["samples"] = 0;
    for (const char* k : {"late", "out_of_order_arrivals"})
      if (!results[index(Check::TS007)].actual.contains(k)) results[index(Check::TS007)].actual[k] = 0;

    // The fields stage's flagged records join the record stage's.
    for (auto& dp : devices) {
      dp->flagged += dp->field_flagged;
      dp->field_flagged = 0;
    }
    for (std::size_t m = 0; m < model_fields.size() && m < models.size(); ++m) {
      models[m].flagged += model_fields[m].flagged;
      model_fields[m].flagged = 0;
    }

    drift();
    stats.fields = field_names.size();
  }

  void drift() {
    auto& r = results[index(Check::DRF001)];
    if (!r.evaluated || !opt.baseline || !opt.profile) return;
    const auto& t = opt.policy->defaults;
    DriftThresholds dt;
    dt.psi_moderate = t.drift_warn;
    dt.psi_major = t.drift_error;
    dt.min_n = t.drift_min_count;
    // The baseline of a version the baseline never saw: every version of the baseline together
    // (drift after an update is exactly what to look for).
    ModelProfile all;
    for (const auto& [v, m] : opt.baseline->models) all.merge(m);
    json table = json::array();
    std::uint64_t compared = 0;
    for (const auto& [version, m] : opt.profile->models) {
      auto bit = opt.baseline->models.find(version);
      const ModelProfile& ref = bit != opt.baseline->models.end() ? bit->second : all;
      for (const auto& [name, cur] : m.fields) {
        auto fit = ref.fields.find(name);
        if (fit == ref.fields.end()) continue;
        const auto& base = fit->second;
        if (cur.quantiles.n() < t.drift_min_count || base.quantiles.n() < t.drift_min_count) continue;
        ++compared;
        auto res = drift_sketch(base.quantiles, cur.quantiles, dt, base.moments.stddev());
        json row = res.to_json();
        row["model_version"] = version;
        row["field"] = name;
        row["baseline_version"] = bit != opt.baseline->models.end() ? version : std::string("all");
        table.push_back(row);
        if (std::isfinite(res.psi) && res.psi >= t.drift_warn) {
          Severity s = res.psi >= t.drift_error ? Severity::error : Severity::warn;
          if (t.severity[index(Check::DRF001)]) s = *t.severity[index(Check::DRF001)];
          ++r.count;
          if (!r.severity || s > *r.severity) r.severity = s;
          if (s == Severity::error) ++r.errors;
          if (r.examples.size() < opt.max_examples)
            r.examples.push_back({0, 0, "", fmt::format("{} @ {}: PSI {:.3f} ({})", name, version.empty() ? "unattributed" : version,
                                                        res.psi, res.status)});
        }
      }
    }
    r.denominator = compared;
    r.actual["fields"] = std::move(table);
  }
};

Checker::Checker(CheckerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Checker::~Checker() = default;
Checker::Checker(Checker&&) noexcept = default;
Checker& Checker::operator=(Checker&&) noexcept = default;

void Checker::consume(const RecordBatch& batch) { impl_->consume(batch); }
void Checker::consume_async(RecordBatch&& batch) { impl_->consume_async(std::move(batch)); }
void Checker::finish() { impl_->finish(); }
const std::vector<CheckResult>& Checker::results() const { return impl_->results; }
const CheckStats& Checker::stats() const { return impl_->stats; }
const std::vector<Malformed>& Checker::malformed_examples() const { return impl_->malformed; }

std::vector<DeviceSummary> Checker::devices() const {
  std::vector<DeviceSummary> out;
  for (const auto& dp : impl_->devices) {
    const auto& d = *dp;
    DeviceSummary s;
    s.id = d.id;
    s.device_class = d.device_class;
    s.registered = d.registered;
    s.records = d.records;
    s.duplicates = d.duplicates;
    s.flagged = d.flagged;
    s.missing = d.missing;
    s.first_ms = d.first_t == k_no_time ? 0 : d.first_t;
    s.last_ms = d.last_t == k_no_time ? 0 : d.last_t;
    if (d.skew_n > 0 && !d.skew.empty()) s.skew_ms = skew_value(d.skew.first_key());
    s.interval_ms = d.interval;
    for (auto m : d.models) s.versions.push_back(impl_->models[m].version);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::vector<ModelSummary> Checker::models() const {
  std::vector<ModelSummary> out;
  for (const auto& m : impl_->models) out.push_back({m.version, m.records, m.flagged, m.devices, m.mismatches});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return out;
}

}  // namespace aiot::lineage
