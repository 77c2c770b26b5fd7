#pragma once
// The audit's checks (lineage-governance.md §9.1 step 4) over a stream of RecordBatches, in one
// pass, with state per device × field (never per record): the Checker. docs/lineage.md "Checks"
// states what each code counts; in short (t = device time, else hub time; records in input order):
//
//   REG001 records whose sender is not in the registry; REG002 records from a disabled or
//          decommissioned device (tags.decommissioned = true, tags.lifecycle|state = decommissioned).
//   TS001  records whose device time is unparseable / not UTC, or that carry no time at all.
//   TS005  duplicate records: same message id, or same (device time, payload hash), seen for the
//          device within the duplicate window (1 h of device time). Duplicates are counted, then
//          left out of every other check (and of the profile).
//   TS002  records with device_ts > hub_ts + 5 min (error beyond 1 h).
//   TS007  late records: hub_ts - device_ts > 15 min; and, when records carry seq, records whose
//          seq is below the previous record's (sent earlier, arrived later: out of order).
//   TS004  records whose device time is below the previous record's of the device (not explained by
//          seq as an out-of-order arrival).
//   TS006  gaps: consecutive device times (reordered within 8 records) Δt > 1.5 × interval; the
//          interval from the policy, else the schema for the device class, else learned as the
//          median of the device's first 15 intervals. count = gaps; actual.missing = Σ round(Δt/interval) - 1.
//   ATT001 records of a registered device for which the ledger has no interval (or no time).
//   ATT002 records whose payload model version is not what the ledger says (either version accepted
//          in an install window).
//   SCH001 records whose schema id is not in --schemas (skipped without --schemas).
//   RNG001 values outside the range / enum of the schema's field (or of the policy's ranges), or a
//          number where the schema wants text and vice versa.
//   STK001 stuck sensors: runs of ≥ 10 equal consecutive numeric values of a device's field.
//          count = runs; actual.samples = values in them.
//   OUT001 values judged outliers by a centred Hampel window (k = 3, nσ = 3; MAD = 0 not judged) or
//          robust z (|0.6745 (x - median) / MAD| > 3.5 over the same window), per policy method.
//   CMP001 missing or null values: per device, every field the device sent at least once (and the
//          required fields of its schema) is expected in each of its records.
//   TS003  devices whose median (hub_ts - device_ts) is beyond ±30 s (error beyond 5 min).
//   FR001  devices whose last record is older than 1 h (error 24 h) before the window end (without
//          --window: before the latest hub time in the data).
//   MAL001 records the readers could not use (truncated or invalid JSON, binary, over-long lines,
//          corrupt Avro blocks), each with input:offset.
//   DRF001 (model version, numeric field) pairs whose PSI against the baseline profile ≥ 0.1
//          (error ≥ 0.25); skipped without --baseline.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiot/lineage/ledger.hpp"
#include "aiot/lineage/policy.hpp"
#include "aiot/lineage/record.hpp"

namespace aiot::lineage {

class Profile;

// Pecos-style run: consecutive findings of one check on one device.
struct Run {
  std::string device;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::uint64_t n = 0;
};

struct Example {
  std::uint32_t input = 0;
  std::uint64_t offset = 0;
  std::string device;
  std::string detail;
};

enum class Outcome { pass, info, warn, fail, skipped };
std::string_view to_string(Outcome o);

struct CheckResult {
  Check check = Check::TS001;
  bool evaluated = true;
  std::string skipped_reason;      // when not evaluated
  std::string unit = "records";    // what count counts: records, values, devices, gaps, runs, fields
  std::uint64_t count = 0;         // findings
  std::uint64_t errors = 0;        // findings at error level (multi-level checks)
  std::uint64_t denominator = 0;   // rate = count / denominator
  std::uint64_t runs_total = 0;
  std::vector<Run> runs;           // the first max_runs
  std::vector<Example> examples;   // the first max_examples
  nlohmann::json expected = nlohmann::json::object();  // the thresholds in force (fleet defaults)
  nlohmann::json actual = nlohmann::json::object();    // check-specific figures
  std::optional<Severity> severity;  // of the worst finding; empty when nothing was found

  double rate() const { return denominator ? static_cast<double>(count) / static_cast<double>(denominator) : 0.0; }
  Outcome outcome() const;
};

struct DeviceSummary {
  std::string id;
  std::string device_class;
  bool registered = false;
  std::uint64_t records = 0;     // checked records (duplicates and records outside the window excluded)
  std::uint64_t duplicates = 0;
  std::uint64_t flagged = 0;     // records with at least one finding (approximately: delayed findings add up)
  std::uint64_t missing = 0;     // TS006 records missing in gaps
  std::int64_t first_ms = 0, last_ms = 0;
  std::optional<std::int64_t> skew_ms;  // median hub - device time
  std::int64_t interval_ms = 0;         // expected interval used for TS006 (0: not judged)
  std::vector<std::string> versions;    // attributed model versions, in order of first record
  double score() const;                 // QC index: share of records without findings
};

struct ModelSummary {
  std::string version;  // "" = unattributed
  std::uint64_t records = 0;
  std::uint64_t flagged = 0;
  std::uint64_t devices = 0;
  std::uint64_t mismatches = 0;  // ATT002 records attributed here (the ledger's version)
  double score() const;
};

struct CheckStats {
  std::uint64_t records_read = 0;   // records the readers delivered
  std::uint64_t records = 0;        // records checked (in the window, not duplicates)
  std::uint64_t outside_window = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t malformed = 0;
  std::uint64_t bytes = 0;
  std::uint64_t fields = 0;         // distinct field names
  std::optional<std::int64_t> min_hub_ms, max_hub_ms;
};

struct CheckerOptions {
  const Policy* policy = nullptr;          // required
  const SchemaRegistry* schemas = nullptr; // null or empty: SCH001 skipped, no schema ranges
  const Ledger* ledger = nullptr;          // null: no registry (REG/ATT skipped, payload versions used)
  std::optional<std::int64_t> window_from_ms, window_to_ms;  // [from, to) on hub time (device time without one)
  Profile* profile = nullptr;              // filled when set
  const Profile* baseline = nullptr;       // DRF001 when set
  std::size_t max_examples = 5;
  std::size_t max_runs = 100;
};

class Checker {
 public:
  explicit Checker(CheckerOptions options);
  ~Checker();
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;
  Checker(Checker&&) noexcept;
  Checker& operator=(Checker&&) noexcept;

  void consume(const RecordBatch& batch);
  // The same checks with the per-field ones (RNG001, STK001, OUT001, CMP001, the profile) on a
  // second thread, a batch or two behind: the same results (those checks share no state with the
  // others), less time on the caller's thread. The checker keeps the batch until it is done with it.
  // Do not mix with consume() on other threads; finish() waits for the second thread.
  void consume_async(RecordBatch&& batch);
  // End of the stream: judges what was waiting (Hampel windows, reorder buffers, open runs) and runs
  // the per-device checks (TS003, FR001, CMP001) and DRF001. Call once.
  void finish();

  const std::vector<CheckResult>& results() const;  // one per Check, in catalogue order
  const CheckResult& result(Check c) const { return results()[index(c)]; }
  std::vector<DeviceSummary> devices() const;  // sorted by id
  std::vector<ModelSummary> models() const;    // sorted by version
  const CheckStats& stats() const;
  const std::vector<Malformed>& malformed_examples() const;  // the first max_examples × 4

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aiot::lineage
