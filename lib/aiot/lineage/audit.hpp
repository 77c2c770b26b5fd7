#pragma once
// `aiot lineage audit` without the terminal: the streaming pipeline (a reader thread parses inputs
// into RecordBatches and hands them through a bounded queue to the Checker on the calling thread,
// so memory is bounded by devices × fields plus a few batches, never by records) and the versioned
// audit.json ("schema": "aiot.audit/v1", docs/lineage.md "audit.json").
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiot/lineage/checks.hpp"
#include "aiot/lineage/readers.hpp"
#include "aiot/lineage/source.hpp"

namespace aiot {
class Error;
}

namespace aiot::lineage {

inline constexpr std::string_view k_audit_schema = "aiot.audit/v1";

struct InputReport {
  std::string name;
  std::string version;  // etag / versionId of a remote object
  std::string sha256;   // of the (decompressed) bytes read
  std::string format;
  std::string ol_namespace, ol_name;
  std::optional<std::uint64_t> size;
  std::uint64_t bytes = 0, records = 0, malformed = 0;
  std::string error;  // the input could not be read (the audit went on without it)
  int error_code = 0; // its exit code
};

// --window FROM/TO or FROM/DURATION: RFC 3339 times (seconds optional), durations 90s/15m/4h/7d or
// ISO 8601 (P7D, PT6H, P1DT12H). Returns [from, to) in epoch ms; Error::usage when malformed or empty.
std::pair<std::int64_t, std::int64_t> parse_window(std::string_view text);

enum class FailOn { error, warn, never };
std::optional<FailOn> parse_fail_on(std::string_view s);

struct AuditOptions {
  std::vector<Input> inputs;
  ReadOptions read;
  CheckerOptions checks;
  std::size_t queue_batches = 4;  // batches in flight between the reader and the checker
  // Reads input i into the sink; the default is read_input(inputs[i], i, read, sink). The CLI
  // passes one that prefetches remote objects.
  std::function<ReadStats(std::size_t, const BatchSink&)> reader;
  // Errors that stop the audit instead of being reported against one input (e.g. auth failures).
  std::function<bool(const Error&)> fatal;
  // Called on the checker thread after each batch (bytes so far); for progress bars.
  std::function<void(std::uint64_t)> progress;
};

struct AuditResult {
  std::vector<CheckResult> checks;
  std::vector<DeviceSummary> devices;
  std::vector<ModelSummary> models;
  CheckStats stats;
  std::vector<Malformed> malformed_examples;
  std::vector<InputReport> inputs;
  std::optional<std::int64_t> window_from_ms, window_to_ms;
  std::uint64_t registered_devices = 0;  // in the registry (0 without one)
  bool with_registry = false;
  double seconds = 0;

  const CheckResult& check(Check c) const { return checks[index(c)]; }
  Outcome worst() const;                  // over evaluated checks
  bool fails(FailOn on) const;            // exit 3?
};

// JSON-lines parser threads for an audit on `cores` cores. The reader, the record checks and the
// field checks already have a thread each, so only cores beyond two get a parser of their own;
// with two or three the reader thread parses (on 2 cores: ~10 % less CPU and wall time per GB than
// two parser threads, tests/bench/RESULTS-lineage.md).
std::size_t audit_parse_threads(std::size_t cores);

// Runs the whole pass. Throws what a reader threw when `fatal` says so; other input errors are
// kept in InputReport::error and the audit goes on.
AuditResult run_audit(AuditOptions options);

struct AuditJsonOptions {
  std::string aiot_version;
  std::string run_id;  // the OpenLineage run id, when events are emitted
  FailOn fail_on = FailOn::error;
  bool with_devices = true;
};
nlohmann::json to_json(const AuditResult& result, const AuditJsonOptions& options);

// "input:offset" as reports show it (the input's name).
std::string location(const AuditResult& result, std::uint32_t input, std::uint64_t offset);

}  // namespace aiot::lineage
