// The AWS IoT Core provider: Registry over things and the "aiot" named shadow.
#include "aiot/hub/aws/aws_hub.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "aiot/auth/cloud/aws_credentials.hpp"
#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/aws/aws_mapping.hpp"
#include "aiot/hub/aws/aws_provider.hpp"
#include "aiot/hub/query.hpp"

namespace aiot::hub::aws {

namespace {

const std::string k_shadow(k_shadow_name);

Error device_not_found(std::string_view id) {
  return Error::not_found(fmt::format("device '{}' not found (no such AWS IoT thing)", id),
                          "List devices with 'aiot device list'.");
}

bool ok(const http::Response& r) { return r.status >= 200 && r.status < 300; }

json body_of(const http::Response& r) {
  try {
    return r.body.empty() ? json::object() : json::parse(r.body);
  } catch (const json::exception&) {
    return json::object();
  }
}

std::string json_text(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::optional<Shadow> shadow_from(const http::Response& r) {
  if (r.status == 404) {
    return std::nullopt;
  }
  if (!ok(r)) {
    throw to_error(r, "GetThingShadow");
  }
  Shadow s;
  s.document = body_of(r);
  if (s.document.contains("version") && s.document["version"].is_number_integer()) {
    s.version = s.document["version"].get<std::int64_t>();
  }
  return s;
}

// "arn:aws:iot:us-east-1:123456789012:thing/x" -> {"aws", "123456789012"}.
std::pair<std::string, std::string> partition_and_account(const std::string& arn) {
  auto parts = str::split(arn, ':');
  if (parts.size() >= 6 && parts[0] == "arn" && !parts[1].empty() && !parts[4].empty()) {
    return {parts[1], parts[4]};
  }
  return {"aws", "*"};
}

// Only the parts an AWS registry holds: credentials are attached separately, and AWS has no SAS.
Device as_stored_on_aws(const Device& wanted, const Device& existing) {
  Device w = wanted;
  w.tags = canonical_tags(wanted.tags);
  w.auth = existing.auth;
  return w;
}

}  // namespace

AwsHub::AwsHub(std::unique_ptr<AwsClient> client, ProviderOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

std::size_t AwsHub::max_attributes() const {
  return options_.thing_type.empty() ? k_max_attributes_untyped : k_max_attributes_typed;
}

Device AwsHub::to_device(const Thing& thing, const std::optional<Shadow>& shadow) const {
  return device_from_thing(thing.name, thing.attributes, shadow ? shadow->document : json(nullptr), thing.id,
                           thing.version);
}

Device AwsHub::create(const Device& spec) {
  if (auto why = invalid_thing_name(spec.id)) {
    throw Error::usage(*why);
  }
  auto attributes = device_attributes(spec, max_attributes());
  // CreateThing with the same content answers 200 again; the Registry contract wants a conflict.
  if (client_->describe_thing(spec.id)) {
    throw Error::conflict(fmt::format("device '{}' already exists (AWS IoT thing)", spec.id),
                          "Change it with 'aiot device update', or re-run an import with --update.");
  }
  if (!options_.thing_type.empty() && !thing_type_checked_) {
    client_->ensure_thing_type(options_.thing_type);
    thing_type_checked_ = true;
  }
  Thing thing = client_->create_thing(spec.id, attributes, options_.thing_type);
  std::optional<Shadow> shadow;
  if (!spec.desired.empty()) {
    shadow = client_->update_shadow(spec.id, k_shadow, json{{"desired", spec.desired}});
  }
  Device d = to_device(thing, shadow);
  d.desired = spec.desired;
  // The thing exists now; an X.509 credential is attached by attach_certificate once it is issued.
  d.auth = spec.auth;
  if (spec.auth.type == AuthType::sas) {
    d.auth = Auth{};  // AWS IoT has no SAS keys: the thing has no credential yet
    d.auth.type = AuthType::none;
  }
  return d;
}

std::vector<ImportResult> AwsHub::import(std::span<const Device> devices, ImportMode mode) {
  std::vector<ImportResult> results(devices.size());
  std::vector<std::map<std::string, std::string>> attributes(devices.size());
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    try {
      if (auto why = invalid_thing_name(devices[i].id)) {
        throw Error::usage(*why);
      }
      attributes[i] = device_attributes(devices[i], max_attributes());
      todo.push_back(i);
    } catch (const Error& e) {
      results[i].error = e;
    }
  }
  if (todo.empty()) {
    return results;
  }
  if (!options_.thing_type.empty() && !thing_type_checked_) {
    client_->ensure_thing_type(options_.thing_type);
    thing_type_checked_ = true;
  }

  // 1. CreateThing for every row, concurrently under the CreateThing rate (AWS has no bulk
  // create without S3). An identical thing answers 200; other content answers 409.
  std::vector<http::Request> creates;
  for (std::size_t i : todo) {
    creates.push_back(client_->create_thing_request(devices[i].id, attributes[i], options_.thing_type));
  }
  auto answers = client_->call_all(std::move(creates), "CreateThing");
  std::vector<std::size_t> existing, with_desired;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    std::size_t i = todo[k];
    const auto& r = answers[k];
    if (ok(r)) {
      auto j = body_of(r);
      Thing t{devices[i].id, json_text(j, "thingArn"), json_text(j, "thingId"), options_.thing_type, attributes[i], 1};
      results[i].outcome = RowOutcome::created;
      results[i].device = to_device(t, std::nullopt);
      if (!devices[i].desired.empty()) {
        with_desired.push_back(i);
      }
    } else if (r.status == 409) {
      existing.push_back(i);
    } else {
      results[i].error = to_error(r, "CreateThing");
    }
  }

  // 2. Things that exist with other attributes: compare (and replace them with --update).
  if (!existing.empty()) {
    std::vector<http::Request> describes, shadow_reads;
    for (std::size_t i : existing) {
      describes.push_back(client_->control_request("GET", "/things/" + AwsClient::seg(devices[i].id)));
    }
    auto described = client_->call_all(std::move(describes), "DescribeThing");
    std::vector<std::size_t> need_shadow;
    for (std::size_t i : existing) {
      if (!devices[i].desired.empty()) {
        need_shadow.push_back(i);
        shadow_reads.push_back(client_->data_request("GET", "/things/" + AwsClient::seg(devices[i].id) + "/shadow",
                                                     {{"name", k_shadow}}));
      }
    }
    std::map<std::size_t, std::optional<Shadow>> shadows;
    if (!shadow_reads.empty()) {
      auto read = client_->call_all(std::move(shadow_reads), "GetThingShadow", true);
      for (std::size_t k = 0; k < need_shadow.size(); ++k) {
        try {
          shadows[need_shadow[k]] = shadow_from(read[k]);
        } catch (const Error& e) {
          results[need_shadow[k]].error = e;
        }
      }
    }
    std::vector<http::Request> updates;
    std::vector<std::size_t> updated_rows;
    for (std::size_t k = 0; k < existing.size(); ++k) {
      std::size_t i = existing[k];
      if (results[i].error) {
        continue;
      }
      if (!ok(described[k])) {
        results[i].error = to_error(described[k], "DescribeThing");
        continue;
      }
      Device have = to_device(AwsClient::parse_thing(body_of(described[k])), shadows[i]);
      if (same_content(have, as_stored_on_aws(devices[i], have))) {
        results[i].outcome = RowOutcome::unchanged;
        results[i].device = have;
      } else if (mode == ImportMode::create) {
        results[i].error = Error::conflict(fmt::format("device '{}' already exists with other content", devices[i].id),
                                           "Re-run with --update to replace it.");
      } else {
        json payload = {{"attributePayload", {{"attributes", attributes[i]}, {"merge", false}}}};
        updates.push_back(
            client_->control_request("PATCH", "/things/" + AwsClient::seg(devices[i].id), {}, payload.dump()));
        updated_rows.push_back(i);
        Thing t = AwsClient::parse_thing(body_of(described[k]));
        t.attributes = attributes[i];
        ++t.version;
        results[i].outcome = RowOutcome::updated;
        results[i].device = to_device(t, shadows[i]);
        if (!devices[i].desired.empty() && have.desired != devices[i].desired) {
          with_desired.push_back(i);
        }
      }
    }
    if (!updates.empty()) {
      auto done = client_->call_all(std::move(updates), "UpdateThing");
      for (std::size_t k = 0; k < updated_rows.size(); ++k) {
        if (!ok(done[k])) {
          results[updated_rows[k]].error = to_error(done[k], "UpdateThing");
        }
      }
    }
  }

  // 3. Desired properties into the "aiot" shadow.
  std::erase_if(with_desired, [&](std::size_t i) { return results[i].error.has_value(); });
  if (!with_desired.empty()) {
    std::vector<http::Request> writes;
    for (std::size_t i : with_desired) {
      writes.push_back(client_->update_shadow_request(devices[i].id, k_shadow, json{{"desired", devices[i].desired}}));
    }
    auto written = client_->call_all(std::move(writes), "UpdateThingShadow", true);
    for (std::size_t k = 0; k < with_desired.size(); ++k) {
      std::size_t i = with_desired[k];
      if (!ok(written[k])) {
        results[i].error = to_error(written[k], "UpdateThingShadow");
        continue;
      }
      auto j = body_of(written[k]);
      std::int64_t v = j.contains("version") && j["version"].is_number_integer() ? j["version"].get<std::int64_t>() : 0;
      auto& d = *results[i].device;
      d.desired = devices[i].desired;
      d.desired_version = d.reported_version = v;
      d.version = std::stoll(d.etag) + v;
      d.twin_etag = twin_etag(std::stoll(d.etag), v);
    }
  }

  for (auto& r : results) {
    if (r.error) {
      r.outcome = RowOutcome::failed;
      r.device.reset();
    }
  }
  return results;
}

Device AwsHub::get(std::string_view id) {
  std::string name(id);
  auto thing = client_->describe_thing(name);
  if (!thing) {
    throw device_not_found(id);
  }
  Device d = to_device(*thing, client_->get_shadow(name, k_shadow));
  int n = 0;
  for (const auto& principal : client_->list_thing_principals(name)) {
    auto cert = principal.find(":cert/");
    if (cert == std::string::npos) {
      continue;
    }
    d.auth.type = AuthType::certificate_authority;
    // An AWS certificate id is the SHA-256 of the DER certificate: the thumbprint IoT Hub shows.
    Thumbprints tp{"", str::to_upper(principal.substr(cert + 6))};
    (n++ == 0 ? d.auth.primary : d.auth.secondary) = tp;
  }
  return d;
}

std::optional<std::map<std::string, json>> AwsHub::indexed_shadows() {
  if (index_unavailable_) {
    return std::nullopt;
  }
  auto things = client_->try_search_all("thingName:*");
  if (!things) {
    index_unavailable_ = true;  // one failed search per hub object, not one per list
    return std::nullopt;
  }
  std::map<std::string, json> shadows;
  bool any_aiot_shadow = false;
  for (const auto& t : *things) {
    json document = AwsClient::named_shadow_document(t, k_shadow);
    any_aiot_shadow = any_aiot_shadow || !document.is_null();
    shadows.emplace(t.name, std::move(document));
  }
  // An index without shadows (REGISTRY mode, or "aiot" missing from the named-shadow filter) would
  // say "no shadow" of every thing: only an index that holds some "aiot" shadow is trusted.
  if (!any_aiot_shadow) {
    return std::nullopt;
  }
  return shadows;
}

std::vector<Device> AwsHub::list(const ListOptions& options) {
  auto query = query::Query::parse(options.where);
  // AWS has no device query: the condition is evaluated here over the twin shape, so results are
  // exact whichever way the shadows are read. With Fleet Indexing the "aiot" shadows come in pages
  // of 100 things (and every device has its properties, as on the other hubs); without it, one
  // GetThingShadow per thing, and only when the condition looks at properties.
  auto indexed = indexed_shadows();
  bool names_properties = !query.empty() && query.to_string().find("properties") != std::string::npos;
  std::vector<Device> out;
  std::string token;
  do {
    // ListThings stays the source of which things exist and of their versions (etags); the index
    // lags the registry by seconds and holds no thing version.
    auto page = client_->list_things(token, 250);
    token = page.next_token;
    std::vector<std::optional<Shadow>> shadows(page.things.size());
    std::vector<std::size_t> unread;
    for (std::size_t k = 0; k < page.things.size(); ++k) {
      if (!indexed) {
        if (names_properties) {
          unread.push_back(k);
        }
      } else if (auto it = indexed->find(page.things[k].name); it == indexed->end()) {
        unread.push_back(k);  // registered after the index last saw the fleet
      } else if (!it->second.is_null()) {
        shadows[k] = Shadow{it->second, it->second.value("version", std::int64_t{0})};
      }
    }
    if (!unread.empty()) {
      std::vector<http::Request> reads;
      for (std::size_t k : unread) {
        reads.push_back(client_->data_request("GET", "/things/" + AwsClient::seg(page.things[k].name) + "/shadow",
                                              {{"name", k_shadow}}));
      }
      auto answers = client_->call_all(std::move(reads), "GetThingShadow", true);
      for (std::size_t r = 0; r < answers.size(); ++r) {
        shadows[unread[r]] = shadow_from(answers[r]);
      }
    }
    for (std::size_t k = 0; k < page.things.size(); ++k) {
      Device d = to_device(page.things[k], shadows[k]);
      if (query.empty() || query.matches(to_twin_json(d))) {
        out.push_back(std::move(d));
      }
    }
  } while (!token.empty());
  std::sort(out.begin(), out.end(), [](const Device& a, const Device& b) { return a.id < b.id; });
  if (options.limit > 0 && out.size() > options.limit) {
    out.resize(options.limit);
  }
  return out;
}

Device AwsHub::update(const DeviceUpdate& u) {
  auto thing = client_->describe_thing(u.id);
  if (!thing) {
    throw device_not_found(u.id);
  }
  std::optional<std::pair<std::int64_t, std::int64_t>> expected;
  if (!u.if_match.empty() && u.if_match != "*") {
    expected = parse_twin_etag(u.if_match);
    if (!expected) {
      throw Error::precondition(fmt::format("'{}' is not an etag of an AWS device (THING.SHADOW versions)", u.if_match),
                                "Read the etag with 'aiot device show ID -o json'.");
    }
    std::int64_t shadow_version = 0;
    if (auto s = client_->get_shadow(u.id, k_shadow)) {
      shadow_version = s->version;
    }
    if (expected->first != thing->version || expected->second != shadow_version) {
      throw Error::precondition(fmt::format("device '{}' changed since etag {} (now {})", u.id, u.if_match,
                                            twin_etag(thing->version, shadow_version)),
                                "Read it again with 'aiot device show' and retry.");
    }
  }
  json tags = attributes_to_tags(thing->attributes);
  if (!u.tags_patch.empty()) {
    tags.merge_patch(u.tags_patch);
  }
  bool was_enabled = !is_disabled(thing->attributes);
  Device wanted;
  wanted.tags = tags;
  wanted.enabled = u.enabled.value_or(was_enabled);
  auto attributes = device_attributes(wanted, max_attributes());
  if (attributes != thing->attributes) {
    client_->update_thing(u.id, attributes, false,
                          expected ? std::optional<std::int64_t>(thing->version) : std::nullopt);
  }
  if (wanted.enabled != was_enabled) {
    // The thing's certificates are what lets a device in: follow the enabled state.
    for (const auto& principal : client_->list_thing_principals(u.id)) {
      auto cert = principal.find(":cert/");
      if (cert != std::string::npos) {
        client_->update_certificate(principal.substr(cert + 6), wanted.enabled ? "ACTIVE" : "INACTIVE");
      }
    }
  }
  if (!u.desired_patch.empty()) {
    client_->update_shadow(u.id, k_shadow, json{{"desired", u.desired_patch}},
                           expected ? std::optional<std::int64_t>(expected->second) : std::nullopt);
  }
  return get(u.id);
}

void AwsHub::remove(std::string_view id, std::string_view if_match) {
  std::string name(id);
  auto thing = client_->describe_thing(name);
  if (!thing) {
    throw device_not_found(id);
  }
  std::optional<std::int64_t> expected;
  if (!if_match.empty() && if_match != "*") {
    auto both = parse_twin_etag(if_match);
    std::int64_t v = 0;
    if (both) {
      v = both->first;
    } else {
      try {
        v = std::stoll(std::string(if_match));
      } catch (const std::exception&) {
        throw Error::precondition(fmt::format("'{}' is not an etag of an AWS device", if_match));
      }
    }
    if (v != thing->version) {
      throw Error::precondition(fmt::format("device '{}' changed since etag {}", id, if_match));
    }
    expected = v;
  }
  // AWS keeps principals attached and shadows alive after DeleteThing: clean up what aiot made.
  for (const auto& principal : client_->list_thing_principals(name)) {
    client_->detach_thing_principal(name, principal);
  }
  for (const auto& shadow : {std::string(k_shadow_name), std::string(k_health_shadow_name)}) {
    try {
      client_->delete_shadow(name, shadow);
    } catch (const Error& e) {
      if (e.reason() != Reason::not_found) {
        throw;
      }
    }
  }
  client_->delete_thing(name, expected);
}

// ---- certificates ----------------------------------------------------------------------------

void AwsHub::ensure_policy(const std::string& thing_arn) {
  if (policy_checked_) {
    return;
  }
  if (!client_->get_policy(options_.policy_name)) {
    auto [partition, account] = partition_and_account(thing_arn);
    try {
      client_->create_policy(options_.policy_name,
                             AwsClient::device_policy(partition, client_->config().region, account));
    } catch (const Error& e) {
      if (e.reason() != Reason::conflict) {
        throw;  // a concurrent aiot may have created it: that is fine
      }
    }
  }
  policy_checked_ = true;
}

void AwsHub::attach_to_thing(const std::string& thing, const std::string& thing_arn,
                             const std::string& certificate_arn) {
  client_->attach_thing_principal(thing, certificate_arn);
  ensure_policy(thing_arn);
  client_->attach_policy(options_.policy_name, certificate_arn);
}

Certificate AwsHub::register_and_attach(const Device& device, std::string_view certificate_pem) {
  auto thing = client_->describe_thing(device.id);
  if (!thing) {
    throw device_not_found(device.id);
  }
  Certificate cert = client_->register_or_find_certificate(std::string(certificate_pem), device.enabled);
  attach_to_thing(device.id, thing->arn, cert.arn);
  return cert;
}

KeysAndCertificate AwsHub::create_generated_certificate(const Device& device) {
  auto thing = client_->describe_thing(device.id);
  if (!thing) {
    throw device_not_found(device.id);
  }
  auto generated = client_->create_keys_and_certificate(device.enabled);
  attach_to_thing(device.id, thing->arn, generated.certificate.arn);
  return generated;
}

std::vector<std::filesystem::path> write_generated_credentials(const std::filesystem::path& dir,
                                                               const std::string& device_id,
                                                               const KeysAndCertificate& generated) {
  fs::ensure_dir(dir, true);
  auto key = dir / (device_id + ".key.pem");
  auto cert = dir / (device_id + ".cert.pem");
  fs::write_atomic(key, generated.private_key_pem, fs::Mode::secret);
  fs::write_atomic(cert, generated.certificate.pem);
  return {key, cert};
}

// ---- opening ---------------------------------------------------------------------------------

namespace {

int positive_from_env(const Env& env, const char* name, int fallback) {
  auto v = env.get(name);
  if (!v || v->empty()) {
    return fallback;
  }
  try {
    std::size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used == v->size() && n >= 1) {
      return n;
    }
  } catch (const std::exception&) {
  }
  throw Error::usage(fmt::format("{} must be a whole number of at least 1, not '{}'", name, *v));
}

std::string checked_endpoint(std::string url, const char* what) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    throw Error::usage(fmt::format("{} must be an http:// or https:// URL, not '{}'", what, url));
  }
  if (url.rfind("http://", 0) == 0 && !http::is_loopback_url(url)) {
    throw Error::usage(fmt::format("{} {} uses plain HTTP on a non-loopback host", what, url),
                       "Plain HTTP is accepted only for 127.0.0.1, ::1 and localhost (emulators); use https://.");
  }
  return url;
}

}  // namespace

ProviderConfig provider_config(const Env& env, const config::Settings& settings) {
  ProviderConfig pc;
  auto resolved = aws_auth::resolve(env, {settings.get("aws.profile"), settings.get("aws.region")});
  const std::string endpoint = settings.get("aws.endpoint");
  std::string region = resolved.region;
  if (region.empty()) {
    if (endpoint.empty()) {
      throw Error::usage("no AWS region: set aws.region, AWS_REGION or AWS_DEFAULT_REGION, or region in ~/.aws/config",
                         "e.g. aiot config set aws.region eu-west-1");
    }
    region = "us-east-1";  // an emulator does not care; the signature scope needs one
  }
  auto& c = pc.client;
  c.credentials = resolved.credentials;
  c.region = region;
  c.control_endpoint = endpoint.empty() ? default_control_endpoint(region) : checked_endpoint(endpoint, "aws.endpoint");
  if (auto data = settings.get("aws.data_endpoint"); !data.empty()) {
    c.data_endpoint = checked_endpoint(data, "aws.data_endpoint");
  } else if (!endpoint.empty()) {
    c.data_endpoint = c.control_endpoint;  // the emulator and moto serve both planes on one port
  }
  // AWS has no bulk create: one CreateThing per device. Under 27 % failing requests a 2,000-row
  // import needs ~750 retries (the budget), and with 6 attempts one row in 2,600 would run out
  // (0.27^6), so 10 attempts. Requests are paced at the quota already: retries start at 200 ms
  // and stop growing at 5 s, so the retry rounds of a bulk call stay short.
  c.client.retry.budget = positive_from_env(env, "AIOT_HTTP_RETRY_BUDGET", 2000);
  c.client.retry.max_attempts = positive_from_env(env, "AIOT_HTTP_MAX_ATTEMPTS", 10);
  c.client.retry.base = std::chrono::milliseconds(200);
  c.client.retry.cap = std::chrono::milliseconds(5000);
  // SigV4 needs the real time (AWS refuses a skew over 5 minutes), even when AIOT_NOW pins the CLI's clock.
  c.now = [] { return std::chrono::system_clock::now(); };

  pc.options.thing_type = settings.get("aws.thing_type");
  if (!pc.options.thing_type.empty()) {
    if (auto why = invalid_thing_name(pc.options.thing_type)) {
      throw Error::usage("aws.thing_type: " + *why);
    }
  }
  pc.options.policy_name = settings.get("aws.policy");
  if (pc.options.policy_name.empty()) {
    pc.options.policy_name = "aiot-device";
  }
  pc.options.describe = endpoint.empty() ? "aws:" + region : fmt::format("aws:{} ({})", region, c.control_endpoint);
  return pc;
}

AwsHub* aws_hub_of(Hub& hub) { return dynamic_cast<AwsHub*>(&hub); }

std::unique_ptr<Hub> open_aws_hub(Context& ctx) {
  auto pc = provider_config(ctx.env, ctx.settings());
  pc.client.client.trace = ctx.tracer();
  return std::make_unique<AwsHub>(std::make_unique<AwsClient>(ctx.transport(), std::move(pc.client)),
                                  std::move(pc.options));
}

}  // namespace aiot::hub::aws
