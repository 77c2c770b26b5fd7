#include "aiot/hub/azure/azure_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/azure/azure_wire.hpp"

namespace aiot::hub::azure {

namespace {

// The smallest bursts worth having: one full bulk call for identity, a few calls for the rest, so
// an interactive command on a one-unit S1 hub does not wait.
constexpr double k_identity_burst = 100;
constexpr double k_small_burst = 5;

std::string request_id() {
  std::string b = crypto::random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // UUID v4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = str::hex(b);
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4), h.substr(20));
}

template <typename T>
std::map<std::string, T> read_map(const json& j, const char* key) {
  std::map<std::string, T> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return out;
  for (auto e = it->begin(); e != it->end(); ++e) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (e->is_string()) out[e.key()] = e->template get<std::string>();
    } else {
      if (e->is_number()) out[e.key()] = e->template get<T>();
    }
  }
  return out;
}

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<Tier> parse_tier(std::string_view text) {
  auto t = str::to_upper(str::trim(text));
  if (t == "F1" || t == "FREE") return Tier::f1;
  if (t == "S1" || t == "B1") return Tier::s1;
  if (t == "S2" || t == "B2") return Tier::s2;
  if (t == "S3" || t == "B3") return Tier::s3;
  return std::nullopt;
}

Rates rates_for(Tier tier, int units) {
  double u = std::max(units, 1);
  Rates r;
  switch (tier) {
    case Tier::f1:
    case Tier::s1:
      r.identity = 100.0 / 60 * u;
      r.query = 20.0 / 60 * u;
      r.twin_read = 100;
      r.twin_update = 50;
      break;
    case Tier::s2:
      r.identity = 100.0 / 60 * u;
      r.query = 20.0 / 60 * u;
      r.twin_read = std::max(100.0, 10 * u);
      r.twin_update = std::max(50.0, 5 * u);
      break;
    case Tier::s3:
      r.identity = 5000.0 / 60 * u;
      r.query = 1000.0 / 60 * u;
      r.twin_read = 500 * u;
      r.twin_update = 250 * u;
      break;
  }
  r.config = 20.0 / 60 * u;
  return r;
}

json Configuration::to_json() const {
  json j = {{"id", id},
            {"schemaVersion", schema_version},
            {"labels", labels},
            {"content", content},
            {"targetCondition", target_condition},
            {"priority", priority},
            {"metrics", {{"queries", metric_queries}}}};
  if (!etag.empty()) j["etag"] = etag;
  return j;
}

Configuration Configuration::from_json(const json& j) {
  Configuration c;
  c.id = text_of(j, "id");
  if (auto v = text_of(j, "schemaVersion"); !v.empty()) c.schema_version = v;
  c.labels = read_map<std::string>(j, "labels");
  if (auto it = j.find("content"); it != j.end() && it->is_object()) c.content = *it;
  c.target_condition = text_of(j, "targetCondition");
  if (auto it = j.find("priority"); it != j.end() && it->is_number_integer()) c.priority = it->get<int>();
  if (auto m = j.find("metrics"); m != j.end() && m->is_object()) {
    c.metric_queries = read_map<std::string>(*m, "queries");
    c.metric_results = read_map<std::int64_t>(*m, "results");
  }
  if (auto m = j.find("systemMetrics"); m != j.end() && m->is_object()) {
    c.system_metric_queries = read_map<std::string>(*m, "queries");
    c.system_metric_results = read_map<std::int64_t>(*m, "results");
  }
  c.etag = unquote_etag(text_of(j, "etag"));
  c.created_time = text_of(j, "createdTimeUtc");
  c.last_updated_time = text_of(j, "lastUpdatedTimeUtc");
  return c;
}

std::string device_path(std::string_view id) { return "/devices/" + http::url_encode(id); }

// Remembers the Request-Id of every attempt whose outcome is unknown: no answer other than a
// refused connection, or 500/502/504. 429 and 503 are definite: IoT Hub did nothing.
class AzureClient::Observer : public http::Transport {
 public:
  explicit Observer(std::shared_ptr<http::Transport> inner) : inner_(std::move(inner)) {}
  http::Response send(const http::Request& request) override {
    auto r = inner_->send(request);
    note(request, r);
    return r;
  }
  std::vector<http::Response> send_all(std::span<const http::Request> requests) override {
    auto answers = inner_->send_all(requests);
    for (std::size_t i = 0; i < answers.size() && i < requests.size(); ++i) note(requests[i], answers[i]);
    return answers;
  }
  bool uncertain(const std::string& request_id) {
    std::lock_guard lock(mutex_);
    return uncertain_.count(request_id) > 0;
  }

 private:
  void note(const http::Request& request, const http::Response& r) {
    bool unknown = (r.status == 0 && r.transport_error != http::TransportError::connect &&
                    r.transport_error != http::TransportError::dns) ||
                   r.status == 500 || r.status == 502 || r.status == 504;
    if (!unknown || request.method != "POST") return;
    std::lock_guard lock(mutex_);
    uncertain_.insert(http::find_header(request.headers, "Request-Id").value_or(""));
  }
  std::shared_ptr<http::Transport> inner_;
  std::mutex mutex_;
  std::set<std::string> uncertain_;
};

AzureClient::AzureClient(std::shared_ptr<http::Transport> transport, ClientSettings settings)
    : settings_(std::move(settings)),
      tokens_(std::make_shared<auth::sas::TokenCache>(settings_.credentials, settings_.now_seconds)),
      observer_(std::make_shared<Observer>(std::move(transport))),
      client_(observer_, [&] {
        http::ClientOptions o;
        o.retry = settings_.retry;
        o.classify = classify;
        auto tokens = tokens_;
        o.sign = [tokens](http::Request& r) { http::set_header(r.headers, "Authorization", tokens->token()); };
        o.trace = settings_.trace;
        o.clock = settings_.clock;
        o.sleep = settings_.sleep;
        if (settings_.seed != 0) o.seed = settings_.seed;
        return o;
      }()) {
  while (!settings_.base_url.empty() && settings_.base_url.back() == '/') settings_.base_url.pop_back();
  if (settings_.rates) {
    const Rates& r = *settings_.rates;
    auto pace = [&](const char* op_class, double rate, double min_burst) {
      double paced = rate * k_pace_margin;
      client_.set_rate(op_class, paced, std::max(min_burst, paced));
    };
    pace(k_identity, r.identity, k_identity_burst);
    pace(k_query, r.query, k_small_burst);
    pace(k_twin, r.twin_read, k_small_burst);
    pace(k_twin_update, r.twin_update, k_small_burst);
    pace(k_config, r.config, k_small_burst);
  }
}

http::Request AzureClient::request(std::string method, const std::string& path, std::string body) const {
  http::Request r;
  r.method = std::move(method);
  r.url = fmt::format("{}{}?api-version={}", settings_.base_url, path, k_api_version);
  http::set_header(r.headers, "Accept", "application/json");
  http::set_header(r.headers, "Request-Id", request_id());
  if (!body.empty()) {
    http::set_header(r.headers, "Content-Type", "application/json; charset=utf-8");
    r.body = std::move(body);
  }
  return r;
}

http::Response AzureClient::call(http::Request r, const char* op_class, std::string_view context) {
  http::Response answer;
  try {
    answer = client_.send(std::move(r), op_class);
  } catch (const Error& e) {
    if (e.code() == ExitCode::unavailable) throw e.with_prefix(std::string(context) + ": ");
    throw;
  }
  if (answer.status < 200 || answer.status >= 300) throw to_error(answer, context);
  return answer;
}

namespace {
json body_json(const http::Response& r, std::string_view context) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded())
    throw Error::failure(fmt::format("{}: IoT Hub answered {} with a body that is not JSON", context, r.status));
  return j;
}
}  // namespace

json AzureClient::get_device(std::string_view id) {
  auto context = fmt::format("get device '{}'", id);
  return body_json(call(request("GET", device_path(id)), k_identity, context), context);
}

json AzureClient::put_device(const json& identity, std::string_view if_match) {
  std::string id = identity.value("deviceId", "");
  auto context = fmt::format("{} device '{}'", if_match.empty() ? "create" : "update", id);
  auto r = request("PUT", device_path(id), identity.dump());
  if (!if_match.empty()) http::set_header(r.headers, "If-Match", quote_etag(if_match));
  return body_json(call(std::move(r), k_identity, context), context);
}

void AzureClient::delete_device(std::string_view id, std::string_view if_match) {
  auto r = request("DELETE", device_path(id));
  http::set_header(r.headers, "If-Match", quote_etag(if_match.empty() ? "*" : if_match));
  call(std::move(r), k_identity, fmt::format("delete device '{}'", id));
}

json AzureClient::get_twin(std::string_view id) {
  auto context = fmt::format("get twin '{}'", id);
  return body_json(call(request("GET", "/twins/" + http::url_encode(id)), k_twin, context), context);
}

json AzureClient::patch_twin(std::string_view id, const json& patch, std::string_view if_match) {
  auto context = fmt::format("update twin '{}'", id);
  auto r = request("PATCH", "/twins/" + http::url_encode(id), patch.dump());
  http::set_header(r.headers, "If-Match", quote_etag(if_match.empty() ? "*" : if_match));
  return body_json(call(std::move(r), k_twin_update, context), context);
}

std::vector<AzureClient::BulkAnswer> AzureClient::bulk(const std::vector<json>& bodies, double devices_per_call) {
  std::vector<http::Request> requests;
  std::vector<std::string> request_ids;
  requests.reserve(bodies.size());
  for (const auto& b : bodies) {
    requests.push_back(request("POST", "/devices", b.dump()));
    request_ids.push_back(http::find_header(requests.back().headers, "Request-Id").value_or(""));
  }
  std::vector<http::Response> answers;
  try {
    answers = client_.send_all(std::move(requests), k_identity, devices_per_call);
  } catch (const Error& e) {
    if (e.code() == ExitCode::unavailable) throw e.with_prefix("bulk registry call: ");
    throw;
  }
  std::vector<BulkAnswer> out;
  out.reserve(answers.size());
  for (std::size_t i = 0; i < answers.size(); ++i) {
    out.push_back({std::move(answers[i]), observer_->uncertain(request_ids[i])});
  }
  return out;
}

std::vector<std::optional<json>> AzureClient::get_many(const char* collection, const std::vector<std::string>& ids,
                                                       const char* op_class) {
  std::vector<http::Request> requests;
  requests.reserve(ids.size());
  for (const auto& id : ids) requests.push_back(request("GET", fmt::format("/{}/{}", collection, http::url_encode(id))));
  std::vector<http::Response> answers;
  try {
    answers = client_.send_all(std::move(requests), op_class);
  } catch (const Error& e) {
    if (e.code() == ExitCode::unavailable) throw e.with_prefix(fmt::format("read {}: ", collection));
    throw;
  }
  std::vector<std::optional<json>> out(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& a = answers[i];
    if (a.status == 404) continue;
    auto context = fmt::format("get {} '{}'", collection == std::string_view("twins") ? "twin" : "device", ids[i]);
    if (a.status < 200 || a.status >= 300) throw to_error(a, context);
    out[i] = body_json(a, context);
  }
  return out;
}

std::vector<AzureClient::TwinPatchResult> AzureClient::patch_twins(const std::vector<TwinPatch>& patches) {
  std::vector<http::Request> requests;
  requests.reserve(patches.size());
  for (const auto& p : patches) {
    auto r = request("PATCH", "/twins/" + http::url_encode(p.id), p.patch.dump());
    http::set_header(r.headers, "If-Match", quote_etag(p.if_match.empty() ? "*" : p.if_match));
    requests.push_back(std::move(r));
  }
  std::vector<http::Response> answers;
  try {
    answers = client_.send_all(std::move(requests), k_twin_update);
  } catch (const Error& e) {
    if (e.code() == ExitCode::unavailable) throw e.with_prefix("update twins: ");
    throw;
  }
  std::vector<TwinPatchResult> out(patches.size());
  for (std::size_t i = 0; i < patches.size(); ++i) {
    auto context = fmt::format("update twin '{}'", patches[i].id);
    if (answers[i].status >= 200 && answers[i].status < 300) {
      out[i].twin = body_json(answers[i], context);
      continue;
    }
    Error e = to_error(answers[i], context);
    if (e.code() == ExitCode::auth || e.code() == ExitCode::unavailable) throw e;
    out[i].error = std::move(e);
  }
  return out;
}

std::vector<std::optional<json>> AzureClient::get_twins(const std::vector<std::string>& ids) {
  return get_many("twins", ids, k_twin);
}

std::vector<std::optional<json>> AzureClient::get_devices(const std::vector<std::string>& ids) {
  return get_many("devices", ids, k_identity);
}

http::Request AzureClient::query_request(std::string_view text, std::string_view continuation,
                                         std::size_t max_items) const {
  auto r = request("POST", "/devices/query", json{{"query", text}}.dump());
  if (!continuation.empty()) http::set_header(r.headers, "x-ms-continuation", std::string(continuation));
  if (max_items > 0) http::set_header(r.headers, "x-ms-max-item-count", std::to_string(max_items));
  return r;
}

QueryPage AzureClient::read_page(const http::Response& answer, std::string_view context) {
  auto j = body_json(answer, context);
  if (!j.is_array()) throw Error::failure(fmt::format("{}: IoT Hub answered with something other than a list", context));
  QueryPage page;
  page.items.assign(j.begin(), j.end());
  page.continuation = http::find_header(answer.headers, "x-ms-continuation").value_or("");
  return page;
}

QueryPage AzureClient::query(std::string_view text, std::string_view continuation, std::size_t max_items) {
  auto answer = call(query_request(text, continuation, max_items), k_query, "query devices");
  return read_page(answer, "query devices");
}

std::vector<std::optional<json>> AzureClient::find_twins(const std::vector<std::string>& ids) {
  // Queries of at most 100 ids and about 4 KB of text each.
  constexpr std::size_t k_ids_per_query = 100, k_max_text = 4000;
  std::vector<std::string> texts;
  std::string list;
  std::size_t in_list = 0;
  auto flush = [&] {
    if (in_list == 0) return;
    texts.push_back("SELECT * FROM devices WHERE deviceId IN [" + list + "]");
    list.clear();
    in_list = 0;
  };
  for (const auto& id : ids) {
    std::string literal = quote_literal(id);
    if (in_list == k_ids_per_query || list.size() + literal.size() + 2 > k_max_text) flush();
    if (in_list > 0) list += ", ";
    list += literal;
    ++in_list;
  }
  flush();
  std::vector<http::Request> requests;
  for (const auto& t : texts) requests.push_back(query_request(t, {}, k_ids_per_query));
  std::vector<http::Response> answers;
  try {
    answers = client_.send_all(std::move(requests), k_query);
  } catch (const Error& e) {
    if (e.code() == ExitCode::unavailable) throw e.with_prefix("query devices: ");
    throw;
  }
  std::map<std::string, json> found;
  for (std::size_t q = 0; q < answers.size(); ++q) {
    if (answers[q].status < 200 || answers[q].status >= 300) throw to_error(answers[q], "query devices");
    auto page = read_page(answers[q], "query devices");
    while (true) {
      for (auto& twin : page.items) {
        if (!twin.is_object()) continue;
        auto id = twin.find("deviceId");
        if (id == twin.end() || !id->is_string()) continue;
        std::string key = id->get<std::string>();
        found[key] = std::move(twin);
      }
      if (page.continuation.empty()) break;
      page = query(texts[q], page.continuation, k_ids_per_query);
    }
  }
  std::vector<std::optional<json>> out(ids.size());
  std::vector<std::string> missing;
  std::vector<std::size_t> missing_at;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (auto it = found.find(ids[i]); it != found.end()) {
      out[i] = it->second;
    } else {
      missing.push_back(ids[i]);
      missing_at.push_back(i);
    }
  }
  if (!missing.empty()) {
    auto read = get_twins(missing);
    for (std::size_t k = 0; k < missing.size(); ++k) out[missing_at[k]] = std::move(read[k]);
  }
  return out;
}

std::vector<json> AzureClient::query_all(std::string_view text, std::size_t limit) {
  std::vector<json> out;
  std::string continuation;
  do {
    // 1000 a page (the SDKs' default) unless fewer are wanted: fewer round trips than the hub's 100.
    std::size_t want = limit == 0 ? 1000 : std::min<std::size_t>(limit - out.size(), 1000);
    auto page = query(text, continuation, want);
    for (auto& item : page.items) {
      if (limit != 0 && out.size() >= limit) break;
      out.push_back(std::move(item));
    }
    continuation = std::move(page.continuation);
  } while (!continuation.empty() && (limit == 0 || out.size() < limit));
  return out;
}

Configuration AzureClient::create_configuration(const Configuration& c) {
  Configuration wire = c;
  wire.id = str::to_lower(c.id);
  wire.etag.clear();
  json body = wire.to_json();
  body["etag"] = "*";  // as the CLI sends it; creation itself carries no If-Match
  auto context = fmt::format("create configuration '{}'", wire.id);
  auto answer = call(request("PUT", "/configurations/" + http::url_encode(wire.id), body.dump()), k_config, context);
  return Configuration::from_json(body_json(answer, context));
}

Configuration AzureClient::update_configuration(const Configuration& c, std::string_view if_match) {
  auto context = fmt::format("update configuration '{}'", c.id);
  Configuration wire = c;
  if (!if_match.empty() && if_match != "*") wire.etag = std::string(if_match);
  auto r = request("PUT", "/configurations/" + http::url_encode(c.id), wire.to_json().dump());
  http::set_header(r.headers, "If-Match", quote_etag(if_match.empty() ? "*" : if_match));
  return Configuration::from_json(body_json(call(std::move(r), k_config, context), context));
}

Configuration AzureClient::get_configuration(std::string_view id) {
  auto context = fmt::format("get configuration '{}'", id);
  return Configuration::from_json(
      body_json(call(request("GET", "/configurations/" + http::url_encode(id)), k_config, context), context));
}

std::vector<Configuration> AzureClient::list_configurations(std::size_t top) {
  auto r = request("GET", "/configurations");
  if (top > 0) r.url += fmt::format("&top={}", top);
  auto j = body_json(call(std::move(r), k_config, "list configurations"), "list configurations");
  if (!j.is_array()) throw Error::failure("list configurations: IoT Hub answered with something other than a list");
  std::vector<Configuration> out;
  for (const auto& item : j) out.push_back(Configuration::from_json(item));
  return out;
}

void AzureClient::delete_configuration(std::string_view id, std::string_view if_match) {
  auto r = request("DELETE", "/configurations/" + http::url_encode(id));
  http::set_header(r.headers, "If-Match", quote_etag(if_match.empty() ? "*" : if_match));
  call(std::move(r), k_config, fmt::format("delete configuration '{}'", id));
}

TestQueriesResult AzureClient::test_queries(std::string_view target_condition,
                                            const std::map<std::string, std::string>& custom_metric_queries) {
  json body = {{"targetCondition", target_condition}, {"customMetricQueries", custom_metric_queries}};
  auto context = "test configuration queries";
  auto j = body_json(call(request("POST", "/configurations/testQueries", body.dump()), k_config, context), context);
  TestQueriesResult r;
  r.target_condition_error = text_of(j, "targetConditionError");
  for (const auto& [name, error] : read_map<std::string>(j, "customMetricQueryErrors")) {
    if (!error.empty()) r.custom_metric_query_errors[name] = error;
  }
  return r;
}

}  // namespace aiot::hub::azure
