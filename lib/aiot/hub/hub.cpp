#include "aiot/hub/hub.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <map>

#include "aiot/hub/query.hpp"

namespace aiot::hub {

std::string_view to_string(AuthType t) {
  switch (t) {
    case AuthType::sas: return "sas";
    case AuthType::self_signed: return "x509-self-signed";
    case AuthType::certificate_authority: return "x509-ca";
    case AuthType::none: return "none";
  }
  return "none";
}

namespace {
// The IoT Hub wire names, used in twins and queries (authenticationType).
std::string_view wire_name(AuthType t) {
  switch (t) {
    case AuthType::sas: return "sas";
    case AuthType::self_signed: return "selfSigned";
    case AuthType::certificate_authority: return "certificateAuthority";
    case AuthType::none: return "none";
  }
  return "none";
}
}  // namespace

std::optional<AuthType> parse_auth_type(std::string_view s) {
  if (s == "sas" || s == "symmetric-key") return AuthType::sas;
  if (s == "x509-self-signed" || s == "selfSigned" || s == "self-signed") return AuthType::self_signed;
  if (s == "x509-ca" || s == "certificateAuthority" || s == "ca") return AuthType::certificate_authority;
  if (s == "none") return AuthType::none;
  return std::nullopt;
}

std::optional<std::string> invalid_device_id(std::string_view id) {
  if (id.empty()) return std::string("a device id must not be empty");
  if (id.size() > 128) return fmt::format("a device id has at most 128 characters, this one has {}", id.size());
  static const char* k_allowed = "-:.+%_#*?!(),=@;$'";
  for (size_t i = 0; i < id.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(id[i]);
    if (c < 128 && (std::isalnum(c) || std::strchr(k_allowed, c))) continue;
    return fmt::format("a device id may hold ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ ' only; "
                       "'{}' has '{}' at position {}",
                       id, static_cast<char>(c), i + 1);
  }
  return std::nullopt;
}

json to_twin_json(const Device& d, bool with_secrets) { return to_twin_json(Device(d), with_secrets); }

json to_twin_json(Device&& d, bool with_secrets) {
  // Built key by key with moves: an initializer list would copy the three JSON trees.
  d.desired["$version"] = d.desired_version;
  d.reported["$version"] = d.reported_version;
  json properties = json::object();
  properties["desired"] = std::move(d.desired);
  properties["reported"] = std::move(d.reported);
  json twin = json::object();
  twin["deviceId"] = d.id;
  twin["status"] = d.enabled ? "enabled" : "disabled";
  twin["authenticationType"] = wire_name(d.auth.type);
  twin["tags"] = std::move(d.tags);
  twin["properties"] = std::move(properties);
  twin["version"] = d.version;
  twin["etag"] = d.twin_etag;
  twin["deviceEtag"] = d.etag;
  twin["generationId"] = d.generation_id;
  twin["createdTime"] = format_rfc3339(d.created);
  twin["lastUpdated"] = format_rfc3339(d.updated);
  if (d.auth.type == AuthType::self_signed) {
    json tp = json::object();
    tp["primaryThumbprint"] = d.auth.primary.sha1;
    tp["primaryThumbprintSha256"] = d.auth.primary.sha256;
    if (!d.auth.secondary.empty()) {
      tp["secondaryThumbprint"] = d.auth.secondary.sha1;
      tp["secondaryThumbprintSha256"] = d.auth.secondary.sha256;
    }
    twin["x509Thumbprint"] = tp;
  }
  if (with_secrets && d.auth.type == AuthType::sas) {
    twin["symmetricKey"] = {{"primaryKey", d.auth.primary_key}, {"secondaryKey", d.auth.secondary_key}};
  }
  return twin;
}

namespace {
bool thumbprints_match(const Thumbprints& have, const Thumbprints& want) {
  if (want.empty()) return true;
  if (!want.sha1.empty() && want.sha1 != have.sha1) return false;
  if (!want.sha256.empty() && want.sha256 != have.sha256) return false;
  return true;
}
}  // namespace

bool same_content(const Device& existing, const Device& wanted) {
  if (existing.enabled != wanted.enabled) return false;
  if (existing.auth.type != wanted.auth.type) return false;
  if (existing.tags != wanted.tags) return false;
  if (!wanted.desired.empty() && existing.desired != wanted.desired) return false;
  if (!wanted.auth.primary_key.empty() && wanted.auth.primary_key != existing.auth.primary_key) return false;
  if (!wanted.auth.secondary_key.empty() && wanted.auth.secondary_key != existing.auth.secondary_key) return false;
  return thumbprints_match(existing.auth.primary, wanted.auth.primary) &&
         thumbprints_match(existing.auth.secondary, wanted.auth.secondary);
}

std::vector<ImportResult> Registry::update_many(std::span<const DeviceUpdate> updates) {
  std::vector<ImportResult> results;
  results.reserve(updates.size());
  for (const auto& u : updates) {
    ImportResult r;
    try {
      r.device = update(u);
      r.outcome = RowOutcome::updated;
    } catch (const Error& e) {
      if (e.code() == ExitCode::unavailable || e.code() == ExitCode::auth) throw;
      r.error = e;
    }
    results.push_back(std::move(r));
  }
  return results;
}

std::vector<GroupCount> Registry::count_by(const std::string& where, const std::vector<std::string>& paths) {
  std::vector<query::PropertyPath> readers;
  for (const auto& p : paths) readers.push_back(query::PropertyPath::parse(p));
  ListOptions options;
  options.where = where;
  std::map<std::vector<std::optional<json>>, std::int64_t> groups;
  for (auto& d : list(options)) {
    const json twin = to_twin_json(std::move(d));
    std::vector<std::optional<json>> key;
    key.reserve(readers.size());
    for (const auto& r : readers) {
      const json* v = r.find(twin);
      key.push_back(v ? std::optional<json>(*v) : std::nullopt);
    }
    ++groups[std::move(key)];
  }
  if (paths.empty() && groups.empty()) groups[{}] = 0;  // without paths: the total, zero included
  std::vector<GroupCount> out;
  out.reserve(groups.size());
  for (auto& [key, n] : groups) out.push_back({key, n});
  return out;
}

std::string_view to_string(RowOutcome o) {
  switch (o) {
    case RowOutcome::created: return "created";
    case RowOutcome::updated: return "updated";
    case RowOutcome::unchanged: return "unchanged";
    case RowOutcome::failed: return "failed";
  }
  return "failed";
}

std::optional<std::string> Registry::attach_certificate(const Device&, std::string_view) {
  return std::nullopt;
}

}  // namespace aiot::hub
