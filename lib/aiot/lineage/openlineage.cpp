#include "aiot/lineage/openlineage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/core/crypto.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"
#include "aiot/http/transport.hpp"
#include "aiot/lineage/profile.hpp"

namespace aiot::lineage::ol {

using nlohmann::json;

namespace {

// Facet schema URLs: the versions of shared/testdata/openlineage (spec snapshot of 2026-08).
constexpr std::string_view k_facets = "https://openlineage.io/spec/facets/";

std::string facet_url(std::string_view version, std::string_view name) {
  return fmt::format("{}{}/{}.json#/$defs/{}", k_facets, version, name, name);
}

json facet(const std::string& producer_uri, std::string schema_url) {
  return json{{"_producer", producer_uri}, {"_schemaURL", std::move(schema_url)}};
}

json column_metrics_json(const ColumnMetrics& c) {
  json j = json::object();
  if (c.null_count) {
    j["nullCount"] = *c.null_count;
  }
  if (c.distinct_count) {
    j["distinctCount"] = *c.distinct_count;
  }
  // The schema types these as numbers: a NaN or infinity (JSON has neither) is left out.
  auto put = [&](const char* key, const std::optional<double>& v) {
    if (v && std::isfinite(*v)) {
      j[key] = *v;
    }
  };
  put("sum", c.sum);
  put("count", c.count);
  put("min", c.min);
  put("max", c.max);
  if (!c.quantiles.empty()) {
    json q = json::object();
    for (const auto& [key, value] : c.quantiles) {
      if (std::isfinite(value)) {
        q[key] = value;
      }
    }
    j["quantiles"] = std::move(q);
  }
  return j;
}

json input_json(const InputDataset& in, const std::string& producer_uri) {
  json dataset{{"namespace", in.ns}, {"name", in.name}};
  json facets = json::object();
  if (!in.schema.empty()) {
    json fields = json::array();
    for (const auto& f : in.schema) {
      json field{{"name", f.name}};
      if (!f.type.empty()) {
        field["type"] = f.type;
      }
      if (!f.description.empty()) {
        field["description"] = f.description;
      }
      fields.push_back(std::move(field));
    }
    facets["schema"] = facet(producer_uri, facet_url("1-2-0", "SchemaDatasetFacet"));
    facets["schema"]["fields"] = std::move(fields);
  }
  if (in.data_source) {
    facets["dataSource"] = facet(producer_uri, facet_url("1-0-1", "DatasourceDatasetFacet"));
    facets["dataSource"]["name"] = in.data_source->name;
    facets["dataSource"]["uri"] = in.data_source->uri;
  }
  if (!in.version.empty()) {
    facets["version"] = facet(producer_uri, facet_url("1-0-1", "DatasetVersionDatasetFacet"));
    facets["version"]["datasetVersion"] = in.version;
  }
  if (!facets.empty()) {
    dataset["facets"] = std::move(facets);
  }

  json input_facets = json::object();
  if (in.metrics) {
    auto metrics = facet(producer_uri, facet_url("1-0-3", "DataQualityMetricsInputDatasetFacet"));
    if (in.metrics->row_count) {
      metrics["rowCount"] = *in.metrics->row_count;
    }
    if (in.metrics->bytes) {
      metrics["bytes"] = *in.metrics->bytes;
    }
    if (in.metrics->file_count) {
      metrics["fileCount"] = *in.metrics->file_count;
    }
    json columns = json::object();
    for (const auto& [name, c] : in.metrics->columns) {
      columns[name] = column_metrics_json(c);
    }
    metrics["columnMetrics"] = std::move(columns);
    input_facets["dataQualityMetrics"] = std::move(metrics);
  }
  if (!in.assertions.empty()) {
    json list = json::array();
    for (const auto& a : in.assertions) {
      json item{{"assertion", a.assertion}, {"success", a.success}};
      auto put = [&](const char* key, const std::string& value) {
        if (!value.empty()) {
          item[key] = value;
        }
      };
      put("column", a.column);
      put("severity", a.severity);
      put("name", a.name);
      put("description", a.description);
      put("expected", a.expected);
      put("actual", a.actual);
      list.push_back(std::move(item));
    }
    input_facets["dataQualityAssertions"] = facet(producer_uri, facet_url("1-1-0", "DataQualityAssertionsDatasetFacet"));
    input_facets["dataQualityAssertions"]["assertions"] = std::move(list);
  }
  if (!in.attribution.empty()) {
    json counts = json::object();
    for (const auto& [version, count] : in.attribution) {
      counts[version] = count;
    }
    input_facets["aiot_attribution"] = facet(producer_uri, std::string(k_attribution_schema_url));
    input_facets["aiot_attribution"]["recordsByModelVersion"] = std::move(counts);
  }
  if (!input_facets.empty()) {
    dataset["inputFacets"] = std::move(input_facets);
  }
  return dataset;
}

json output_json(const OutputDataset& out, const std::string& producer_uri) {
  json dataset{{"namespace", out.ns}, {"name", out.name}};
  if (out.row_count || out.size || out.file_count) {
    auto stats = facet(producer_uri, facet_url("1-0-2", "OutputStatisticsOutputDatasetFacet"));
    if (out.row_count) {
      stats["rowCount"] = *out.row_count;
    }
    if (out.size) {
      stats["size"] = *out.size;
    }
    if (out.file_count) {
      stats["fileCount"] = *out.file_count;
    }
    dataset["outputFacets"] = json{{"outputStatistics", std::move(stats)}};
  }
  return dataset;
}

}  // namespace

std::string producer(std::string_view aiot_version) {
  return fmt::format("{}/tree/v{}", k_producer_base, aiot_version.empty() ? "0.0.0" : aiot_version);
}

std::string uuid_v7(TimePoint t, std::string_view random) {
  if (random.size() < 10) {
    throw Error::usage("uuid_v7 needs at least 10 random bytes");
  }
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  unsigned char b[16];
  for (int i = 0; i < 6; ++i) {
    b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  }
  const auto* r = reinterpret_cast<const unsigned char*>(random.data());
  b[6] = static_cast<unsigned char>(0x70 | (r[0] & 0x0f));  // version 7
  b[7] = r[1];
  b[8] = static_cast<unsigned char>(0x80 | (r[2] & 0x3f));  // variant 10
  for (int i = 9; i < 16; ++i) {
    b[i] = r[i - 6];
  }
  std::string hex;
  hex.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      hex.push_back('-');
    }
    hex += fmt::format("{:02x}", b[i]);
  }
  return hex;
}

std::string new_run_id(TimePoint t) { return uuid_v7(t, crypto::random_bytes(10)); }

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::start: return "START";
    case EventType::running: return "RUNNING";
    case EventType::complete: return "COMPLETE";
    case EventType::abort: return "ABORT";
    case EventType::fail: return "FAIL";
    case EventType::other: return "OTHER";
  }
  return "OTHER";
}

json to_json(const RunEvent& event) {
  if (event.run_id.empty() || event.job_namespace.empty() || event.job_name.empty()) {
    throw Error::usage("an OpenLineage event needs a run id, a job namespace and a job name");
  }
  const std::string producer_uri = producer(event.aiot_version);

  json run_facets = json::object();
  if (event.nominal_start) {
    auto nominal = facet(producer_uri, facet_url("1-0-1", "NominalTimeRunFacet"));
    nominal["nominalStartTime"] = format_rfc3339(*event.nominal_start);
    if (event.nominal_end) {
      nominal["nominalEndTime"] = format_rfc3339(*event.nominal_end);
    }
    run_facets["nominalTime"] = std::move(nominal);
  }
  auto engine = facet(producer_uri, facet_url("1-1-1", "ProcessingEngineRunFacet"));
  engine["name"] = "aiot";
  engine["version"] = event.aiot_version.empty() ? "0.0.0" : event.aiot_version;
  run_facets["processing_engine"] = std::move(engine);
  if (event.parent) {
    auto parent = facet(producer_uri, facet_url("1-2-0", "ParentRunFacet"));
    parent["run"] = json{{"runId", event.parent->run_id}};
    parent["job"] = json{{"namespace", event.parent->job_namespace}, {"name", event.parent->job_name}};
    run_facets["parent"] = std::move(parent);
  }
  if (event.type == EventType::fail || !event.error_message.empty()) {
    auto error = facet(producer_uri, facet_url("1-0-1", "ErrorMessageRunFacet"));
    error["message"] = event.error_message.empty() ? std::string("failed") : event.error_message;
    error["programmingLanguage"] = "C++";
    if (!event.stack_trace.empty()) {
      error["stackTrace"] = event.stack_trace;
    }
    run_facets["errorMessage"] = std::move(error);
  }

  auto job_type = facet(producer_uri, facet_url("2-0-4", "JobTypeJobFacet"));
  job_type["processingType"] = "BATCH";
  job_type["integration"] = "AIOT";
  job_type["jobType"] = "JOB";

  json inputs = json::array();
  for (const auto& in : event.inputs) {
    inputs.push_back(input_json(in, producer_uri));
  }
  json outputs = json::array();
  for (const auto& out : event.outputs) {
    outputs.push_back(output_json(out, producer_uri));
  }
  return json{{"eventType", std::string(to_string(event.type))},
              {"eventTime", format_rfc3339(event.event_time)},
              {"producer", producer_uri},
              {"schemaURL", std::string(k_event_schema_url)},
              {"run", json{{"runId", event.run_id}, {"facets", std::move(run_facets)}}},
              {"job", json{{"namespace", event.job_namespace},
                           {"name", event.job_name},
                           {"facets", json{{"jobType", std::move(job_type)}}}}},
              {"inputs", std::move(inputs)},
              {"outputs", std::move(outputs)}};
}

void FileEmitter::emit(const RunEvent& event) {
  const std::string line = to_json(event).dump() + "\n";
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error::failure(fmt::format("cannot open {} for OpenLineage events: {}", path_, std::strerror(errno)));
  }
  // One write(2) for the whole line: with O_APPEND, lines of concurrent writers do not interleave.
  std::size_t done = 0;
  while (done < line.size()) {
    const auto n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int saved = errno;
      ::close(fd);
      throw Error::failure(fmt::format("cannot write OpenLineage event to {}: {}", path_, std::strerror(saved)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    throw Error::failure(fmt::format("cannot write OpenLineage event to {}: {}", path_, std::strerror(errno)));
  }
}

void HttpEmitter::emit(const RunEvent& event) {
  http::Request request;
  request.method = "POST";
  request.url = url_;
  request.body = to_json(event).dump();
  request.timeout = std::chrono::milliseconds(5000);  // the OpenLineage Python client's default
  http::set_header(request.headers, "Content-Type", "application/json");
  if (!api_key_.empty()) {
    http::set_header(request.headers, "Authorization", "Bearer " + api_key_);
  }
  const auto response = transport_.send(request);
  if (response.status == 200 || response.status == 201 || response.status == 202 || response.status == 204) {
    return;
  }
  if (response.status == 0) {
    throw Error::unavailable(
        fmt::format("cannot send the OpenLineage event to {}: {}", url_,
                    response.error_text.empty() ? std::string("no answer") : response.error_text),
        "is the lineage server (e.g. Marquez) running there?");
  }
  const std::string body = response.body.substr(0, 300);
  if (response.status == 401 || response.status == 403) {
    throw Error::auth(fmt::format("{} refused the OpenLineage event: HTTP {}", url_, response.status),
                      "set OPENLINEAGE_API_KEY to the server's API key");
  }
  if (response.status == 400 || response.status == 422) {
    throw Error::usage(fmt::format("{} rejected the OpenLineage event: HTTP {}: {}", url_, response.status, body));
  }
  throw Error::unavailable(fmt::format("{} failed on the OpenLineage event: HTTP {}: {}", url_, response.status, body));
}

std::unique_ptr<Emitter> make_emitter(std::string_view target, http::Transport* transport, std::string api_key) {
  if (target.starts_with("file:")) {
    std::string_view path = target.substr(5);
    if (path.starts_with("//")) {
      path.remove_prefix(2);  // file:///abs/path → /abs/path
    }
    if (path.empty()) {
      throw Error::usage("--openlineage file: needs a path, e.g. file:lineage.jsonl");
    }
    return std::make_unique<FileEmitter>(std::string(path));
  }
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const auto scheme_end = target.find("://") + 3;
    const auto path_at = target.find('/', scheme_end);
    std::string url(target);
    if (target.find_first_of("?#", scheme_end) != std::string_view::npos) {
      throw Error::usage(fmt::format("--openlineage {}: a query or fragment is not supported", target));
    }
    if (scheme_end == target.size() || path_at == scheme_end) {
      throw Error::usage(fmt::format("--openlineage {}: no host", target));
    }
    if (path_at == std::string_view::npos || path_at + 1 == target.size()) {
      // No path: the OpenLineage default endpoint, as OPENLINEAGE_ENDPOINT does.
      url = std::string(target.substr(0, path_at)) + "/api/v1/lineage";
    }
    if (target.starts_with("http://") && !http::is_loopback_url(url)) {
      throw Error::usage(fmt::format("--openlineage {}: plain http is only allowed to this machine (127.0.0.1, ::1, "
                                     "localhost)",
                                     target),
                         "use https:// for a remote lineage server");
    }
    if (transport == nullptr) {
      throw Error::usage("--openlineage over HTTP needs an HTTP transport");
    }
    return std::make_unique<HttpEmitter>(*transport, std::move(url), std::move(api_key));
  }
  throw Error::usage(fmt::format("--openlineage {}: expected file:PATH or http(s)://host:port[/api/v1/lineage]", target));
}

bool disabled_by_env(const Env& env) {
  const auto v = env.get("OPENLINEAGE_DISABLED");
  return v && (*v == "true" || *v == "TRUE" || *v == "True" || *v == "1");
}

std::optional<std::string> target_from_env(const Env& env) {
  if (disabled_by_env(env)) {
    return std::nullopt;
  }
  auto url = env.get("OPENLINEAGE_URL");
  if (!url || url->empty()) {
    return std::nullopt;
  }
  std::string endpoint = env.get_or("OPENLINEAGE_ENDPOINT", "api/v1/lineage");
  while (!url->empty() && url->back() == '/') {
    url->pop_back();
  }
  while (!endpoint.empty() && endpoint.front() == '/') {
    endpoint.erase(0, 1);
  }
  return endpoint.empty() ? *url : *url + "/" + endpoint;
}

std::string job_namespace_from_env(const Env& env) {
  const auto ns = env.get("OPENLINEAGE_NAMESPACE");
  return ns && !ns->empty() ? *ns : std::string("aiot");
}

std::string api_key_from_env(const Env& env) { return env.get_or("OPENLINEAGE_API_KEY", ""); }

DataQualityMetrics metrics_of(const Profile& profile) {
  DataQualityMetrics m;
  m.row_count = profile.records;
  m.bytes = profile.bytes;
  m.file_count = profile.inputs;
  std::map<std::string, FieldProfile, std::less<>> by_field;
  for (const auto& [version, model] : profile.models) {
    for (const auto& [name, field] : model.fields) {
      by_field[name].merge(field);
    }
  }
  for (const auto& [name, field] : by_field) {
    ColumnMetrics c;
    c.null_count = field.nulls + field.missing;
    c.distinct_count = static_cast<std::uint64_t>(std::llround(field.distinct.estimate()));
    c.count = static_cast<double>(field.count);
    if (field.moments.n > 0) {
      c.min = field.moments.min;
      c.max = field.moments.max;
      c.sum = field.moments.mean * static_cast<double>(field.moments.n);
      for (const char* q : {"0.05", "0.25", "0.5", "0.75", "0.95"}) {
        c.quantiles[q] = field.quantiles.quantile(std::stod(q));
      }
    }
    m.columns[name] = std::move(c);
  }
  return m;
}

std::map<std::string, std::uint64_t> attribution_of(const Profile& profile) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [version, model] : profile.models) {
    out[version] = model.records;
  }
  return out;
}

}  // namespace aiot::lineage::ol
