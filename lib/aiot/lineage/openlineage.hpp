#pragma once
// OpenLineage 2-0-2 RunEvents (lineage-governance.md §1): built from plain structs, written as one
// JSON document per line to a file (append) or POSTed to a Marquez-compatible /api/v1/lineage.
// No C++ client exists upstream; this is the small subset aiot needs. Facet versions and
// _schemaURLs match the schemas in shared/testdata/openlineage (validated by
// tests/integration/test_openlineage_schema.sh).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "aiot/core/time.hpp"

namespace aiot {
class Env;
}
namespace aiot::http {
class Transport;
}
namespace aiot::lineage {
class Profile;
}

namespace aiot::lineage::ol {

inline constexpr std::string_view k_event_schema_url =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
// Producer URI of every event and facet aiot writes (the spec asks for a URI naming the producing
// code and its version): k_producer_base + "/tree/v" + AIOT version.
inline constexpr std::string_view k_producer_base = "https://github.com/aiot-dev/aiot";
// The custom attribution facet's JSON Schema, published in the repo at docs/schemas/.
inline constexpr std::string_view k_attribution_schema_url =
    "https://github.com/aiot-dev/aiot/blob/main/docs/schemas/AiotAttributionInputDatasetFacet.json"
    "#/$defs/AiotAttributionInputDatasetFacet";

std::string producer(std::string_view aiot_version);  // k_producer_base/tree/v<version>

// UUIDv7 (RFC 9562): 48-bit Unix ms of `t`, version 7, variant 10, the rest from `random`
// (at least 10 bytes; Error::usage otherwise). Time-ordered like the Python client's run ids.
std::string uuid_v7(TimePoint t, std::string_view random);
// uuid_v7 with random bytes from OpenSSL.
std::string new_run_id(TimePoint t);

enum class EventType { start, running, complete, abort, fail, other };
std::string_view to_string(EventType type);  // "START", "COMPLETE", ...

struct SchemaField {
  std::string name;
  std::string type;         // "number", "string", "boolean", ...
  std::string description;  // optional (omitted when empty)
};

struct DataSource {
  std::string name;
  std::string uri;
};

// DataQualityMetricsInputDatasetFacet columnMetrics entry; absent members are omitted.
struct ColumnMetrics {
  std::optional<std::uint64_t> null_count;
  std::optional<std::uint64_t> distinct_count;
  std::optional<double> sum;
  std::optional<double> count;
  std::optional<double> min;
  std::optional<double> max;
  std::map<std::string, double> quantiles;  // "0.25" -> value
};

struct DataQualityMetrics {
  std::optional<std::uint64_t> row_count;
  std::optional<std::uint64_t> bytes;
  std::optional<std::uint64_t> file_count;
  std::map<std::string, ColumnMetrics> columns;
};

// DataQualityAssertionsDatasetFacet entry: one per audit check.
struct Assertion {
  std::string assertion;  // the check, e.g. "TS002 future timestamps"
  bool success = true;
  std::string column;     // optional
  std::string severity;   // "error" | "warn" (optional; the schema allows only these two)
  std::string name;       // optional, e.g. the check code
  std::string description;
  std::string expected;
  std::string actual;
};

struct InputDataset {
  std::string ns;    // dataset namespace ("file", "s3://bucket", "wasbs://c@a...")
  std::string name;  // path / key
  std::vector<SchemaField> schema;        // "schema" facet when non-empty
  std::optional<DataSource> data_source;  // "dataSource" facet
  std::string version;                    // "version" facet (datasetVersion) when non-empty
  std::optional<DataQualityMetrics> metrics;  // inputFacets.dataQualityMetrics
  std::vector<Assertion> assertions;          // inputFacets.dataQualityAssertions when non-empty
  // inputFacets.aiot_attribution {"recordsByModelVersion": {version: count}} when non-empty.
  std::map<std::string, std::uint64_t> attribution;
};

struct OutputDataset {
  std::string ns;
  std::string name;
  // outputFacets.outputStatistics when any is set.
  std::optional<std::uint64_t> row_count;
  std::optional<std::uint64_t> size;
  std::optional<std::uint64_t> file_count;
};

struct ParentRun {
  std::string run_id;
  std::string job_namespace;
  std::string job_name;
};

struct RunEvent {
  EventType type = EventType::start;
  TimePoint event_time;
  std::string run_id;         // new_run_id(); the same for START and its COMPLETE/FAIL
  std::string job_namespace;  // e.g. "aiot://fleet"
  std::string job_name;       // e.g. "lineage.audit"
  std::string aiot_version;   // processing_engine.version and the producer URI
  std::optional<TimePoint> nominal_start;  // nominalTime facet when set
  std::optional<TimePoint> nominal_end;
  std::optional<ParentRun> parent;
  std::string error_message;  // FAIL: errorMessage facet (programmingLanguage "C++")
  std::string stack_trace;    // optional
  std::vector<InputDataset> inputs;
  std::vector<OutputDataset> outputs;
};

// The event as JSON (keys sorted; compact when dumped with dump()). Error::usage when run_id,
// job namespace or job name is empty.
nlohmann::json to_json(const RunEvent& event);

// Where events go.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void emit(const RunEvent& event) = 0;
};

// Appends one compact JSON line per event (O_APPEND, one write(2) per event, so concurrent audits
// writing the same file do not interleave within a line). Error::failure when it cannot write.
class FileEmitter : public Emitter {
 public:
  explicit FileEmitter(std::string path) : path_(std::move(path)) {}
  void emit(const RunEvent& event) override;

 private:
  std::string path_;
};

// POSTs each event as application/json to `url` (e.g. http://127.0.0.1:5000/api/v1/lineage).
// 200/201/202/204 are success; 400/422 throw Error::usage (the server rejected the event), 401/403
// Error::auth, anything else or no answer Error::unavailable. Bearer token when api_key is set.
class HttpEmitter : public Emitter {
 public:
  HttpEmitter(http::Transport& transport, std::string url, std::string api_key = {})
      : transport_(transport), url_(std::move(url)), api_key_(std::move(api_key)) {}
  void emit(const RunEvent& event) override;
  const std::string& url() const { return url_; }

 private:
  http::Transport& transport_;
  std::string url_;
  std::string api_key_;
};

// From a --openlineage target: "file:PATH" → FileEmitter; "http://host:port[/path]" or https →
// HttpEmitter (path defaults to /api/v1/lineage, as OPENLINEAGE_ENDPOINT does). Plain http:// only
// to loopback hosts. Error::usage for anything else. `transport` must outlive the emitter and is
// only used for http(s) targets (may be null otherwise).
std::unique_ptr<Emitter> make_emitter(std::string_view target, http::Transport* transport,
                                      std::string api_key = {});

// The OpenLineage clients' environment, so existing deployments configure aiot unchanged:
// OPENLINEAGE_URL (+ OPENLINEAGE_ENDPOINT, default api/v1/lineage) gives an HTTP target when no
// --openlineage flag is given; OPENLINEAGE_DISABLED=true turns emission off (nullopt);
// OPENLINEAGE_NAMESPACE is the job namespace (default "aiot"); OPENLINEAGE_API_KEY the bearer token.
std::optional<std::string> target_from_env(const Env& env);
std::string job_namespace_from_env(const Env& env);
std::string api_key_from_env(const Env& env);
bool disabled_by_env(const Env& env);

// dataQualityMetrics of a profile: rowCount = records, bytes, fileCount = inputs, and per field
// (all model versions together) nullCount, distinctCount (HLL estimate), count, min, max and the
// 0.05/0.25/0.5/0.75/0.95 quantiles (KLL).
DataQualityMetrics metrics_of(const Profile& profile);
// aiot_attribution of a profile: records per model version.
std::map<std::string, std::uint64_t> attribution_of(const Profile& profile);

}  // namespace aiot::lineage::ol
