// `aiot hub serve --api azure`: the local hub over the IoT Hub service REST dialect
// (api-version 2021-04-12): device identities, bulk registry, twins, queries with continuation,
// configurations and statistics, SAS-checked, with IoT Hub error bodies and throttling answers.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>
#include <set>

#include "aiot/auth/cloud/sas.hpp"
#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/emulator/azure_configurations.hpp"
#include "aiot/emulator/http_server.hpp"
#include "aiot/emulator/server.hpp"
#include "aiot/hub/azure/azure_client.hpp"
#include "aiot/hub/azure/azure_wire.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/hub/query.hpp"

namespace aiot::emulator {

namespace {

using nlohmann::json;
using namespace aiot::hub::azure;
namespace sas = aiot::auth::sas;
using hub::Device;
using azure::ConfigError;
using azure::metric_condition;
using azure::target_condition_error;

hub::ListOptions list_options(std::string where, std::size_t limit) {
  hub::ListOptions o;
  o.where = std::move(where);
  o.limit = limit;
  return o;
}

constexpr const char* k_policy = "iothubowner";
// The versions whose shapes match what is served here (the SDKs' and the CLI's).
const std::set<std::string> k_api_versions = {"2020-03-13", "2020-09-30", "2021-04-12", "2021-11-30", "2024-03-31"};
constexpr std::size_t k_default_page = 100;
constexpr std::size_t k_max_page = 10'000;

// The emulator's policy key: reused from <hub>.azure-key (0600) so a restart keeps working
// connection strings, else made once.
std::string load_or_create_key(const std::filesystem::path& hub_path) {
  auto key_file = std::filesystem::path(hub_path.string() + ".azure-key");
  std::error_code ec;
  if (std::filesystem::exists(key_file, ec)) {
    std::string key(str::trim(fs::read_file(key_file)));
    try {
      sas::sign(key, "check");
    } catch (const Error&) {
      throw Error::failure(fmt::format("the emulator key file {} does not hold a base64 key", key_file.string()),
                           "Delete it and a new key is made on the next start.");
    }
    return key;
  }
  std::string key = crypto::base64_encode(crypto::random_bytes(32));
  fs::write_atomic(key_file, key + "\n", fs::Mode::secret);
  return key;
}

std::string tracking_id() { return str::hex(crypto::random_bytes(16), true); }

std::string lower(std::string_view s) { return str::to_lower(s); }

// A merge patch that turns `from` into `to` (tags or desired properties replaced by PUT /twins).
json replacement_patch(const json& from, const json& to) {
  json patch = json::object();
  if (from.is_object()) {
    for (auto it = from.begin(); it != from.end(); ++it) {
      if (!to.contains(it.key())) patch[it.key()] = nullptr;
    }
  }
  for (auto it = to.begin(); it != to.end(); ++it) {
    auto old = from.is_object() ? from.find(it.key()) : from.end();
    if (from.is_object() && old != from.end() && old->is_object() && it->is_object()) {
      patch[it.key()] = replacement_patch(*old, *it);
    } else {
      patch[it.key()] = *it;
    }
  }
  return patch;
}

class AzureEmulator {
 public:
  AzureEmulator(const ServeOptions& options, Clock clock)
      : options_(options),
        clock_(clock),
        hub_(options.hub_path, clock),
        configs_(options.hub_path),
        key_(load_or_create_key(options.hub_path)) {}

  DialectHooks hooks() {
    DialectHooks h;
    h.throttled = [this](const HttpRequest&, HttpResponse& res) {
      res.set(429, legacy_error_body("ThrottlingException",
                                     "The request has been throttled. Wait and try again. Operation type: emulator",
                                     tracking_id(), now_text()));
      res.set_header("iothub-errorcode", "ThrottlingException");
    };
    h.unavailable = [this](const HttpRequest&, HttpResponse& res) {
      fail(res, 503, 503001, "The service is unavailable (injected fault)");
    };
    h.no_route = [this](const HttpRequest& req, HttpResponse& res) {
      fail_named(res, 404, "NotFound", fmt::format("no IoT Hub endpoint for {} {}", req.method, req.path));
    };
    h.exception = [this](const HttpRequest&, HttpResponse& res, std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const ConfigError& c) {
        fail_config(res, c);
      } catch (const Error& err) {
        switch (err.reason()) {
          case Reason::not_found: return fail(res, 404, 404001, err.message());
          case Reason::conflict: return fail(res, 409, 409001, err.message());
          case Reason::precondition_failed: return fail(res, 412, 412001, err.message());
          case Reason::invalid: return fail(res, 400, 400004, err.message());
          default: break;
        }
        if (err.code() == ExitCode::unavailable) return fail(res, 503, 503001, err.message());
        fail(res, 500, 500001, err.message());
      } catch (const std::exception& x) {
        fail(res, 500, 500001, x.what());
      }
    };
    return h;
  }

  void add_routes(HttpServer& s) {
    server_ = &s;
    const std::string id = R"(([^/]+))";
    s.Get("/devices/" + id, guard(k_identity, [this](auto& q, auto& r) { get_device(q, r); }));
    s.Put("/devices/" + id, guard(k_identity, [this](auto& q, auto& r) { put_device(q, r); }));
    s.Delete("/devices/" + id, guard(k_identity, [this](auto& q, auto& r) { delete_device(q, r); }));
    s.Get("/devices", guard(k_identity, [this](auto& q, auto& r) { list_devices(q, r); }));
    s.Post("/devices", guard(nullptr, [this](auto& q, auto& r) { bulk(q, r); }));
    s.Post("/devices/query", guard(k_query, [this](auto& q, auto& r) { query(q, r); }));
    s.Get("/twins/" + id, guard(k_twin, [this](auto& q, auto& r) { get_twin(q, r); }));
    s.Patch("/twins/" + id, guard(k_twin, [this](auto& q, auto& r) { patch_twin(q, r); }));
    s.Put("/twins/" + id, guard(k_twin, [this](auto& q, auto& r) { replace_twin(q, r); }));
    s.Post("/configurations/testQueries", guard(k_config, [this](auto& q, auto& r) { test_queries(q, r); }));
    s.Get("/configurations/" + id, guard(k_config, [this](auto& q, auto& r) { get_configuration(q, r); }));
    s.Put("/configurations/" + id, guard(k_config, [this](auto& q, auto& r) { put_configuration(q, r); }));
    s.Delete("/configurations/" + id, guard(k_config, [this](auto& q, auto& r) { delete_configuration(q, r); }));
    s.Get("/configurations", guard(k_config, [this](auto& q, auto& r) { list_configurations(q, r); }));
    s.Get("/statistics/devices", guard(nullptr, [this](auto& q, auto& r) { device_statistics(q, r); }));
    s.Get("/statistics/service", guard(nullptr, [](auto&, auto& r) { r.set(200, R"({"connectedDeviceCount":0})"); }));
  }

  void set_host(std::string host) { host_ = std::move(host); }
  const std::string& key() const { return key_; }

 private:
  std::string now_text() const { return format_rfc3339(clock_()); }

  void fail(HttpResponse& res, int status, int code, std::string_view message) {
    res.set(status, error_body(code, message, tracking_id(), now_text()));
    if (auto name = error_name(code); !name.empty()) res.set_header("iothub-errorcode", std::string(name));
  }
  // Errors without a known 6-digit code go out in the legacy form, which carries only the name.
  void fail_named(HttpResponse& res, int status, std::string_view name, std::string_view message) {
    res.set(status, legacy_error_body(name, message, tracking_id(), now_text()));
    res.set_header("iothub-errorcode", std::string(name));
  }
  void fail_config(HttpResponse& res, const ConfigError& c) {
    if (c.code != 0) fail(res, c.status, c.code, c.message);
    else fail_named(res, c.status, c.name, c.message);
  }

  // api-version, then the SAS token, then the class's --throttle rate; then the handler.
  RouteHandler guard(const char* op_class, RouteHandler handler) {
    return [this, op_class, handler = std::move(handler)](const HttpRequest& req, HttpResponse& res) {
      auto version = req.param("api-version");
      if (!version || version->empty())
        return fail(res, 400, 400004, "the api-version query parameter is missing (use 2021-04-12)");
      if (!k_api_versions.count(*version))
        return fail(res, 400, 400001, fmt::format("api-version '{}' is not supported; use 2021-04-12", *version));
      auto authorization = req.header("Authorization");
      if (!authorization) return fail(res, 401, 401003, "Authorization header missing");
      auto check = sas::check_token(*authorization, host_, k_policy, key_, sas::system_now_seconds());
      if (check != sas::TokenCheck::valid) return fail(res, 401, 401003, sas::to_string(check));
      if (op_class != nullptr && server_->over_limit(op_class, req, res)) return;
      handler(req, res);
    };
  }

  json parse_body(const HttpRequest& req) {
    auto j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) throw Error::usage("the request body is not JSON");
    return j;
  }

  static std::string if_match(const HttpRequest& req) { return unquote_etag(req.header("If-Match").value_or("")); }

  void send_identity(HttpResponse& res, const Device& d) {
    res.set(200, to_wire_identity(d, format_rfc3339(d.updated)).dump());
    res.set_header("ETag", quote_etag(d.etag));
  }
  void send_twin(HttpResponse& res, const Device& d) {
    res.set(200, to_wire_twin(d).dump());
    res.set_header("ETag", quote_etag(d.twin_etag));
  }

  // ---- identities --------------------------------------------------------------------------

  void get_device(const HttpRequest& req, HttpResponse& res) {
    std::lock_guard lock(mutex_);
    send_identity(res, hub_.get(req.match(1)));
  }

  void put_device(const HttpRequest& req, HttpResponse& res) {
    const std::string& id = req.match(1);
    json body = parse_body(req);
    if (!body.is_object()) throw Error::usage("the body must be a Device object");
    Device spec = from_identity(body);
    if (!spec.id.empty() && spec.id != id)
      throw Error::usage(fmt::format("the body's deviceId '{}' is not the path's '{}'", spec.id, id));
    spec.id = id;
    bool has_auth = body.contains("authentication");
    std::string etag = if_match(req);
    std::lock_guard lock(mutex_);
    if (etag.empty()) {
      if (!has_auth) spec.auth = hub::Auth{};  // IoT Hub's default: SAS with generated keys
      send_identity(res, hub_.create(spec));
      return;
    }
    Device existing = hub_.get(id);
    if (etag != "*" && etag != existing.etag)
      return fail(res, 412, 412001, fmt::format("device '{}' has etag {}, not {}", id, existing.etag, etag));
    Device target = existing;
    target.enabled = spec.enabled;
    if (has_auth) target.auth = spec.auth;
    target.desired = json::object();  // identity only: the twin stays as it is
    auto results = hub_.import(std::span<const Device>(&target, 1), hub::ImportMode::upsert);
    if (results[0].error) throw *results[0].error;
    send_identity(res, *results[0].device);
  }

  void delete_device(const HttpRequest& req, HttpResponse& res) {
    const std::string& id = req.match(1);
    std::string etag = if_match(req);
    std::lock_guard lock(mutex_);
    Device existing = hub_.get(id);
    if (!etag.empty() && etag != "*" && etag != existing.etag)
      return fail(res, 412, 412001, fmt::format("device '{}' has etag {}, not {}", id, existing.etag, etag));
    hub_.remove(id);
    res.set(204, "");
  }

  void list_devices(const HttpRequest& req, HttpResponse& res) {
    std::size_t top = 1000;
    if (auto t = req.param("top")) top = std::clamp<std::size_t>(std::strtoul(t->c_str(), nullptr, 10), 1, 1000);
    std::lock_guard lock(mutex_);
    json out = json::array();
    for (const auto& d : hub_.list(list_options({}, top))) out.push_back(to_wire_identity(d, format_rfc3339(d.updated)));
    res.set(200, out.dump());
  }

  // ---- bulk registry -------------------------------------------------------------------------

  void bulk(const HttpRequest& req, HttpResponse& res) {
    json body = parse_body(req);
    if (!body.is_array()) return fail(res, 400, 400004, "the body must be a JSON array of ExportImportDevice");
    if (body.empty() || body.size() > k_bulk_limit)
      return fail(res, 400, 400004, fmt::format("a bulk registry call takes 1 to 100 devices, not {}", body.size()));
    if (server_->over_limit(k_identity, req, res, static_cast<double>(body.size()))) return;
    std::vector<ImportRequest> items;
    std::set<std::string> ids;
    for (const auto& item : body) {
      items.push_back(from_export_import(item));
      if (!ids.insert(items.back().device.id).second)
        return fail(res, 400, 400011, fmt::format("device '{}' appears more than once", items.back().device.id));
    }
    BulkResult result;
    auto error = [&](const std::string& id, const std::string& name, const std::string& text, const std::string& op) {
      result.errors.push_back({id, name, text, op});
    };
    auto error_for = [&](const std::string& id, const Error& e, const std::string& op) {
      const char* name = "ArgumentInvalid";
      switch (e.reason()) {
        case Reason::not_found: name = "DeviceNotFound"; break;
        case Reason::conflict: name = "DeviceAlreadyExists"; break;
        case Reason::precondition_failed: name = "PreconditionFailed"; break;
        default: break;
      }
      if (e.code() == ExitCode::unavailable) throw e;  // the store itself: the whole call fails (503)
      error(id, name, e.message(), op);
    };

    std::lock_guard lock(mutex_);
    std::vector<Device> creates, upserts;
    std::vector<std::string> create_ops, upsert_ops;
    std::vector<std::string> deletes;
    for (auto& item : items) {
      const std::string& id = item.device.id;
      std::string mode = lower(item.mode);
      if (auto why = hub::invalid_device_id(id)) {
        error(id, "ArgumentInvalid", *why, item.mode);
        continue;
      }
      std::optional<Device> existing;
      try {
        existing = hub_.get(id);
      } catch (const Error& e) {
        if (e.reason() != Reason::not_found) throw;
      }
      bool etag_mode = mode.size() > 11 && mode.substr(mode.size() - 11) == "ifmatchetag";
      if (mode == "create") {
        if (existing) {
          error(id, "DeviceAlreadyExists", fmt::format("A device with ID '{}' is already registered.", id), item.mode);
          continue;
        }
        Device d = item.device;
        if (!item.has_auth) d.auth = hub::Auth{};
        creates.push_back(std::move(d));
        create_ops.push_back(item.mode);
      } else if (mode == "update" || mode == "createorupdate" || mode == "updateifmatchetag" ||
                 mode == "createorupdateifmatchetag") {
        if (etag_mode && existing && item.etag != "*" && item.etag != existing->etag) {
          error(id, "PreconditionFailed", fmt::format("device '{}' has etag {}, not {}", id, existing->etag, item.etag),
                item.mode);
          continue;
        }
        if (mode == "updateifmatchetag" && !existing) {
          error(id, "DeviceNotFound", fmt::format("device '{}' not found", id), item.mode);
          continue;
        }
        Device d = item.device;
        if (!item.has_auth) d.auth = existing ? existing->auth : hub::Auth{};
        if (!item.has_status && existing) d.enabled = existing->enabled;
        d.tags = item.has_tags ? item.device.tags : (existing ? existing->tags : json::object());
        if (!item.has_desired) d.desired = json::object();  // keep the twin's
        upserts.push_back(std::move(d));
        upsert_ops.push_back(item.mode);
      } else if (mode == "updatetwin" || mode == "updatetwinifmatchetag") {
        if (!existing) {
          error(id, "DeviceNotFound", fmt::format("device '{}' not found", id), item.mode);
          continue;
        }
        if (etag_mode && item.twin_etag != "*" && item.twin_etag != existing->twin_etag) {
          error(id, "PreconditionFailed",
                fmt::format("twin '{}' has etag {}, not {}", id, existing->twin_etag, item.twin_etag), item.mode);
          continue;
        }
        Device d = *existing;
        if (item.has_tags) d.tags = item.device.tags;
        d.desired = item.has_desired ? item.device.desired : json::object();
        upserts.push_back(std::move(d));
        upsert_ops.push_back(item.mode);
      } else if (mode == "delete" || mode == "deleteifmatchetag") {
        if (!existing) {
          error(id, "DeviceNotFound", fmt::format("device '{}' not found", id), item.mode);
          continue;
        }
        if (etag_mode && item.etag != "*" && item.etag != existing->etag) {
          error(id, "PreconditionFailed", fmt::format("device '{}' has etag {}, not {}", id, existing->etag, item.etag),
                item.mode);
          continue;
        }
        deletes.push_back(id);
      } else {
        error(id, "ArgumentInvalid", fmt::format("unknown importMode '{}'", item.mode), item.mode);
      }
    }
    // Each group is one transaction in the store: a call is stored whole or not at all.
    if (!creates.empty()) {
      auto results = hub_.import(creates, hub::ImportMode::create);
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].error) error_for(creates[i].id, *results[i].error, create_ops[i]);
      }
    }
    if (!upserts.empty()) {
      auto results = hub_.import(upserts, hub::ImportMode::upsert);
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].error) error_for(upserts[i].id, *results[i].error, upsert_ops[i]);
      }
    }
    for (const auto& id : deletes) {
      try {
        hub_.remove(id);
      } catch (const Error& e) {
        error_for(id, e, "delete");
      }
    }
    result.successful = result.errors.empty();
    res.set(result.successful ? 200 : 400, to_json(result).dump());
  }

  // ---- queries -----------------------------------------------------------------------------

  void query(const HttpRequest& req, HttpResponse& res) {
    json body = parse_body(req);
    if (!body.is_object() || !body.contains("query") || !body["query"].is_string())
      return fail(res, 400, 400004, R"(the body must be {"query": "SELECT * FROM devices ..."})");
    std::string condition;
    std::optional<hub::query::Aggregation> aggregation;
    try {
      aggregation = hub::query::parse_aggregation(body["query"].get<std::string>());
      if (!aggregation) condition = hub::query::Query::parse(body["query"].get<std::string>()).to_string();
    } catch (const Error& e) {
      return fail(res, 400, 400004, e.message());
    }
    std::size_t page = k_default_page;
    if (auto n = req.header("x-ms-max-item-count")) {
      page = std::clamp<std::size_t>(std::strtoul(n->c_str(), nullptr, 10), 1, k_max_page);
    }
    if (aggregation) return aggregate(*aggregation, page, req, res);
    std::string where = condition;
    if (auto token = req.header("x-ms-continuation"); token && !token->empty()) {
      std::string after;
      try {
        after = crypto::base64_decode(*token);
      } catch (const Error&) {
        return fail(res, 400, 400004, "the x-ms-continuation token is not one this hub issued");
      }
      // Pages follow the store's id order, so a page resumes after the last id it returned.
      where = "deviceId > " + quote_literal(after) + (condition.empty() ? "" : " AND (" + condition + ")");
    }
    std::vector<Device> devices;
    {
      std::lock_guard lock(mutex_);
      devices = hub_.list(list_options(where, page + 1));
    }
    if (devices.size() > page) {
      devices.pop_back();
      res.set_header("x-ms-continuation", crypto::base64_encode(devices.back().id));
    }
    json out = json::array();
    for (const auto& d : devices) out.push_back(to_wire_twin(d));
    res.set(200, out.dump());
    res.set_header("x-ms-item-type", "Twin");
  }

  // SELECT ..., COUNT() ... GROUP BY: the groups, as IoT Hub returns them (one JSON object a group
  // with the selected aliases; an undefined value is left out), paged like twins. The token is the
  // offset of the next group: the groups come in the store's order, which a write between two pages
  // may shift (IoT Hub's own query results are not a snapshot either).
  void aggregate(const hub::query::Aggregation& a, std::size_t page, const HttpRequest& req, HttpResponse& res) {
    std::size_t offset = 0;
    if (auto token = req.header("x-ms-continuation"); token && !token->empty()) {
      std::string decoded;
      bool ok = false;
      try {
        decoded = crypto::base64_decode(*token);
        ok = decoded.rfind("groups:", 0) == 0 && decoded.size() > 7;
      } catch (const Error&) {
      }
      char* end = nullptr;
      if (ok) offset = std::strtoul(decoded.c_str() + 7, &end, 10);
      if (!ok || *end != 0) return fail(res, 400, 400004, "the x-ms-continuation token is not one this hub issued");
    }
    std::vector<hub::GroupCount> groups;
    {
      std::lock_guard lock(mutex_);
      groups = hub_.count_by(a.where, a.group_by);
    }
    std::sort(groups.begin(), groups.end(), [](const auto& x, const auto& y) { return x.keys < y.keys; });
    json out = json::array();
    for (std::size_t i = offset; i < groups.size() && i < offset + page; ++i) {
      json row = json::object();
      for (std::size_t k = 0; k < a.group_by.size(); ++k)
        if (groups[i].keys[k]) row[a.aliases[k]] = *groups[i].keys[k];
      row[a.count_alias] = groups[i].count;
      out.push_back(std::move(row));
    }
    if (offset + page < groups.size())
      res.set_header("x-ms-continuation", crypto::base64_encode(fmt::format("groups:{}", offset + page)));
    res.set(200, out.dump());
    res.set_header("x-ms-item-type", "Json");
  }

  // ---- twins -------------------------------------------------------------------------------

  void get_twin(const HttpRequest& req, HttpResponse& res) {
    std::lock_guard lock(mutex_);
    send_twin(res, hub_.get(req.match(1)));
  }

  void patch_twin(const HttpRequest& req, HttpResponse& res) {
    json body = parse_body(req);
    if (!body.is_object()) throw Error::usage("the body must be a Twin object");
    hub::DeviceUpdate u;
    u.id = req.match(1);
    if (auto tags = body.find("tags"); tags != body.end()) {
      if (!tags->is_object()) throw Error::usage("tags must be an object");
      u.tags_patch = *tags;
    }
    if (auto props = body.find("properties"); props != body.end()) {
      if (!props->is_object()) throw Error::usage("properties must be an object");
      if (props->contains("reported")) throw Error::usage("reported properties are written by the device, not the service");
      if (auto desired = props->find("desired"); desired != props->end()) {
        if (!desired->is_object()) throw Error::usage("properties.desired must be an object");
        u.desired_patch = *desired;
        u.desired_patch.erase("$version");
        u.desired_patch.erase("$metadata");
      }
    }
    std::string etag = if_match(req);
    if (etag != "*") u.if_match = etag;
    std::lock_guard lock(mutex_);
    send_twin(res, hub_.update(u));
  }

  void replace_twin(const HttpRequest& req, HttpResponse& res) {
    json body = parse_body(req);
    if (!body.is_object()) throw Error::usage("the body must be a Twin object");
    std::string etag = if_match(req);
    std::lock_guard lock(mutex_);
    Device existing = hub_.get(req.match(1));
    if (!etag.empty() && etag != "*" && etag != existing.twin_etag)
      return fail(res, 412, 412001, fmt::format("twin '{}' has etag {}, not {}", existing.id, existing.twin_etag, etag));
    hub::DeviceUpdate u;
    u.id = existing.id;
    u.tags_patch = replacement_patch(existing.tags, body.value("tags", json::object()));
    json desired = body.value("properties", json::object()).value("desired", json::object());
    desired.erase("$version");
    desired.erase("$metadata");
    u.desired_patch = replacement_patch(existing.desired, desired);
    send_twin(res, hub_.update(u));
  }

  // ---- configurations ----------------------------------------------------------------------

  static json configuration_json(const Configuration& c) {
    json j = c.to_json();
    j["createdTimeUtc"] = c.created_time;
    j["lastUpdatedTimeUtc"] = c.last_updated_time;
    j["metrics"]["results"] = c.metric_results;
    j["systemMetrics"] = {{"queries", c.system_metric_queries}, {"results", c.system_metric_results}};
    j["contentType"] = "assignment";
    return j;
  }

  void respond_configurations(HttpResponse& res, std::vector<Configuration> configs, bool one) {
    configs_.apply_and_measure(hub_, configs);
    if (one) {
      res.set(200, configuration_json(configs.front()).dump());
      res.set_header("ETag", quote_etag(configs.front().etag));
      return;
    }
    json out = json::array();
    for (const auto& c : configs) out.push_back(configuration_json(c));
    res.set(200, out.dump());
  }

  void put_configuration(const HttpRequest& req, HttpResponse& res) {
    json body = parse_body(req);
    std::lock_guard lock(mutex_);
    auto stored = configs_.put(req.match(1), body, if_match(req), clock_());
    respond_configurations(res, {stored}, true);
  }

  void get_configuration(const HttpRequest& req, HttpResponse& res) {
    std::lock_guard lock(mutex_);
    auto c = configs_.get(req.match(1));
    if (!c) return fail_named(res, 404, "ConfigurationNotFound", fmt::format("configuration '{}' not found", req.match(1)));
    respond_configurations(res, {*c}, true);
  }

  void list_configurations(const HttpRequest& req, HttpResponse& res) {
    std::size_t top = 0;
    if (auto t = req.param("top")) top = std::strtoul(t->c_str(), nullptr, 10);
    std::lock_guard lock(mutex_);
    respond_configurations(res, configs_.list(top), false);
  }

  void delete_configuration(const HttpRequest& req, HttpResponse& res) {
    std::lock_guard lock(mutex_);
    configs_.remove(req.match(1), if_match(req));
    res.set(204, "");
  }

  void test_queries(const HttpRequest& req, HttpResponse& res) {
    json body = parse_body(req);
    if (!body.is_object()) throw Error::usage("the body must be {targetCondition, customMetricQueries}");
    json errors = json::object();
    if (auto m = body.find("customMetricQueries"); m != body.end() && m->is_object()) {
      for (auto it = m->begin(); it != m->end(); ++it) {
        std::string error;
        if (!it->is_string()) error = "a metric query must be a string";
        else metric_condition(it->get<std::string>(), error);
        errors[it.key()] = error;
      }
    }
    res.set(200, json{{"targetConditionError", target_condition_error(body.value("targetCondition", ""))},
                      {"customMetricQueryErrors", errors}}
                     .dump());
  }

  void device_statistics(const HttpRequest&, HttpResponse& res) {
    std::lock_guard lock(mutex_);
    auto devices = hub_.list({});
    auto enabled = std::count_if(devices.begin(), devices.end(), [](const Device& d) { return d.enabled; });
    res.set(200, json{{"totalDeviceCount", devices.size()},
                      {"enabledDeviceCount", enabled},
                      {"disabledDeviceCount", static_cast<std::int64_t>(devices.size()) - enabled}}
                     .dump());
  }

  const ServeOptions& options_;
  Clock clock_;
  std::mutex mutex_;  // one store connection: requests take turns (a bulk call is one transaction)
  hub::local::LocalHub hub_;
  azure::ConfigurationStore configs_;
  std::string key_;
  std::string host_;
  HttpServer* server_ = nullptr;
};

}  // namespace

int serve_azure(const ServeOptions& options, Clock clock, LogSink log, std::atomic<bool>& stop_flag) {
  if (options.hub_path.empty()) throw Error::usage("hub serve --api azure needs a local hub file");
  AzureEmulator emulator(options, clock);
  Governor governor(options.throttle, options.faults, options.seed);
  HttpServer server(options, log, governor, emulator.hooks());
  emulator.add_routes(server);
  server.bind();
  std::string base = server.base_url();
  std::string host = base.substr(base.find("://") + 3);
  emulator.set_host(host);
  if (!options.credentials_out.empty()) {
    fs::write_atomic(options.credentials_out,
                     fmt::format("HostName={};SharedAccessKeyName={};SharedAccessKey={}\n", host, k_policy, emulator.key()),
                     fs::Mode::secret);
  }
  if (log) {
    log(fmt::format("aiot hub serve: IoT Hub service API (api-version {}) at {} over local:{}", k_api_version, base,
                    options.hub_path.string()));
    log(fmt::format("  connect with AIOT_AZURE_ENDPOINT={} and IOTHUB_CONNECTION_STRING={}", base,
                    options.credentials_out.empty() ? std::string("HostName=" + host + ";SharedAccessKeyName=iothubowner;"
                                                                  "SharedAccessKey=<in " + options.hub_path.string() +
                                                                  ".azure-key>")
                                                    : "$(cat " + options.credentials_out.string() + ")"));
  }
  return server.run(stop_flag);
}

}  // namespace aiot::emulator
