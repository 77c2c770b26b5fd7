// The Azure IoT Hub provider: hub::Registry over the service REST API (azure_client.hpp).
#include "aiot/hub/azure/azure_hub.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "aiot/core/crypto.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/azure/azure_client.hpp"
#include "aiot/hub/azure/azure_wire.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/hub/query.hpp"

namespace aiot::hub::azure {

namespace {

std::string random_key() { return crypto::base64_encode(crypto::random_bytes(32)); }

// Identity and twin answers into one Device: the identity's status and keys win (the twin may
// have been read before a status change).
Device merge(const json& identity, const json& twin) {
  Device d = from_identity(identity);
  bool enabled = d.enabled;
  apply_twin(d, twin);
  d.enabled = enabled;
  return d;
}

// Splits [0, n) into ceil(n/100) ranges of near-equal size, so each bulk call costs about the same.
std::vector<std::pair<std::size_t, std::size_t>> chunks_of(std::size_t n) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (n == 0) return out;
  std::size_t count = (n + k_bulk_limit - 1) / k_bulk_limit;
  std::size_t base = n / count, extra = n % count, start = 0;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t size = base + (i < extra ? 1 : 0);
    out.emplace_back(start, start + size);
    start += size;
  }
  return out;
}

bool identity_differs(const Device& existing, const Auth& wanted_auth, bool wanted_enabled) {
  const Auth& a = existing.auth;
  return existing.enabled != wanted_enabled || a.type != wanted_auth.type ||
         (!wanted_auth.primary_key.empty() && wanted_auth.primary_key != a.primary_key) ||
         (!wanted_auth.secondary_key.empty() && wanted_auth.secondary_key != a.secondary_key) ||
         (!wanted_auth.primary.empty() && wanted_auth.primary != a.primary) ||
         (!wanted_auth.secondary.empty() && wanted_auth.secondary != a.secondary);
}

class AzureHub final : public Hub, public Registry {
 public:
  explicit AzureHub(std::unique_ptr<AzureClient> client) : client_(std::move(client)) {}

  Registry& registry() override { return *this; }
  std::string describe() const override { return "azure:" + client_->host_name(); }
  AzureClient& client() { return *client_; }

  Device create(const Device& spec) override {
    if (auto why = invalid_device_id(spec.id)) throw Error::usage(*why);
    json identity;
    try {
      identity = client_->put_device(to_identity(spec));
    } catch (const Error& e) {
      if (e.reason() == Reason::conflict)
        throw Error::conflict(e.message(), "Change it with 'aiot device update', or re-run an import with --update.");
      throw;
    }
    json twin;
    if (!spec.tags.empty() || !spec.desired.empty()) {
      json patch = json::object();
      if (!spec.tags.empty()) patch["tags"] = spec.tags;
      if (!spec.desired.empty()) patch["properties"] = {{"desired", spec.desired}};
      twin = client_->patch_twin(spec.id, patch, "*");
    } else {
      twin = client_->get_twin(spec.id);
    }
    return merge(identity, twin);
  }

  Device get(std::string_view id) override {
    auto identity = client_->get_device(id);
    return merge(identity, client_->get_twin(id));
  }

  std::vector<Device> list(const ListOptions& options) override {
    auto twins = client_->query_all(device_query_text(options.where), options.limit);
    std::vector<Device> out;
    out.reserve(twins.size());
    for (const auto& t : twins) out.push_back(from_twin(t));
    return out;
  }

  bool prefers_counts() const override { return true; }

  // One aggregation query (SELECT ..., COUNT() ... GROUP BY); its rows page like twins, 1,000 groups a page.
  std::vector<GroupCount> count_by(const std::string& where, const std::vector<std::string>& paths) override {
    query::Aggregation a;
    a.where = query::Query::parse(where).to_string();
    for (std::size_t i = 0; i < paths.size(); ++i) {
      a.group_by.push_back(query::PropertyPath::parse(paths[i]).to_string());
      a.aliases.push_back(fmt::format("k{}", i));
    }
    a.count_alias = "n";
    std::vector<GroupCount> out;
    for (const auto& row : client_->query_all(a.to_string())) {
      GroupCount g;
      for (const auto& alias : a.aliases) {
        auto it = row.find(alias);
        g.keys.push_back(it == row.end() ? std::nullopt : std::optional<json>(*it));
      }
      auto n = row.find(a.count_alias);
      if (n == row.end() || !n->is_number_integer())
        throw Error::unavailable(fmt::format("the hub answered an aggregation row without a count: {}", row.dump()));
      g.count = n->get<std::int64_t>();
      out.push_back(std::move(g));
    }
    return out;
  }

  Device update(const DeviceUpdate& u) override {
    std::optional<json> twin;
    if (!u.tags_patch.empty() || !u.desired_patch.empty()) {
      json patch = json::object();
      if (!u.tags_patch.empty()) patch["tags"] = u.tags_patch;
      if (!u.desired_patch.empty()) patch["properties"] = {{"desired", u.desired_patch}};
      twin = client_->patch_twin(u.id, patch, u.if_match);
    } else if (!u.if_match.empty() && u.if_match != "*") {
      twin = client_->get_twin(u.id);
      auto now = unquote_etag(twin->value("etag", ""));
      if (now != unquote_etag(u.if_match))
        throw Error::precondition(fmt::format("device '{}' changed since etag {} (now {})", u.id, u.if_match, now),
                                  "Read it again with 'aiot device show' and retry.");
    }
    json identity = client_->get_device(u.id);
    if (u.enabled && (identity.value("status", "enabled") != "disabled") != *u.enabled) {
      identity["status"] = *u.enabled ? "enabled" : "disabled";
      std::string etag = unquote_etag(identity.value("etag", ""));
      identity = client_->put_device(identity, etag.empty() ? "*" : etag);
    }
    if (!twin) twin = client_->get_twin(u.id);
    return merge(identity, *twin);
  }

  void remove(std::string_view id, std::string_view if_match) override {
    std::string etag = unquote_etag(if_match);
    if (!etag.empty() && etag != "*") {
      // `device show` prints the twin's etag; IoT Hub's DELETE wants the identity's. Accept both.
      auto twin = client_->get_twin(id);
      if (unquote_etag(twin.value("etag", "")) == etag) {
        etag = unquote_etag(twin.value("deviceEtag", ""));
        if (etag.empty()) etag = "*";
      }
    }
    client_->delete_device(id, etag.empty() ? "*" : etag);
  }

  std::vector<ImportResult> import(std::span<const Device> devices, ImportMode mode) override;

  // Twin-only updates go out as concurrent PATCHes; a status change needs the identity's
  // GET + PUT, so those take the one-by-one path.
  std::vector<ImportResult> update_many(std::span<const DeviceUpdate> updates) override {
    std::vector<ImportResult> results(updates.size());
    std::vector<AzureClient::TwinPatch> patches;
    std::vector<std::size_t> patched;
    for (std::size_t i = 0; i < updates.size(); ++i) {
      const auto& u = updates[i];
      bool twin_only = !u.enabled && (!u.tags_patch.empty() || !u.desired_patch.empty());
      if (!twin_only) {
        try {
          results[i].device = update(u);
          results[i].outcome = RowOutcome::updated;
        } catch (const Error& e) {
          if (e.code() == ExitCode::unavailable || e.code() == ExitCode::auth) throw;
          results[i].error = e;
        }
        continue;
      }
      json patch = json::object();
      if (!u.tags_patch.empty()) patch["tags"] = u.tags_patch;
      if (!u.desired_patch.empty()) patch["properties"] = {{"desired", u.desired_patch}};
      patches.push_back({u.id, std::move(patch), u.if_match});
      patched.push_back(i);
    }
    auto answers = client_->patch_twins(patches);
    for (std::size_t k = 0; k < patched.size(); ++k) {
      auto& r = results[patched[k]];
      if (answers[k].twin) {
        r.device = from_twin(*answers[k].twin);
        r.outcome = RowOutcome::updated;
      } else {
        r.error = answers[k].error;
      }
    }
    return results;
  }

 private:
  struct Row {
    std::size_t index;  // into the caller's span
    Device wire;        // what is sent: the spec with generated SAS keys
    bool generated_keys = false;
  };
  void import_round(std::span<const Device> devices, std::vector<Row>& rows, ImportMode mode,
                    std::vector<ImportResult>& results);
  // Sends one importMode for `rows` in bulk calls; returns, per row, the error (if any).
  // `uncertain` (when given) is set per row whose call had an attempt without a definite answer,
  // so the hub may have applied it before the answer that came back.
  std::vector<std::optional<BulkItem>> send_bulk(const std::vector<const Device*>& devices, std::string_view import_mode,
                                                 std::vector<std::optional<Error>>& batch_errors,
                                                 std::vector<bool>* uncertain = nullptr);

  std::unique_ptr<AzureClient> client_;
};

std::vector<std::optional<BulkItem>> AzureHub::send_bulk(const std::vector<const Device*>& devices,
                                                         std::string_view import_mode,
                                                         std::vector<std::optional<Error>>& batch_errors,
                                                         std::vector<bool>* uncertain) {
  std::vector<std::optional<BulkItem>> per_row(devices.size());
  batch_errors.assign(devices.size(), std::nullopt);
  auto ranges = chunks_of(devices.size());
  if (ranges.empty()) return per_row;
  std::vector<json> bodies;
  double cost = 0;
  for (auto [begin, end] : ranges) {
    json body = json::array();
    for (std::size_t i = begin; i < end; ++i) body.push_back(to_export_import(*devices[i], import_mode));
    bodies.push_back(std::move(body));
    cost = std::max(cost, static_cast<double>(end - begin));
  }
  auto answers = client_->bulk(bodies, cost);
  if (uncertain) uncertain->assign(devices.size(), false);
  for (std::size_t c = 0; c < ranges.size(); ++c) {
    auto [begin, end] = ranges[c];
    const auto& answer = answers[c].response;
    if (uncertain && answers[c].maybe_applied_before) {
      for (std::size_t i = begin; i < end; ++i) (*uncertain)[i] = true;
    }
    auto result = (answer.status == 200 || answer.status == 400) ? parse_bulk_result(answer.body) : std::nullopt;
    if (answer.status == 200 && !result) result = BulkResult{};  // an empty 200 is a success
    if (!result) {
      // The whole call failed: every row of it carries that error, unless it means stop.
      Error e = to_error(answer, fmt::format("bulk {} of {} devices", import_mode, end - begin));
      if (e.code() == ExitCode::auth || e.code() == ExitCode::unavailable) throw e;
      for (std::size_t i = begin; i < end; ++i) batch_errors[i] = e;
      continue;
    }
    std::map<std::string, const BulkItem*> by_id;
    for (const auto& item : result->errors) by_id[item.device_id] = &item;
    if (!result->successful && result->errors.empty()) {
      Error e = to_error(answer, fmt::format("bulk {} of {} devices", import_mode, end - begin));
      for (std::size_t i = begin; i < end; ++i) batch_errors[i] = e;
      continue;
    }
    for (std::size_t i = begin; i < end; ++i) {
      if (auto it = by_id.find(devices[i]->id); it != by_id.end()) per_row[i] = *it->second;
    }
  }
  return per_row;
}

std::vector<ImportResult> AzureHub::import(std::span<const Device> devices, ImportMode mode) {
  std::vector<ImportResult> results(devices.size());
  // An id may appear twice in one file; the hub refuses that inside one bulk call, so the k-th
  // occurrence of each id goes in round k and meets the earlier one like a re-run would.
  std::map<std::string, std::size_t> seen;
  std::vector<std::vector<Row>> rounds;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const Device& spec = devices[i];
    if (auto why = invalid_device_id(spec.id)) {
      results[i].outcome = RowOutcome::failed;
      results[i].error = Error::usage(*why);
      continue;
    }
    Row row{i, spec, false};
    if (row.wire.auth.type == AuthType::sas) {
      // Keys made here rather than by the hub: a bulk answer carries no keys, and a retried call
      // that already went through is recognised by them.
      if (row.wire.auth.primary_key.empty()) {
        row.wire.auth.primary_key = random_key();
        row.generated_keys = true;
      }
      if (row.wire.auth.secondary_key.empty()) {
        row.wire.auth.secondary_key = random_key();
        row.generated_keys = true;
      }
    }
    std::size_t round = seen[spec.id]++;
    if (rounds.size() <= round) rounds.resize(round + 1);
    rounds[round].push_back(std::move(row));
  }
  for (auto& rows : rounds) import_round(devices, rows, mode, results);
  return results;
}

void AzureHub::import_round(std::span<const Device> devices, std::vector<Row>& rows, ImportMode mode,
                            std::vector<ImportResult>& results) {
  // 1. Create everything in bulk.
  std::vector<const Device*> wire;
  wire.reserve(rows.size());
  for (const auto& r : rows) wire.push_back(&r.wire);
  std::vector<std::optional<Error>> batch_errors;
  std::vector<bool> uncertain;
  auto created = send_bulk(wire, "create", batch_errors, &uncertain);

  std::vector<std::size_t> existing;  // positions in rows
  for (std::size_t k = 0; k < rows.size(); ++k) {
    auto& result = results[rows[k].index];
    if (batch_errors[k]) {
      result.outcome = RowOutcome::failed;
      result.error = batch_errors[k];
    } else if (!created[k]) {
      result.outcome = RowOutcome::created;
      result.device = rows[k].wire;
    } else if (is_already_exists(*created[k])) {
      existing.push_back(k);
    } else {
      result.outcome = RowOutcome::failed;
      result.error = bulk_item_error(*created[k], fmt::format("create device '{}'", rows[k].wire.id));
    }
  }
  if (existing.empty()) return;

  // 2. Read what the hub has for the ids that exist: twins for all; identities where keys matter:
  // keys the file gives, or keys made here when an earlier attempt may have gone through unseen.
  std::vector<std::string> twin_ids, identity_ids;
  std::vector<std::size_t> identity_of(rows.size(), SIZE_MAX);
  for (std::size_t k : existing) {
    twin_ids.push_back(rows[k].wire.id);
    const Device& spec = devices[rows[k].index];
    bool keys_matter = (rows[k].generated_keys && uncertain[k]) || !spec.auth.primary_key.empty() ||
                       !spec.auth.secondary_key.empty();
    if (keys_matter) {
      identity_of[k] = identity_ids.size();
      identity_ids.push_back(rows[k].wire.id);
    }
  }
  auto twins = client_->find_twins(twin_ids);
  auto identities = client_->get_devices(identity_ids);

  std::vector<std::size_t> to_update_identity, to_update_twin;
  std::vector<Device> targets(rows.size());
  for (std::size_t e = 0; e < existing.size(); ++e) {
    std::size_t k = existing[e];
    const Row& row = rows[k];
    const Device& spec = devices[row.index];
    auto& result = results[row.index];
    const auto& twin = twins[e];
    const std::optional<json>* identity = identity_of[k] == SIZE_MAX ? nullptr : &identities[identity_of[k]];
    if (!twin || (identity && !*identity)) {
      result.outcome = RowOutcome::failed;
      result.error = Error::failure(fmt::format("device '{}' was deleted while being imported", spec.id),
                                    "Run the import again.");
      continue;
    }
    Device have = identity ? merge(**identity, *twin) : from_twin(*twin);
    if (identity && row.generated_keys && have.auth.type == AuthType::sas && have.auth.primary_key == row.wire.auth.primary_key &&
        have.auth.secondary_key == row.wire.auth.secondary_key) {
      // Our own earlier attempt of this call went through before its answer was lost.
      result.outcome = RowOutcome::created;
      result.device = std::move(have);
      continue;
    }
    Device wanted = spec;
    wanted.auth = wire_view(spec.auth);
    if (same_content(have, wanted)) {
      result.outcome = RowOutcome::unchanged;
      result.device = std::move(have);
      continue;
    }
    if (mode == ImportMode::create) {
      result.outcome = RowOutcome::failed;
      result.error = Error::conflict(fmt::format("device '{}' already exists with other content", spec.id),
                                     "Re-run with --update to replace it.");
      continue;
    }
    // Upsert: the identity is replaced where the spec says something, the twin's tags replaced
    // and its desired properties replaced when the spec has any (as the local hub does).
    Device target = have;
    if (identity_differs(have, wanted.auth, spec.enabled)) {
      if (have.auth.type != spec.auth.type) {
        target.auth = row.wire.auth;  // a new type: the spec's auth with any keys generated above
      } else {
        if (!spec.auth.primary_key.empty()) target.auth.primary_key = spec.auth.primary_key;
        if (!spec.auth.secondary_key.empty()) target.auth.secondary_key = spec.auth.secondary_key;
        if (!spec.auth.primary.empty()) target.auth.primary = spec.auth.primary;
        if (!spec.auth.secondary.empty()) target.auth.secondary = spec.auth.secondary;
        if (target.auth.type == AuthType::sas && target.auth.primary_key.empty()) {
          // Known only by the hub: keep its keys by sending them back.
          auto fetched = client_->get_device(spec.id);
          target.auth = from_identity(fetched).auth;
        }
      }
      target.enabled = spec.enabled;
      to_update_identity.push_back(k);
    }
    bool twin_differs = have.tags != spec.tags || (!spec.desired.empty() && have.desired != spec.desired);
    if (twin_differs) {
      target.tags = spec.tags;
      if (!spec.desired.empty()) target.desired = spec.desired;
      to_update_twin.push_back(k);
    }
    targets[k] = std::move(target);
    result.outcome = RowOutcome::updated;
    result.device = targets[k];
  }

  // 3. Upsert in two bulk passes: identities ("update") and twins ("updateTwin").
  auto run_pass = [&](const std::vector<std::size_t>& which, std::string_view import_mode, bool twin_part) {
    if (which.empty()) return;
    std::vector<Device> bodies;
    bodies.reserve(which.size());
    for (std::size_t k : which) {
      Device d = targets[k];
      if (!twin_part) {
        d.tags = json::object();  // identity only: the twin goes in its own pass
        d.desired = json::object();
      } else if (devices[rows[k].index].desired.empty()) {
        d.desired = json::object();  // leave the twin's desired properties alone
      }
      bodies.push_back(std::move(d));
    }
    std::vector<const Device*> ptrs;
    for (const auto& d : bodies) ptrs.push_back(&d);
    std::vector<std::optional<Error>> errors;
    auto items = send_bulk(ptrs, import_mode, errors);
    for (std::size_t j = 0; j < which.size(); ++j) {
      auto& result = results[rows[which[j]].index];
      if (result.outcome == RowOutcome::failed) continue;
      if (errors[j]) {
        result.outcome = RowOutcome::failed;
        result.error = errors[j];
        result.device.reset();
      } else if (items[j]) {
        result.outcome = RowOutcome::failed;
        result.error = bulk_item_error(*items[j], fmt::format("update device '{}'", bodies[j].id));
        result.device.reset();
      }
    }
  };
  run_pass(to_update_identity, "update", false);
  run_pass(to_update_twin, "updateTwin", true);
}

int parse_positive(const Env& env, const char* name, int fallback) {
  auto v = env.get(name);
  if (!v || v->empty()) return fallback;
  try {
    std::size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used == v->size() && n >= 1) return n;
  } catch (...) {
  }
  throw Error::usage(fmt::format("{} must be a whole number of at least 1, not '{}'", name, *v));
}

}  // namespace

ClientSettings client_settings(const Env& env, const config::Settings& settings, const std::filesystem::path& cwd) {
  ClientSettings s;
  std::string text, source;
  if (auto cs = env.get("IOTHUB_CONNECTION_STRING"); cs && !str::trim(*cs).empty()) {
    text = *cs;
    source = "IOTHUB_CONNECTION_STRING";
  } else if (const auto& file = settings.get_with_origin("azure.connection_string_file"); !file.value.empty()) {
    std::filesystem::path p = file.value;
    if (p.is_relative()) p = cwd / p;
    std::error_code ec;
    if (!std::filesystem::exists(p, ec))
      throw Error::auth(fmt::format("the connection string file {} (azure.connection_string_file, from {}) does not exist",
                                    p.string(), file.origin));
    text = fs::read_file(p);
    source = p.string();
  } else {
    throw Error::auth("no IoT Hub connection string: IOTHUB_CONNECTION_STRING is not set and neither is "
                      "azure.connection_string_file",
                      "Export IOTHUB_CONNECTION_STRING=\"HostName=...;SharedAccessKeyName=...;SharedAccessKey=...\", or "
                      "'aiot config set azure.connection_string_file FILE' with the string in a 0600 file.");
  }
  s.credentials = auth::sas::parse_service_connection_string(text, source);

  const auto& endpoint = settings.get("azure.endpoint");
  s.base_url = endpoint.empty() ? "https://" + s.credentials.host_name : endpoint;
  if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
    throw Error::usage(fmt::format("azure.endpoint must be an http:// or https:// URL, not '{}'", s.base_url));
  if (s.base_url.rfind("http://", 0) == 0 && !http::is_loopback_url(s.base_url))
    throw Error::usage(fmt::format("azure.endpoint {} uses plain HTTP on a non-loopback host", s.base_url),
                       "Plain HTTP is accepted only for 127.0.0.1, ::1 and localhost (the emulator); use https://.");

  // The tier and units come from the settings (profile, AIOT_AZURE_TIER / AIOT_AZURE_UNITS, flags).
  // Against a loopback emulator aiot paces only when they were set explicitly: it cannot know the
  // emulator's --throttle.
  const auto& tier_value = settings.get_with_origin("azure.tier");
  const auto& units_value = settings.get_with_origin("azure.units");
  bool tier_given = tier_value.origin != "default" || units_value.origin != "default";
  if (tier_given || !http::is_loopback_url(s.base_url)) {
    auto tier = parse_tier(tier_value.value);
    if (!tier) throw Error::usage(fmt::format("azure.tier must be F1, S1, S2 or S3, not '{}'", tier_value.value));
    int units = 0;
    try {
      units = std::stoi(units_value.value);
    } catch (...) {
    }
    if (units <= 0) throw Error::usage(fmt::format("azure.units must be a positive number, not '{}' (from {})",
                                                   units_value.value, units_value.origin));
    s.rates = rates_for(*tier, units);
  }
  s.retry.max_attempts = parse_positive(env, "AIOT_HTTP_MAX_ATTEMPTS", s.retry.max_attempts);
  s.retry.budget = parse_positive(env, "AIOT_HTTP_RETRY_BUDGET", s.retry.budget);
  return s;
}

std::unique_ptr<Hub> make_azure_hub(std::unique_ptr<AzureClient> client) {
  return std::make_unique<AzureHub>(std::move(client));
}

std::unique_ptr<Hub> open_azure_hub(Context& ctx) {
  auto s = client_settings(ctx.env, ctx.settings(), ctx.cwd);
  s.trace = ctx.tracer();
  return make_azure_hub(std::make_unique<AzureClient>(ctx.transport(), std::move(s)));
}

AzureClient* azure_client_of(Hub& hub) {
  auto* azure = dynamic_cast<AzureHub*>(&hub);
  return azure ? &azure->client() : nullptr;
}

}  // namespace aiot::hub::azure
