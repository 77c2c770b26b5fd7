#include "aiot/emulator/azure_configurations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/sqlite.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/azure/azure_wire.hpp"
#include "aiot/hub/query.hpp"

namespace aiot::emulator::azure {

using nlohmann::json;

namespace {

constexpr const char* k_desired_prefix = "properties.desired.";

std::string etag_for(std::int64_t version) { return crypto::base64_encode(fmt::format("cfg-{}", version)); }

std::optional<std::string> invalid_configuration_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return "a configuration id has 1 to 128 characters";
  static const char* k_allowed = "-+%_*!'";
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || std::strchr(k_allowed, c)) continue;
    return fmt::format("configuration id '{}' may hold lower-case letters, digits and - + % _ * ! ' only", id);
  }
  return std::nullopt;
}

// "properties.desired.aiot.model" -> {"aiot", "model"}.
std::vector<std::string> desired_path(const std::string& key) {
  return str::split(std::string_view(key).substr(std::strlen(k_desired_prefix)), '.');
}

const json* find_path(const json& root, const std::vector<std::string>& path) {
  const json* at = &root;
  for (const auto& p : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(p);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

// The desired value at `path` already holds `value` (objects: every key of value, recursively).
bool holds(const json* current, const json& value) {
  if (current == nullptr) return false;
  json merged = *current;
  merged.merge_patch(value);
  return merged == *current;
}

json nest(const std::vector<std::string>& path, const json& value) {
  json out = value;
  for (auto it = path.rbegin(); it != path.rend(); ++it) out = json{{*it, std::move(out)}};
  return out;
}

bool targets(const Configuration& c, const hub::query::Query* q, const json& twin) {
  if (c.target_condition == "*") return true;
  if (c.target_condition.empty() || q == nullptr) return false;
  return q->matches(twin);
}

}  // namespace

std::optional<std::string> metric_condition(const std::string& metric_query, std::string& error) {
  static const std::regex select_re(R"(^\s*SELECT\s+.+?\s+FROM\s+devices\b)", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(metric_query, m, select_re)) {
    error = "a metric query must read 'SELECT deviceId FROM devices [WHERE ...]'";
    return std::nullopt;
  }
  std::string rewritten = "SELECT * FROM devices" + m.suffix().str();
  try {
    return hub::query::Query::parse(rewritten).to_string();
  } catch (const Error& e) {
    error = e.message();
    return std::nullopt;
  }
}

std::string target_condition_error(const std::string& target) {
  if (target.empty() || target == "*") return "";
  try {
    hub::query::Query::parse(target);
    return "";
  } catch (const Error& e) {
    return e.message();
  }
}

namespace {

// The store's errors, worded as before the shared wrapper: a failed statement or transaction is
// `unavailable` (the emulator answers 503), a statement that does not prepare a failure.
Error store_error(const std::filesystem::path& hub_file, const sqlite::Failure& f) {
  switch (f.op) {
    case sqlite::Op::open:
      return Error::failure(fmt::format("cannot open {} for the emulator's configurations", hub_file.string()));
    case sqlite::Op::exec:
    case sqlite::Op::step: return Error::unavailable("emulator configuration store: " + f.message);
    case sqlite::Op::prepare:
    case sqlite::Op::bind: break;
  }
  return Error::failure("emulator configuration store: " + f.message);
}

}  // namespace

struct ConfigurationStore::Db : sqlite::Database {
  using sqlite::Database::Database;
};

ConfigurationStore::ConfigurationStore(const std::filesystem::path& hub_file)
    : db_(std::make_unique<Db>(hub_file, sqlite::Database::Options{.create = true,
                                                                   .busy_timeout_ms = 10'000,
                                                                   .on_error = [hub_file](const sqlite::Failure& f) {
                                                                     return store_error(hub_file, f);
                                                                   }})) {
  db_->exec(
      "CREATE TABLE IF NOT EXISTS azure_configurations ("
      "  id TEXT PRIMARY KEY,"
      "  body TEXT NOT NULL,"     // the Configuration as JSON (read-only metric results left out)
      "  version INTEGER NOT NULL"
      ") WITHOUT ROWID");
}

ConfigurationStore::~ConfigurationStore() = default;

std::optional<Configuration> ConfigurationStore::get(const std::string& id) {
  auto s = db_->prepare("SELECT body FROM azure_configurations WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return Configuration::from_json(json::parse(s.view(0)));
}

std::vector<Configuration> ConfigurationStore::list(std::size_t top) {
  auto s = db_->prepare("SELECT body FROM azure_configurations ORDER BY id");
  std::vector<Configuration> out;
  while (s.step() && (top == 0 || out.size() < top)) out.push_back(Configuration::from_json(json::parse(s.view(0))));
  return out;
}

Configuration ConfigurationStore::put(const std::string& id, const json& body, const std::string& if_match, TimePoint now) {
  if (auto why = invalid_configuration_id(id)) throw ConfigError{400, 400004, "ArgumentInvalid", *why};
  if (!body.is_object()) throw ConfigError{400, 400004, "ArgumentInvalid", "the body must be a Configuration object"};
  Configuration wanted = Configuration::from_json(body);
  if (!wanted.id.empty() && wanted.id != id)
    throw ConfigError{400, 400004, "ArgumentInvalid", fmt::format("the body's id '{}' is not the path's '{}'", wanted.id, id)};
  wanted.id = id;
  int kinds = 0;
  for (const char* k : {"deviceContent", "moduleContent", "modulesContent"}) kinds += wanted.content.contains(k) ? 1 : 0;
  if (kinds != 1)
    throw ConfigError{400, 400004, "ArgumentInvalid",
                      "content must hold exactly one of deviceContent, moduleContent or modulesContent"};
  if (auto dc = wanted.content.find("deviceContent"); dc != wanted.content.end()) {
    if (!dc->is_object() || dc->empty())
      throw ConfigError{400, 400004, "ArgumentInvalid", "deviceContent must be a non-empty object"};
    for (auto it = dc->begin(); it != dc->end(); ++it) {
      if (it.key().rfind(k_desired_prefix, 0) != 0 || it.key().size() == std::strlen(k_desired_prefix))
        throw ConfigError{400, 400004, "ArgumentInvalid",
                          fmt::format("deviceContent key '{}' must be a path under properties.desired.", it.key())};
    }
  }
  if (auto error = target_condition_error(wanted.target_condition); !error.empty())
    throw ConfigError{400, 400401, "InvalidConfigurationTargetCondition", error};
  if (wanted.metric_queries.size() > 5)
    throw ConfigError{400, 400004, "ArgumentInvalid", "a configuration has at most 5 custom metrics"};
  for (const auto& [name, q] : wanted.metric_queries) {
    std::string error;
    if (!metric_condition(q, error))
      throw ConfigError{400, 400404, "InvalidConfigurationCustomMetricsQuery", fmt::format("metric '{}': {}", name, error)};
  }

  sqlite::WriteTransaction txn(*db_);
  auto existing = get(id);
  std::int64_t version = 1;
  std::string now_text = format_rfc3339(now);
  Configuration stored = wanted;
  if (if_match.empty()) {
    if (existing)
      throw ConfigError{409, 0, "ConfigurationAlreadyExists",
                        fmt::format("configuration '{}' already exists; update it with If-Match", id)};
    stored.created_time = now_text;
  } else {
    if (!existing) throw ConfigError{404, 0, "ConfigurationNotFound", fmt::format("configuration '{}' not found", id)};
    if (if_match != "*" && if_match != existing->etag)
      throw ConfigError{412, 412001, "PreconditionFailed",
                        fmt::format("configuration '{}' has etag {}, not {}", id, existing->etag, if_match)};
    if (existing->content != wanted.content)
      throw ConfigError{400, 400403, "CannotModifyImmutableConfigurationContent",
                        fmt::format("the content of configuration '{}' cannot be changed", id)};
    auto v = db_->prepare("SELECT version FROM azure_configurations WHERE id = ?");
    v.bind(1, id);
    v.step();
    version = v.integer(0) + 1;
    stored.created_time = existing->created_time;
  }
  stored.last_updated_time = now_text;
  stored.etag = etag_for(version);
  stored.metric_results.clear();
  stored.system_metric_results.clear();
  json row = stored.to_json();
  row["createdTimeUtc"] = stored.created_time;
  row["lastUpdatedTimeUtc"] = stored.last_updated_time;
  auto w = db_->prepare("INSERT OR REPLACE INTO azure_configurations (id, body, version) VALUES (?, ?, ?)");
  w.bind(1, id).bind(2, row.dump()).bind(3, version);
  w.step();
  txn.commit();
  return stored;
}

void ConfigurationStore::remove(const std::string& id, const std::string& if_match) {
  auto existing = get(id);
  if (!existing) throw ConfigError{404, 0, "ConfigurationNotFound", fmt::format("configuration '{}' not found", id)};
  if (!if_match.empty() && if_match != "*" && if_match != existing->etag)
    throw ConfigError{412, 412001, "PreconditionFailed",
                      fmt::format("configuration '{}' has etag {}, not {}", id, existing->etag, if_match)};
  auto s = db_->prepare("DELETE FROM azure_configurations WHERE id = ?");
  s.bind(1, id);
  s.step();
}

void ConfigurationStore::apply_and_measure(hub::local::LocalHub& hub, std::vector<Configuration>& configs) {
  auto all = list(0);
  auto devices = hub.list({});
  std::vector<json> twins;
  twins.reserve(devices.size());
  for (const auto& d : devices) twins.push_back(hub::to_twin_json(d));

  std::vector<std::unique_ptr<hub::query::Query>> targets_of(all.size());
  for (std::size_t c = 0; c < all.size(); ++c) {
    if (!all[c].target_condition.empty() && all[c].target_condition != "*")
      targets_of[c] = std::make_unique<hub::query::Query>(hub::query::Query::parse(all[c].target_condition));
  }
  // Winner per (device, property path): highest priority, then the newest, then the larger id.
  auto better = [&](std::size_t a, std::size_t b) {
    if (all[a].priority != all[b].priority) return all[a].priority > all[b].priority;
    if (all[a].created_time != all[b].created_time) return all[a].created_time > all[b].created_time;
    return all[a].id > all[b].id;
  };
  std::map<std::string, std::size_t> targeted, applied;  // config id -> count
  std::vector<hub::DeviceUpdate> updates;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    std::map<std::string, std::size_t> winner;  // content key -> config index
    std::vector<std::size_t> mine;
    for (std::size_t c = 0; c < all.size(); ++c) {
      auto dc = all[c].content.find("deviceContent");
      if (dc == all[c].content.end() || !targets(all[c], targets_of[c].get(), twins[i])) continue;
      ++targeted[all[c].id];
      mine.push_back(c);
      for (auto it = dc->begin(); it != dc->end(); ++it) {
        auto w = winner.find(it.key());
        if (w == winner.end() || better(c, w->second)) winner[it.key()] = c;
      }
    }
    json patch = json::object();
    for (const auto& [key, c] : winner) {
      const json& value = all[c].content["deviceContent"][key];
      auto path = desired_path(key);
      if (!holds(find_path(devices[i].desired, path), value)) patch.merge_patch(nest(path, value));
    }
    json desired_after = devices[i].desired;
    if (!patch.empty()) {
      desired_after.merge_patch(patch);
      twins[i]["properties"]["desired"].merge_patch(patch);  // metrics read the twins after evaluation
      hub::DeviceUpdate u;
      u.id = devices[i].id;
      u.desired_patch = patch;
      updates.push_back(std::move(u));
    }
    for (std::size_t c : mine) {
      bool all_won = true;
      for (auto it = all[c].content["deviceContent"].begin(); it != all[c].content["deviceContent"].end(); ++it) {
        all_won = all_won && winner[it.key()] == c && holds(find_path(desired_after, desired_path(it.key())), *it);
      }
      if (all_won) ++applied[all[c].id];
    }
  }
  if (!updates.empty()) hub.update_many(updates);

  for (auto& c : configs) {
    c.system_metric_queries = {
        {"targetedCount", fmt::format("select deviceId from devices where {}", c.target_condition.empty() ? "false" : c.target_condition)},
        {"appliedCount", fmt::format("select deviceId from devices where configurations.[[{}]].status = 'Applied'", c.id)}};
    c.system_metric_results = {{"targetedCount", static_cast<std::int64_t>(targeted[c.id])},
                               {"appliedCount", static_cast<std::int64_t>(applied[c.id])}};
    c.metric_results.clear();
    for (const auto& [name, q] : c.metric_queries) {
      std::string error;
      auto condition = metric_condition(q, error);
      if (!condition) continue;
      auto query = hub::query::Query::parse(*condition);
      std::int64_t n = 0;
      for (const auto& twin : twins) n += query.matches(twin) ? 1 : 0;
      c.metric_results[name] = n;
    }
  }
}

}  // namespace aiot::emulator::azure
