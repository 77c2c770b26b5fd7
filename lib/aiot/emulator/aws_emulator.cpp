// `aiot hub serve --api aws`: the local hub over the AWS IoT control plane (`iot` 2015-05-28),
// the device-shadow data plane (`iot-data`) and UpdateJobExecution of `iot-jobs-data`, with the
// methods, URIs, JSON shapes and error answers of ../shared/reference/aws-iot.md, SigV4 checked on
// every request. Things are the local hub's devices (tags <-> attributes as in aws_mapping.hpp,
// desired/reported <-> the named shadow "aiot", reported aiot.health <-> the named shadow
// "aiot-health"); the rest lives in aws_* tables (aws_store.hpp). Jobs hand their aiot.model to
// the devices' desired twins, so a simulated fleet takes part in them (docs/aws.md).
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "aiot/auth/cloud/aws_credentials.hpp"
#include "aiot/auth/cloud/sigv4.hpp"
#include "aiot/auth/x509.hpp"
#include "aiot/core/crypto.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/emulator/aws_jobs.hpp"
#include "aiot/emulator/aws_search.hpp"
#include "aiot/emulator/aws_store.hpp"
#include "aiot/emulator/http_server.hpp"
#include "aiot/hub/aws/aws_client.hpp"
#include "aiot/hub/aws/aws_mapping.hpp"
#include "aiot/hub/local/local_hub.hpp"

namespace aiot::emulator {

namespace {

using json = nlohmann::json;
using hub::Device;
namespace mapping = hub::aws;
namespace awsx = aiot::emulator::aws;

constexpr const char* k_account = "000000000000";  // a plainly fake account id
constexpr const char* k_default_region = "us-east-1";
constexpr const char* k_profile = "aiot-emulator";
constexpr int k_search_page = 100;  // SearchIndex: "This maximum number cannot exceed 100"

// An AWS error answer: status, code (x-amzn-ErrorType and __type) and message.
struct AwsFault : std::exception {
  int status;
  std::string code;
  std::string message;
  json extra = json::object();  // e.g. resourceId / resourceArn of ResourceAlreadyExistsException
  AwsFault(int s, std::string c, std::string m, json x = json::object())
      : status(s), code(std::move(c)), message(std::move(m)), extra(std::move(x)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

[[noreturn]] void fail(int status, std::string code, std::string message) {
  throw AwsFault(status, std::move(code), std::move(message));
}
[[noreturn]] void invalid(std::string message) { fail(400, "InvalidRequestException", std::move(message)); }
[[noreturn]] void not_found(std::string message) { fail(404, "ResourceNotFoundException", std::move(message)); }

void set_error(HttpResponse& res, int status, const std::string& code, const std::string& message,
               const json& extra = json::object()) {
  res.status = status;
  res.set_header("x-amzn-ErrorType", code);
  json body = {{"__type", code}, {"message", message}};
  body.update(extra);
  res.body = body.dump();
  res.content_type = "application/json";
}

enum class Plane { control, data, jobs_data };

bool is_data_path(const std::string& path) {
  return path.rfind("/api/things/shadow/", 0) == 0 ||
         (path.rfind("/things/", 0) == 0 && path.size() > 7 && path.compare(path.size() - 7, 7, "/shadow") == 0);
}

double epoch_seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

json parse_body(const HttpRequest& req) {
  if (str::trim(req.body).empty()) {
    return json::object();
  }
  try {
    json j = json::parse(req.body);
    if (!j.is_object()) {
      invalid("the request body must be a JSON object");
    }
    return j;
  } catch (const json::exception&) {
    invalid("the request body is not valid JSON");
  }
}

std::string text_field(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) {
    return {};
  }
  if (!j[key].is_string()) {
    invalid(fmt::format("{} must be a string", key));
  }
  return j[key].get<std::string>();
}

// Attribute maps from a JSON object of strings.
std::map<std::string, std::string> attribute_map(const json& attributes) {
  std::map<std::string, std::string> out;
  if (attributes.is_null()) {
    return out;
  }
  if (!attributes.is_object()) {
    invalid("attributes must be a map of strings");
  }
  for (const auto& [k, v] : attributes.items()) {
    if (!v.is_string()) {
      invalid(fmt::format("attribute '{}' must be a string", k));
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

void check_attributes(const std::map<std::string, std::string>& attributes) {
  for (const auto& [k, v] : attributes) {
    if (auto why = mapping::invalid_attribute_name(k)) {
      invalid(fmt::format("attribute '{}': {}", k, *why));
    }
    if (auto why = mapping::invalid_attribute_value(v)) {
      invalid(fmt::format("attribute '{}': {}", k, *why));
    }
  }
}

// Tags as attributes, leniently: a device made by the local CLI may hold tags no AWS attribute
// could (spaces, arrays); the emulator shows them as text rather than hiding them.
void flatten_lenient(const json& value, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (value.is_object() && (!value.empty() || prefix.empty())) {
    for (const auto& [k, v] : value.items()) {
      flatten_lenient(v, prefix.empty() ? k : prefix + "." + k, out);
    }
    return;
  }
  out[prefix] = value.is_string() ? value.get<std::string>() : value.dump();
}

std::map<std::string, std::string> attributes_of(const Device& d) {
  std::map<std::string, std::string> out;
  if (d.tags.is_object()) {
    flatten_lenient(d.tags, "", out);
  }
  if (!d.enabled) {
    out[std::string(mapping::k_disabled_attribute)] = "true";
  }
  return out;
}

json to_json(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) {
    j[k] = v;
  }
  return j;
}

// A merge patch that turns `from` into `to`.
json merge_patch_between(const json& from, const json& to) {
  json patch = json::object();
  if (from.is_object()) {
    for (const auto& [k, v] : from.items()) {
      if (!to.contains(k)) {
        patch[k] = nullptr;
      }
    }
  }
  for (const auto& [k, v] : to.items()) {
    if (from.is_object() && from.contains(k)) {
      const json& old = from[k];
      if (old == v) {
        continue;
      }
      if (old.is_object() && v.is_object()) {
        patch[k] = merge_patch_between(old, v);
        continue;
      }
    }
    patch[k] = v;
  }
  return patch;
}

// A nested merge patch setting (or, with null, removing) the tag an attribute name stands for.
void add_attribute_patch(json& patch, const std::string& name, const json& value) {
  auto parts = str::split(name, '.');
  if (std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
    patch[name] = value;
    return;
  }
  json* node = &patch;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    json& child = (*node)[parts[i]];
    if (!child.is_object()) {
      child = json::object();
    }
    node = &child;
  }
  (*node)[parts.back()] = value;
}

// Shadow helpers: delta (desired keys whose value differs from reported) and metadata.
json delta_of(const json& desired, const json& reported) {
  json delta = json::object();
  if (!desired.is_object()) {
    return delta;
  }
  for (const auto& [k, v] : desired.items()) {
    if (reported.is_object() && reported.contains(k)) {
      const json& r = reported[k];
      if (v.is_object() && r.is_object()) {
        json inner = delta_of(v, r);
        if (!inner.empty()) {
          delta[k] = inner;
        }
        continue;
      }
      if (v == r) {
        continue;
      }
    }
    delta[k] = v;
  }
  return delta;
}

json metadata_of(const json& state, double ts) {
  if (state.is_object()) {
    json m = json::object();
    for (const auto& [k, v] : state.items()) {
      m[k] = metadata_of(v, ts);
    }
    return m;
  }
  if (state.is_array()) {
    json m = json::array();
    for (const auto& v : state) {
      m.push_back(metadata_of(v, ts));
    }
    return m;
  }
  return {{"timestamp", static_cast<std::int64_t>(ts)}};
}

// Merge-patch a shadow section; null as the whole section removes it.
void patch_section(json& state, const char* section, const json& patch) {
  if (patch.is_null()) {
    state.erase(section);
    return;
  }
  if (!patch.is_object()) {
    invalid(fmt::format("state.{} must be an object or null", section));
  }
  json current = state.contains(section) ? state[section] : json::object();
  current.merge_patch(patch);
  state[section] = current;
}

std::string random_key_id() {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string bytes = crypto::random_bytes(16);
  std::string out = "AKIA";
  for (unsigned char b : bytes) {
    out += k_alphabet[b % 32];
  }
  return out;
}

std::string public_key_pem(const std::string& private_key_pem) {
  BIO* in = BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  if (key == nullptr) {
    throw Error::failure("cannot read the generated private key");
  }
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(out);
  EVP_PKEY_free(key);
  return pem;
}

int int_param(const HttpRequest& req, const char* name, int fallback, int lo, int hi) {
  auto v = req.param(name);
  if (!v || v->empty()) {
    return fallback;
  }
  try {
    std::size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used == v->size() && n >= lo && n <= hi) {
      return n;
    }
  } catch (const std::exception&) {
  }
  invalid(fmt::format("{} must be a whole number from {} to {}", name, lo, hi));
}

// nextToken: the last name of the previous page, base64 (opaque to clients, stable under inserts).
std::string token_for(const std::string& last) { return crypto::base64_encode(last); }
std::string after_token(const HttpRequest& req) {
  auto t = req.param("nextToken");
  if (!t || t->empty()) {
    return {};
  }
  try {
    return crypto::base64_decode(*t);
  } catch (const Error&) {
    invalid("the nextToken is not valid");
  }
}

// One page of `names` (sorted) after the token; sets next_token when more remain.
std::vector<std::string> page_of(const std::vector<std::string>& names, const HttpRequest& req, int default_size,
                                 int max_size, std::string& next_token) {
  const int size = int_param(req, "maxResults", default_size, 1, max_size);
  const std::string after = after_token(req);
  std::vector<std::string> out;
  auto it = after.empty() ? names.begin() : std::upper_bound(names.begin(), names.end(), after);
  for (; it != names.end() && static_cast<int>(out.size()) < size; ++it) {
    out.push_back(*it);
  }
  next_token = (it != names.end() && !out.empty()) ? token_for(out.back()) : std::string();
  return out;
}

struct Caller {
  std::string region = k_default_region;
};

class AwsEmulator {
 public:
  AwsEmulator(const ServeOptions& options, Clock clock, LogSink log)
      : options_(options),
        log_(std::move(log)),
        hub_(std::make_unique<hub::local::LocalHub>(options.hub_path, std::move(clock))),
        store_(std::make_unique<awsx::Store>(options.hub_path)) {
    load_or_make_credentials();
  }

  void routes(HttpServer& server);
  void write_connection_file(const std::string& base_url);
  DialectHooks hooks();

 private:
  using Handler = std::function<json(const HttpRequest&, const Caller&)>;

  // ---- plumbing ------------------------------------------------------------------------------
  void add(HttpServer& server, const char* method, const std::string& pattern, const char* operation, Plane plane,
           Handler fn) {
    RouteHandler route = [this, &server, operation, plane, fn = std::move(fn)](const HttpRequest& req, HttpResponse& res) {
      Caller caller;
      caller.region = authorize(req, plane);
      if (server.over_limit(operation, req, res)) {
        return;
      }
      json out;
      {
        std::lock_guard lock(mutex_);
        out = fn(req, caller);
      }
      res.set(200, out.is_null() ? std::string("{}") : out.dump(), "application/json");
    };
    const std::string m = method;
    if (m == "GET") {
      server.Get(pattern, route);
    } else if (m == "POST") {
      server.Post(pattern, route);
    } else if (m == "PUT") {
      server.Put(pattern, route);
    } else if (m == "PATCH") {
      server.Patch(pattern, route);
    } else {
      server.Delete(pattern, route);
    }
  }

  // SigV4: the access key must be the emulator's, the scope's service must fit the plane, and
  // the signature must match. Returns the scope's region (used in the ARNs of the answer).
  std::string authorize(const HttpRequest& req, Plane plane) const {
    auto header = req.header("Authorization");
    if (!header || header->empty()) {
      fail(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    auto auth = sigv4::parse_authorization(*header);
    if (!auth) {
      fail(403, "IncompleteSignatureException",
           "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters (AWS4-HMAC-SHA256).");
    }
    if (auth->access_key_id != credentials_.access_key_id) {
      fail(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    }
    static const std::set<std::string> control = {"iot", "execute-api"};
    static const std::set<std::string> data = {"iotdata", "iotdevicegateway"};
    static const std::set<std::string> jobs = {"iot-jobs-data", "iot"};
    const auto& allowed = plane == Plane::control ? control : plane == Plane::data ? data : jobs;
    if (allowed.count(auth->service) == 0) {
      fail(403, "InvalidSignatureException",
           fmt::format("Credential should be scoped to correct service: '{}'. ", *allowed.begin()));
    }
    if (!req.header("X-Amz-Date")) {
      fail(403, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    sigv4::SignableRequest s{req.method, req.target, req.headers, req.body};
    auto again = sigv4::recompute(s, *auth, credentials_.secret_access_key, {});
    if (!sigv4::equal_constant_time(again.signature, auth->signature)) {
      fail(403, "InvalidSignatureException",
           "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
           "Access Key and signing method. Consult the service documentation for details.");
    }
    return auth->region;
  }

  std::int64_t now_ms() { return to_ms(hub_->now()); }
  static std::string arn(const Caller& c, const std::string& resource) {
    return fmt::format("arn:aws:iot:{}:{}:{}", c.region, k_account, resource);
  }

  std::optional<Device> find_device(const std::string& name) {
    try {
      return hub_->get(name);
    } catch (const Error& e) {
      if (e.reason() == Reason::not_found) {
        return std::nullopt;
      }
      throw;
    }
  }
  Device thing_or_404(const std::string& name) {
    auto d = find_device(name);
    if (!d) {
      not_found(fmt::format("Thing {} cannot be found.", name));
    }
    return *d;
  }

  json thing_json(const Device& d, const Caller& c, const std::string& type) {
    json j = {{"thingName", d.id},          {"thingId", d.generation_id},
              {"thingArn", arn(c, "thing/" + d.id)}, {"attributes", to_json(attributes_of(d))},
              {"version", d.version},       {"defaultClientId", d.id}};
    if (!type.empty()) {
      j["thingTypeName"] = type;
    }
    return j;
  }

  static std::string name_from_arn(const std::string& value, const std::string& kind) {
    auto pos = value.find(":" + kind + "/");
    return pos == std::string::npos ? value : value.substr(pos + kind.size() + 2);
  }

  void check_limit(const std::map<std::string, std::string>& attributes, const std::string& type) {
    const std::size_t limit = type.empty() ? mapping::k_max_attributes_untyped : mapping::k_max_attributes_typed;
    if (attributes.size() > limit) {
      invalid(fmt::format("A thing {} can have at most {} attributes ({} given)",
                          type.empty() ? "without a thing type" : "with a thing type", limit, attributes.size()));
    }
  }

  // ---- things --------------------------------------------------------------------------------
  json create_thing(const HttpRequest& req, const Caller& c) {
    const std::string name = req.match(1);
    if (auto why = mapping::invalid_thing_name(name)) {
      invalid(*why);
    }
    json body = parse_body(req);
    auto attributes = attribute_map(body.contains("attributePayload") ? body["attributePayload"].value("attributes", json())
                                                                      : json());
    check_attributes(attributes);
    const std::string type = text_field(body, "thingTypeName");
    if (!type.empty() && !store_->thing_type_created(type)) {
      not_found(fmt::format("Thing type {} does not exist", type));
    }
    check_limit(attributes, type);
    if (auto existing = find_device(name)) {
      if (attributes_of(*existing) == attributes && store_->thing_type_of(name) == type) {
        return {{"thingName", name}, {"thingArn", arn(c, "thing/" + name)}, {"thingId", existing->generation_id}};
      }
      throw AwsFault(409, "ResourceAlreadyExistsException",
                     fmt::format("Thing {} already exists with different attributes", name),
                     {{"resourceId", existing->generation_id}, {"resourceArn", arn(c, "thing/" + name)}});
    }
    Device d;
    d.id = name;
    d.auth.type = hub::AuthType::none;
    d.enabled = !mapping::is_disabled(attributes);
    d.tags = mapping::attributes_to_tags(attributes);
    Device stored = hub_->create(d);
    if (!type.empty()) {
      store_->set_thing_type(name, type);
    }
    return {{"thingName", name}, {"thingArn", arn(c, "thing/" + name)}, {"thingId", stored.generation_id}};
  }

  json describe_thing(const HttpRequest& req, const Caller& c) {
    Device d = thing_or_404(req.match(1));
    return thing_json(d, c, store_->thing_type_of(d.id));
  }

  json update_thing(const HttpRequest& req, const Caller&) {
    const std::string name = req.match(1);
    Device d = thing_or_404(name);
    json body = parse_body(req);
    if (body.contains("expectedVersion") && !body["expectedVersion"].is_null() &&
        body["expectedVersion"].get<std::int64_t>() != d.version) {
      fail(409, "VersionConflictException",
           fmt::format("The version for thing {} does not match the expected version.", name));
    }
    std::string type = store_->thing_type_of(name);
    if (body.value("removeThingType", false)) {
      type.clear();
    } else if (auto t = text_field(body, "thingTypeName"); !t.empty()) {
      if (!store_->thing_type_created(t)) {
        not_found(fmt::format("Thing type {} does not exist", t));
      }
      type = t;
    }
    auto old_attributes = attributes_of(d);
    auto attributes = old_attributes;
    hub::DeviceUpdate u;
    u.id = name;
    u.if_match = d.twin_etag;
    if (body.contains("attributePayload") && body["attributePayload"].is_object()) {
      const json& payload = body["attributePayload"];
      auto given = attribute_map(payload.value("attributes", json()));
      bool merge = payload.value("merge", false);
      json patch = json::object();
      if (merge) {
        for (const auto& [k, v] : given) {
          if (v.empty()) {
            attributes.erase(k);
            if (k != mapping::k_disabled_attribute) {
              add_attribute_patch(patch, k, nullptr);
            }
          } else {
            attributes[k] = v;
            if (k != mapping::k_disabled_attribute) {
              add_attribute_patch(patch, k, v);
            }
          }
        }
      } else {
        attributes.clear();
        for (const auto& [k, v] : given) {
          if (!v.empty()) {
            attributes[k] = v;
          }
        }
        patch = merge_patch_between(d.tags, mapping::attributes_to_tags(attributes));
      }
      check_attributes(attributes);
      u.tags_patch = patch;
    }
    check_limit(attributes, type);
    bool enabled = !mapping::is_disabled(attributes);
    if (enabled != d.enabled) {
      u.enabled = enabled;
    }
    try {
      hub_->update(u);
    } catch (const Error& e) {
      if (e.reason() == Reason::precondition_failed) {
        fail(409, "VersionConflictException", fmt::format("Thing {} changed during the update; retry.", name));
      }
      throw;
    }
    store_->set_thing_type(name, type);
    return json::object();
  }

  json delete_thing(const HttpRequest& req, const Caller&) {
    const std::string name = req.match(1);
    auto d = find_device(name);
    if (!d) {
      return json::object();  // AWS: deleting a thing that does not exist succeeds
    }
    if (auto v = req.param("expectedVersion"); v && !v->empty() && *v != std::to_string(d->version)) {
      fail(409, "VersionConflictException",
           fmt::format("The version for thing {} does not match the expected version.", name));
    }
    hub_->remove(name, d->twin_etag);
    store_->forget_thing(name);
    return json::object();
  }

  json list_things(const HttpRequest& req, const Caller& c) {
    auto types = store_->thing_types_by_thing();
    const std::string attr_name = req.param("attributeName").value_or("");
    const std::string attr_value = req.param("attributeValue").value_or("");
    const bool prefix = req.param("usePrefixAttributeValue").value_or("") == "true";
    const std::string type_filter = req.param("thingTypeName").value_or("");
    std::vector<std::string> names;
    std::map<std::string, Device> by_name;
    for (auto& d : hub_->list({})) {
      if (!type_filter.empty() && (types.count(d.id) == 0 || types[d.id] != type_filter)) {
        continue;
      }
      if (!attr_name.empty()) {
        auto attrs = attributes_of(d);
        auto it = attrs.find(attr_name);
        if (it == attrs.end() || (prefix ? it->second.rfind(attr_value, 0) != 0 : it->second != attr_value)) {
          continue;
        }
      }
      names.push_back(d.id);
      by_name.emplace(d.id, std::move(d));
    }
    std::string next;
    json things = json::array();
    for (const auto& n : page_of(names, req, 50, 250, next)) {
      json t = thing_json(by_name.at(n), c, types.count(n) ? types[n] : std::string());
      t.erase("thingId");
      t.erase("defaultClientId");
      things.push_back(t);
    }
    json out = {{"things", things}};
    if (!next.empty()) {
      out["nextToken"] = next;
    }
    return out;
  }

  json create_thing_type(const HttpRequest& req, const Caller& c) {
    const std::string name = req.match(1);
    if (auto why = mapping::invalid_thing_name(name)) {
      invalid(*why);
    }
    if (store_->thing_type_created(name)) {
      fail(409, "ResourceAlreadyExistsException", fmt::format("Thing type {} already exists", name));
    }
    json body = parse_body(req);
    std::string description;
    if (body.contains("thingTypeProperties") && body["thingTypeProperties"].is_object()) {
      description = text_field(body["thingTypeProperties"], "thingTypeDescription");
    }
    store_->create_thing_type(name, description, now_ms());
    return {{"thingTypeName", name}, {"thingTypeArn", arn(c, "thingtype/" + name)}, {"thingTypeId", name}};
  }

  json describe_thing_type(const HttpRequest& req, const Caller& c) {
    const std::string name = req.match(1);
    auto created = store_->thing_type_created(name);
    if (!created) {
      not_found(fmt::format("Thing type {} does not exist", name));
    }
    return {{"thingTypeName", name},
            {"thingTypeId", name},
            {"thingTypeArn", arn(c, "thingtype/" + name)},
            {"thingTypeProperties", json::object()},
            {"thingTypeMetadata", {{"deprecated", false}, {"creationDate", epoch_seconds(*created)}}}};
  }

  // ---- certificates and principals ----------------------------------------------------------
  json register_certificate(const HttpRequest& req, const Caller& c, bool with_ca) {
    json body = parse_body(req);
    const std::string pem = text_field(body, "certificatePem");
    if (pem.empty()) {
      invalid("certificatePem is required");
    }
    x509::CertInfo info;
    try {
      info = x509::inspect(pem);
    } catch (const Error&) {
      fail(400, "CertificateValidationException", "The certificate is not a valid PEM certificate");
    }
    std::string status = text_field(body, "status");
    if (with_ca) {
      status = req.param("setAsActive").value_or("") == "true" ? "ACTIVE" : (status.empty() ? "INACTIVE" : status);
    }
    if (status.empty()) {
      status = "ACTIVE";
    }
    static const std::set<std::string> k_statuses = {"ACTIVE", "INACTIVE", "REVOKED", "PENDING_TRANSFER",
                                                     "REGISTER_INACTIVE", "PENDING_ACTIVATION"};
    if (k_statuses.count(status) == 0) {
      invalid(fmt::format("status '{}' is not a certificate status", status));
    }
    const std::string id = str::to_lower(info.thumbprints.sha256);
    if (store_->certificate(id)) {
      throw AwsFault(409, "ResourceAlreadyExistsException", "The certificate is already provisioned or registered",
                     {{"resourceId", id}, {"resourceArn", arn(c, "cert/" + id)}});
    }
    store_->put_certificate({id, pem, status, now_ms()});
    return {{"certificateArn", arn(c, "cert/" + id)}, {"certificateId", id}};
  }

  json create_keys_and_certificate(const HttpRequest& req, const Caller& c) {
    auto kc = x509::create_self_signed("AWS IoT Certificate", hub_->now(), std::chrono::hours(24 * 365 * 20));
    const std::string id = str::to_lower(x509::inspect(kc.cert_pem).thumbprints.sha256);
    const bool active = req.param("setAsActive").value_or("") == "true";
    store_->put_certificate({id, kc.cert_pem, active ? "ACTIVE" : "INACTIVE", now_ms()});
    return {{"certificateArn", arn(c, "cert/" + id)},
            {"certificateId", id},
            {"certificatePem", kc.cert_pem},
            {"keyPair", {{"PublicKey", public_key_pem(kc.key_pem)}, {"PrivateKey", kc.key_pem}}}};
  }

  awsx::CertificateRow certificate_or_404(const std::string& id) {
    auto cert = store_->certificate(id);
    if (!cert) {
      not_found(fmt::format("The certificate {} does not exist", id));
    }
    return *cert;
  }

  json describe_certificate(const HttpRequest& req, const Caller& c) {
    auto cert = certificate_or_404(req.match(1));
    auto info = x509::inspect(cert.pem);
    return {{"certificateDescription",
             {{"certificateArn", arn(c, "cert/" + cert.id)},
              {"certificateId", cert.id},
              {"status", cert.status},
              {"certificatePem", cert.pem},
              {"ownedBy", k_account},
              {"creationDate", epoch_seconds(cert.created_ms)},
              {"lastModifiedDate", epoch_seconds(cert.created_ms)},
              {"customerVersion", 1},
              {"certificateMode", "DEFAULT"},
              {"validity", {{"notBefore", epoch_seconds(to_ms(info.not_before))}, {"notAfter", epoch_seconds(to_ms(info.not_after))}}}}}};
  }

  json update_certificate(const HttpRequest& req, const Caller&) {
    auto cert = certificate_or_404(req.match(1));
    const std::string status = req.param("newStatus").value_or("");
    static const std::set<std::string> k_statuses = {"ACTIVE", "INACTIVE", "REVOKED", "PENDING_TRANSFER",
                                                     "REGISTER_INACTIVE", "PENDING_ACTIVATION"};
    if (k_statuses.count(status) == 0) {
      invalid(fmt::format("newStatus '{}' is not a certificate status", status));
    }
    cert.status = status;
    store_->put_certificate(cert);
    return json::object();
  }

  json delete_certificate(const HttpRequest& req, const Caller& c) {
    auto cert = certificate_or_404(req.match(1));
    const std::string principal = arn(c, "cert/" + cert.id);
    if (!store_->things_of_principal(principal).empty()) {
      fail(409, "DeleteConflictException", fmt::format("Things must be detached before deletion (arn: {})", principal));
    }
    if (cert.status == "ACTIVE") {
      fail(406, "CertificateStateException", "Certificate must be deactivated (not ACTIVE) before deletion.");
    }
    store_->delete_certificate(cert.id);
    return json::object();
  }

  json list_certificates(const HttpRequest&, const Caller& c) {
    json certs = json::array();
    for (const auto& cert : store_->certificates()) {
      certs.push_back({{"certificateArn", arn(c, "cert/" + cert.id)},
                       {"certificateId", cert.id},
                       {"status", cert.status},
                       {"certificateMode", "DEFAULT"},
                       {"creationDate", epoch_seconds(cert.created_ms)}});
    }
    return {{"certificates", certs}};
  }

  std::string principal_header(const HttpRequest& req) {
    auto p = req.header("x-amzn-principal");
    if (!p || p->empty()) {
      invalid("The x-amzn-principal header is required");
    }
    return *p;
  }

  // Principals are certificate ARNs of this account (Cognito ids are accepted as they are).
  std::string canonical_principal(const std::string& principal, const Caller& c) {
    auto pos = principal.find(":cert/");
    if (pos == std::string::npos) {
      return principal;
    }
    auto cert = certificate_or_404(principal.substr(pos + 6));
    return arn(c, "cert/" + cert.id);
  }

  json attach_thing_principal(const HttpRequest& req, const Caller& c) {
    Device d = thing_or_404(req.match(1));
    store_->attach_principal(d.id, canonical_principal(principal_header(req), c));
    return json::object();
  }

  json detach_thing_principal(const HttpRequest& req, const Caller&) {
    Device d = thing_or_404(req.match(1));
    store_->detach_principal(d.id, principal_header(req));
    return json::object();
  }

  json list_thing_principals(const HttpRequest& req, const Caller&) {
    Device d = thing_or_404(req.match(1));
    return {{"principals", store_->principals_of(d.id)}};
  }

  json list_principal_things(const HttpRequest& req, const Caller&) {
    return {{"things", store_->things_of_principal(principal_header(req))}};
  }

  // ---- policies ------------------------------------------------------------------------------
  json policy_json(const std::string& name, const std::string& document, std::int64_t created, const Caller& c) {
    return {{"policyName", name},
            {"policyArn", arn(c, "policy/" + name)},
            {"policyDocument", document},
            {"defaultVersionId", "1"},
            {"creationDate", epoch_seconds(created)},
            {"lastModifiedDate", epoch_seconds(created)},
            {"generationId", crypto::sha256_hex(name + document).substr(0, 16)}};
  }

  json create_policy(const HttpRequest& req, const Caller& c) {
    const std::string name = req.match(1);
    json body = parse_body(req);
    const std::string document = text_field(body, "policyDocument");
    try {
      if (!json::parse(document).is_object()) {
        throw json::type_error::create(302, "not an object", nullptr);
      }
    } catch (const json::exception&) {
      fail(400, "MalformedPolicyException", "The policy document is not a JSON object");
    }
    if (store_->policy(name)) {
      fail(409, "ResourceAlreadyExistsException", fmt::format("Policy {} already exists", name));
    }
    store_->put_policy(name, document, now_ms());
    return {{"policyName", name}, {"policyArn", arn(c, "policy/" + name)}, {"policyDocument", document}, {"policyVersionId", "1"}};
  }

  json get_policy(const HttpRequest& req, const Caller& c) {
    const std::string name = req.match(1);
    auto p = store_->policy(name);
    if (!p) {
      not_found(fmt::format("Policy {} does not exist", name));
    }
    return policy_json(name, p->first, p->second, c);
  }

  json delete_policy(const HttpRequest& req, const Caller&) {
    const std::string name = req.match(1);
    if (!store_->policy(name)) {
      not_found(fmt::format("Policy {} does not exist", name));
    }
    if (!store_->policy_targets(name).empty()) {
      fail(409, "DeleteConflictException", "The policy cannot be deleted as the policy is attached to one or more principals");
    }
    store_->delete_policy(name);
    return json::object();
  }

  json attach_policy(const HttpRequest& req, const Caller&, bool attach) {
    const std::string name = req.match(1);
    if (!store_->policy(name)) {
      not_found(fmt::format("Policy {} does not exist", name));
    }
    const std::string target = text_field(parse_body(req), "target");
    if (target.empty()) {
      invalid("target is required");
    }
    attach ? store_->attach_policy(name, target) : store_->detach_policy(name, target);
    return json::object();
  }

  json list_targets_for_policy(const HttpRequest& req, const Caller&) {
    const std::string name = req.match(1);
    if (!store_->policy(name)) {
      not_found(fmt::format("Policy {} does not exist", name));
    }
    return {{"targets", store_->policy_targets(name)}};
  }

  // ---- thing groups --------------------------------------------------------------------------
  awsx::GroupRow group_or_404(const std::string& name) {
    auto g = store_->group(name);
    if (!g) {
      not_found(fmt::format("Thing Group {} does not exist", name));
    }
    return *g;
  }

  std::vector<std::string> descendants(const std::string& group) {
    std::vector<std::string> out{group};
    auto all = store_->groups();
    for (std::size_t i = 0; i < out.size(); ++i) {
      for (const auto& g : all) {
        if (g.parent == out[i]) {
          out.push_back(g.name);
        }
      }
    }
    return out;
  }

  json create_thing_group(const HttpRequest& req, const Caller& c) {
    const std::string name = req.match(1);
    if (auto why = mapping::invalid_thing_name(name)) {
      invalid(*why);
    }
    json body = parse_body(req);
    awsx::GroupRow g;
    g.name = name;
    g.parent = text_field(body, "parentGroupName");
    if (body.contains("thingGroupProperties") && body["thingGroupProperties"].is_object()) {
      const json& p = body["thingGroupProperties"];
      g.description = text_field(p, "thingGroupDescription");
      if (p.contains("attributePayload") && p["attributePayload"].is_object()) {
        g.attributes = to_json(attribute_map(p["attributePayload"].value("attributes", json())));
      }
    }
    if (!g.parent.empty()) {
      group_or_404(g.parent);
    }
    if (auto existing = store_->group(name)) {
      if (existing->parent == g.parent && existing->description == g.description && existing->attributes == g.attributes) {
        return {{"thingGroupName", name}, {"thingGroupArn", arn(c, "thinggroup/" + name)}, {"thingGroupId", existing->id}};
      }
      fail(409, "ResourceAlreadyExistsException", fmt::format("Thing Group {} already exists with different properties", name));
    }
    g.id = str::hex(crypto::random_bytes(16)).substr(0, 32);
    g.created_ms = now_ms();
    store_->put_group(g);
    return {{"thingGroupName", name}, {"thingGroupArn", arn(c, "thinggroup/" + name)}, {"thingGroupId", g.id}};
  }

  json describe_thing_group(const HttpRequest& req, const Caller& c) {
    auto g = group_or_404(req.match(1));
    json root = json::array();
    for (std::string p = g.parent; !p.empty();) {
      auto parent = store_->group(p);
      if (!parent) {
        break;
      }
      root.insert(root.begin(), json{{"groupName", parent->name}, {"groupArn", arn(c, "thinggroup/" + parent->name)}});
      p = parent->parent;
    }
    json metadata = {{"creationDate", epoch_seconds(g.created_ms)}, {"rootToParentThingGroups", root}};
    if (!g.parent.empty()) {
      metadata["parentGroupName"] = g.parent;
    }
    json props = {{"attributePayload", {{"attributes", g.attributes}}}};
    if (!g.description.empty()) {
      props["thingGroupDescription"] = g.description;
    }
    return {{"thingGroupName", g.name}, {"thingGroupId", g.id},         {"thingGroupArn", arn(c, "thinggroup/" + g.name)},
            {"version", g.version},     {"thingGroupProperties", props}, {"thingGroupMetadata", metadata}};
  }

  json delete_thing_group(const HttpRequest& req, const Caller&) {
    const std::string name = req.match(1);
    if (!store_->group(name)) {
      return json::object();
    }
    if (descendants(name).size() > 1) {
      invalid(fmt::format("Cannot delete thing group : {} when it still has child groups", name));
    }
    store_->delete_group(name);
    return json::object();
  }

  json list_thing_groups(const HttpRequest& req, const Caller& c) {
    const std::string parent = req.param("parentGroup").value_or("");
    const std::string prefix = req.param("namePrefixFilter").value_or("");
    std::vector<std::string> names;
    for (const auto& g : store_->groups()) {
      if ((!parent.empty() && g.parent != parent) || g.name.rfind(prefix, 0) != 0) {
        continue;
      }
      names.push_back(g.name);
    }
    std::string next;
    json groups = json::array();
    for (const auto& n : page_of(names, req, 50, 250, next)) {
      groups.push_back({{"groupName", n}, {"groupArn", arn(c, "thinggroup/" + n)}});
    }
    json out = {{"thingGroups", groups}};
    if (!next.empty()) {
      out["nextToken"] = next;
    }
    return out;
  }

  std::pair<std::string, std::string> group_and_thing(const HttpRequest& req) {
    json body = parse_body(req);
    std::string group = text_field(body, "thingGroupName");
    if (group.empty()) {
      group = name_from_arn(text_field(body, "thingGroupArn"), "thinggroup");
    }
    std::string thing = text_field(body, "thingName");
    if (thing.empty()) {
      thing = name_from_arn(text_field(body, "thingArn"), "thing");
    }
    if (group.empty() || thing.empty()) {
      invalid("thingGroupName (or thingGroupArn) and thingName (or thingArn) are required");
    }
    group_or_404(group);
    thing_or_404(thing);
    return {group, thing};
  }

  json add_thing_to_group(const HttpRequest& req, const Caller&) {
    auto [group, thing] = group_and_thing(req);
    auto current = store_->groups_of(thing);
    if (std::find(current.begin(), current.end(), group) == current.end() && current.size() >= 10) {
      invalid(fmt::format("Thing {} is already in 10 thing groups, the maximum", thing));
    }
    store_->add_member(group, thing);
    return json::object();
  }

  json remove_thing_from_group(const HttpRequest& req, const Caller&) {
    auto [group, thing] = group_and_thing(req);
    store_->remove_member(group, thing);
    return json::object();
  }

  json list_things_in_group(const HttpRequest& req, const Caller&) {
    const std::string name = req.match(1);
    group_or_404(name);
    std::set<std::string> things;
    const bool recursive = req.param("recursive").value_or("") == "true";
    for (const auto& g : recursive ? descendants(name) : std::vector<std::string>{name}) {
      for (auto& t : store_->members(g)) {
        things.insert(std::move(t));
      }
    }
    std::string next;
    auto page = page_of(std::vector<std::string>(things.begin(), things.end()), req, 25, 250, next);
    json out = {{"things", page}};
    if (!next.empty()) {
      out["nextToken"] = next;
    }
    return out;
  }

  json list_groups_for_thing(const HttpRequest& req, const Caller& c) {
    Device d = thing_or_404(req.match(1));
    json groups = json::array();
    for (const auto& g : store_->groups_of(d.id)) {
      groups.push_back({{"groupName", g}, {"groupArn", arn(c, "thinggroup/" + g)}});
    }
    return {{"thingGroups", groups}};
  }

  // ---- shadows -------------------------------------------------------------------------------
  std::string shadow_name(const HttpRequest& req) {
    std::string name = req.param("name").value_or("");
    if (!name.empty()) {
      bool ok = name.size() <= 64 &&
                std::all_of(name.begin(), name.end(), [](char ch) {
                  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '$' || ch == ':' || ch == '_' || ch == '-';
                });
      if (!ok) {
        invalid(fmt::format("Shadow name '{}' is not valid", name));
      }
    }
    return name;
  }

  [[noreturn]] void no_shadow(const std::string& thing, const std::string& name) {
    not_found(fmt::format("No shadow exists with name: '{}'", name.empty() ? thing : name));
  }

  json shadow_document(const json& state, const json& metadata, std::int64_t version) {
    json st = json::object();
    for (const char* s : {"desired", "reported"}) {
      if (state.contains(s)) {
        st[s] = state[s];
      }
    }
    json delta = delta_of(st.value("desired", json::object()), st.value("reported", json::object()));
    if (!delta.empty()) {
      st["delta"] = delta;
    }
    return {{"state", st}, {"metadata", metadata}, {"version", version},
            {"timestamp", static_cast<std::int64_t>(epoch_seconds(now_ms()))}};
  }

  json aiot_state(const Device& d) {
    json state = json::object();
    if (!d.desired.empty()) {
      state["desired"] = d.desired;
    }
    if (!d.reported.empty()) {
      state["reported"] = d.reported;
    }
    return state;
  }

  json get_shadow(const HttpRequest& req, const Caller&) {
    const std::string thing = req.match(1);
    const std::string name = shadow_name(req);
    if (name == mapping::k_health_shadow_name) {
      auto d = find_device(thing);
      json state = d ? awsx::health_shadow_state(d->reported) : json();
      if (state.is_null()) {
        no_shadow(thing, name);
      }
      return shadow_document(state, metadata_of(state, epoch_seconds(to_ms(d->updated))), d->version);
    }
    if (name == mapping::k_shadow_name) {
      auto d = find_device(thing);
      if (!d || (d->desired.empty() && d->reported.empty())) {
        no_shadow(thing, name);
      }
      json state = aiot_state(*d);
      return shadow_document(state, metadata_of(state, epoch_seconds(to_ms(d->updated))), d->version);
    }
    auto row = store_->shadow(thing, name);
    if (!row) {
      no_shadow(thing, name);
    }
    return shadow_document(row->state, row->metadata, row->version);
  }

  json update_shadow(const HttpRequest& req, const Caller&) {
    const std::string thing = req.match(1);
    const std::string name = shadow_name(req);
    json body = parse_body(req);
    if (!body.contains("state") || !(body["state"].is_object() || body["state"].is_null())) {
      invalid("Missing required node: state");
    }
    const json state = body["state"].is_null() ? json::object() : body["state"];
    for (const auto& [k, v] : state.items()) {
      if (k != "desired" && k != "reported") {
        invalid(fmt::format("State contains an invalid node: '{}'", k));
      }
    }
    const bool versioned = body.contains("version") && body["version"].is_number_integer();
    const double ts = epoch_seconds(now_ms());
    std::int64_t version = 0;
    if (name == mapping::k_health_shadow_name) {
      // The device's own health report (design.md §5): properties.reported.aiot.health.
      auto d = find_device(thing);
      if (!d) {
        not_found(fmt::format("Thing {} cannot be found (the aiot-health shadow lives on the device)", thing));
      }
      if (versioned && body["version"].get<std::int64_t>() != d->version) {
        fail(409, "ConflictException", "Version conflict");
      }
      if (state.contains("desired")) {
        invalid("The aiot-health shadow holds the device's reported health only; it has no desired state");
      }
      if (state.contains("reported")) {
        if (!state["reported"].is_object() && !state["reported"].is_null()) {
          invalid("state.reported must be an object or null");
        }
        *d = hub_->patch_reported(thing, awsx::health_reported_patch(state["reported"]));
      }
      version = d->version;
    } else if (name == mapping::k_shadow_name) {
      auto d = find_device(thing);
      if (!d) {
        not_found(fmt::format("Thing {} cannot be found (the aiot shadow lives on the device)", thing));
      }
      if (versioned && body["version"].get<std::int64_t>() != d->version) {
        fail(409, "ConflictException", "Version conflict");
      }
      if (state.contains("desired")) {
        hub::DeviceUpdate u;
        u.id = thing;
        u.if_match = d->twin_etag;
        if (state["desired"].is_null()) {
          for (const auto& [k, v] : d->desired.items()) {
            u.desired_patch[k] = nullptr;
          }
        } else if (state["desired"].is_object()) {
          u.desired_patch = state["desired"];
        } else {
          invalid("state.desired must be an object or null");
        }
        try {
          *d = hub_->update(u);
        } catch (const Error& e) {
          if (e.reason() == Reason::precondition_failed) {
            fail(409, "ConflictException", "Version conflict");
          }
          throw;
        }
      }
      if (state.contains("reported")) {
        json patch = json::object();
        if (state["reported"].is_null()) {
          for (const auto& [k, v] : d->reported.items()) {
            patch[k] = nullptr;
          }
        } else if (state["reported"].is_object()) {
          patch = state["reported"];
        } else {
          invalid("state.reported must be an object or null");
        }
        if (!patch.empty()) {
          *d = hub_->patch_reported(thing, patch);
        }
      }
      version = d->version;
    } else {
      awsx::ShadowRow row = store_->shadow(thing, name).value_or(awsx::ShadowRow{});
      if (versioned && body["version"].get<std::int64_t>() != row.version) {
        fail(409, "ConflictException", "Version conflict");
      }
      for (const char* section : {"desired", "reported"}) {
        if (state.contains(section)) {
          patch_section(row.state, section, state[section]);
        }
      }
      row.metadata = metadata_of(row.state, ts);
      row.version += 1;
      row.updated_ms = now_ms();
      store_->put_shadow(thing, name, row);
      version = row.version;
    }
    json out = {{"state", state}, {"metadata", metadata_of(state, ts)}, {"version", version},
                {"timestamp", static_cast<std::int64_t>(ts)}};
    if (body.contains("clientToken")) {
      out["clientToken"] = body["clientToken"];
    }
    return out;
  }

  json delete_shadow(const HttpRequest& req, const Caller&) {
    const std::string thing = req.match(1);
    const std::string name = shadow_name(req);
    std::int64_t version = 0;
    if (name == mapping::k_health_shadow_name) {
      auto d = find_device(thing);
      if (!d || awsx::health_shadow_state(d->reported).is_null()) {
        no_shadow(thing, name);
      }
      *d = hub_->patch_reported(thing, awsx::health_reported_patch(nullptr));
      version = d->version;
    } else if (name == mapping::k_shadow_name) {
      auto d = find_device(thing);
      if (!d || (d->desired.empty() && d->reported.empty())) {
        no_shadow(thing, name);
      }
      if (!d->desired.empty()) {
        hub::DeviceUpdate u;
        u.id = thing;
        for (const auto& [k, v] : d->desired.items()) {
          u.desired_patch[k] = nullptr;
        }
        *d = hub_->update(u);
      }
      if (!d->reported.empty()) {
        json patch = json::object();
        for (const auto& [k, v] : d->reported.items()) {
          patch[k] = nullptr;
        }
        *d = hub_->patch_reported(thing, patch);
      }
      version = d->version;
    } else {
      auto row = store_->shadow(thing, name);
      if (!row) {
        no_shadow(thing, name);
      }
      store_->delete_shadow(thing, name);
      version = row->version;
    }
    return {{"version", version}, {"timestamp", static_cast<std::int64_t>(epoch_seconds(now_ms()))}};
  }

  json list_named_shadows(const HttpRequest& req, const Caller&) {
    const std::string thing = req.match(1);
    std::vector<std::string> names = store_->shadow_names(thing);
    std::erase_if(names, [](const std::string& n) { return n == mapping::k_shadow_name || n == mapping::k_health_shadow_name; });
    if (auto d = find_device(thing); d && (!d->desired.empty() || !d->reported.empty())) {
      names.push_back(std::string(mapping::k_shadow_name));
      if (!awsx::health_shadow_state(d->reported).is_null()) {
        names.push_back(std::string(mapping::k_health_shadow_name));
      }
      std::sort(names.begin(), names.end());
    }
    return {{"results", names}, {"timestamp", static_cast<std::int64_t>(epoch_seconds(now_ms()))}};
  }

  // ---- fleet indexing (SearchIndex on AWS_Things) ----------------------------------------------
  // One thing as the index holds it; `shadow` is an object here (matching), a string on the wire.
  std::optional<json> indexed_thing(const std::string& name) {
    auto d = find_device(name);
    if (!d) {
      return std::nullopt;
    }
    std::map<std::string, json> named;
    for (const auto& [shadow, row] : store_->shadows_of(name)) {
      if (shadow != mapping::k_shadow_name && shadow != mapping::k_health_shadow_name) {
        named[shadow] = awsx::index_shadow_entry(row.state.value("desired", json()), row.state.value("reported", json()),
                                                 row.version);
      }
    }
    if (!d->desired.empty() || !d->reported.empty()) {
      auto& entry = named[std::string(mapping::k_shadow_name)];
      entry = awsx::index_shadow_entry(d->desired, d->reported, d->version);
      // AWS's index returns the shadow document with its metadata: the listing's lastUpdated comes from it.
      entry["metadata"] = metadata_of(aiot_state(*d), epoch_seconds(to_ms(d->updated)));
    }
    if (json health = awsx::health_shadow_state(d->reported); !health.is_null()) {
      named[std::string(mapping::k_health_shadow_name)] = awsx::index_shadow_entry(nullptr, health["reported"], d->version);
    }
    json t = {{"thingName", d->id},
              {"thingId", d->generation_id},
              {"thingGroupNames", store_->groups_of(name)},
              {"attributes", to_json(attributes_of(*d))}};
    if (auto type = store_->thing_type_of(name); !type.empty()) {
      t["thingTypeName"] = type;
    }
    if (json shadow = awsx::index_shadow(named); !shadow.is_null()) {
      t["shadow"] = std::move(shadow);
    }
    return t;
  }

  // A Fleet Indexing query and the things it can match: the members of the groups it confines
  // itself to (ThingQuery::candidate_groups), else every device. Candidates are read in name order,
  // in chunks after a cursor, so a page costs its own things, not the whole group or hub.
  struct IndexQuery {
    awsx::ThingQuery query;
    bool every_device = true;
    std::vector<std::string> groups;  // the existing groups named, when !every_device
    bool may_match() const { return every_device || !groups.empty(); }
  };
  static constexpr std::size_t k_candidate_chunk = 256;

  IndexQuery index_query(const std::string& text) {
    std::optional<awsx::ThingQuery> parsed;
    try {
      parsed = awsx::ThingQuery::parse(text);
    } catch (const awsx::InvalidQuery& e) {
      fail(400, "InvalidQueryException", e.what());
    }
    IndexQuery q{std::move(*parsed), true, {}};
    const auto wanted = q.query.candidate_groups();
    q.every_device = wanted.empty();
    for (const auto& g : q.every_device ? std::vector<awsx::GroupRow>{} : store_->groups()) {
      if (std::find(wanted.begin(), wanted.end(), str::to_lower(g.name)) != wanted.end()) {
        q.groups.push_back(g.name);
      }
    }
    return q;
  }

  std::vector<std::string> candidates_after(const IndexQuery& q, const std::string& cursor) {
    return q.every_device ? store_->device_ids_after(cursor, k_candidate_chunk)
                          : store_->members_after(q.groups, cursor, k_candidate_chunk);
  }

  json search_index(const HttpRequest& req, const Caller&) {
    json body = parse_body(req);
    const std::string index = body.contains("indexName") ? text_field(body, "indexName") : "AWS_Things";
    if (index != "AWS_Things") {
      if (index == "AWS_ThingGroups") {
        invalid("The aiot emulator indexes things only (AWS_Things), not thing groups");
      }
      not_found(fmt::format("Index {} does not exist", index));
    }
    const std::string query_text = text_field(body, "queryString");
    if (query_text.empty()) {
      invalid("queryString is required");
    }
    // The model accepts 1..500; AWS answers at most 100 things a page whatever was asked.
    int page_size = k_search_page;
    if (body.contains("maxResults") && !body["maxResults"].is_null()) {
      if (!body["maxResults"].is_number_integer() || body["maxResults"].get<int>() < 1 ||
          body["maxResults"].get<int>() > 500) {
        invalid("maxResults must be a whole number from 1 to 500");
      }
      page_size = std::min(body["maxResults"].get<int>(), k_search_page);
    }
    std::string after;
    if (auto token = text_field(body, "nextToken"); !token.empty()) {
      try {
        after = crypto::base64_decode(token);
      } catch (const Error&) {
        invalid("the nextToken is not valid");
      }
    }
    const IndexQuery query = index_query(query_text);
    json things = json::array();
    std::string cursor = after;
    bool more = false;
    while (!more && query.may_match()) {
      auto batch = candidates_after(query, cursor);
      for (const auto& name : batch) {
        if (static_cast<int>(things.size()) >= page_size) {
          more = true;  // a candidate is left for the next page
          break;
        }
        cursor = name;
        auto t = indexed_thing(name);
        if (!t || !query.query.matches(*t)) {
          continue;
        }
        if (t->contains("shadow")) {
          (*t)["shadow"] = (*t)["shadow"].dump();  // the wire carries the shadows as a JSON string
        }
        things.push_back(std::move(*t));
      }
      if (batch.size() < k_candidate_chunk) {
        break;  // no more candidates
      }
      more = more || static_cast<int>(things.size()) >= page_size;
    }
    const std::string last = things.empty() ? std::string() : things.back()["thingName"].get<std::string>();
    json out = {{"things", things}, {"thingGroups", json::array()}};
    if (more && !last.empty()) {
      out["nextToken"] = token_for(last);
    }
    return out;
  }

  // GetBucketsAggregation with a terms aggregation: the things the query matches (totalCount) and,
  // per distinct value of the field, how many of them have it, most frequent first, at most
  // maxBuckets. AWS aggregates only indexed custom fields (else InvalidAggregationException); the
  // emulator aggregates any field of the document.
  json buckets_aggregation(const HttpRequest& req, const Caller&) {
    json body = parse_body(req);
    const std::string index = body.contains("indexName") ? text_field(body, "indexName") : "AWS_Things";
    if (index != "AWS_Things") {
      not_found(fmt::format("Index {} does not exist", index));
    }
    const std::string query_text = text_field(body, "queryString");
    const std::string field = text_field(body, "aggregationField");
    if (query_text.empty() || field.empty()) {
      invalid("queryString and aggregationField are required");
    }
    const json type = body.value("bucketsAggregationType", json::object());
    if (!type.is_object() || !type.contains("termsAggregation") || !type["termsAggregation"].is_object()) {
      invalid("bucketsAggregationType.termsAggregation is required");
    }
    int max_buckets = 10;  // AWS's default
    if (const auto& terms = type["termsAggregation"]; terms.contains("maxBuckets") && !terms["maxBuckets"].is_null()) {
      if (!terms["maxBuckets"].is_number_integer() || terms["maxBuckets"].get<int>() < 1 ||
          terms["maxBuckets"].get<int>() > 10000) {
        invalid("maxBuckets must be a whole number from 1 to 10000");
      }
      max_buckets = terms["maxBuckets"].get<int>();
    }
    const IndexQuery query = index_query(query_text);
    std::int64_t total = 0;
    std::map<std::string, std::int64_t> counts;
    std::string cursor;
    while (query.may_match()) {
      auto batch = candidates_after(query, cursor);
      for (const auto& name : batch) {
        cursor = name;
        auto t = indexed_thing(name);
        if (!t || !query.query.matches(*t)) {
          continue;
        }
        ++total;
        for (auto& v : awsx::field_values(*t, field)) {
          ++counts[v];
        }
      }
      if (batch.size() < k_candidate_chunk) {
        break;
      }
    }
    std::vector<std::pair<std::string, std::int64_t>> ranked(counts.begin(), counts.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    if (ranked.size() > static_cast<std::size_t>(max_buckets)) {
      ranked.resize(static_cast<std::size_t>(max_buckets));
    }
    json buckets = json::array();
    for (const auto& [key, n] : ranked) {
      buckets.push_back({{"keyValue", key}, {"count", n}});
    }
    return {{"totalCount", total}, {"buckets", buckets}};
  }

  // ---- jobs ----------------------------------------------------------------------------------
  awsx::Job job_or_404(const std::string& id) {
    auto job = store_->job(id);
    if (!job) {
      not_found(fmt::format("Job {} does not exist", id));
    }
    return *job;
  }

  // A CONTINUOUS job also targets things that joined its groups later.
  void add_new_members(awsx::Job& job) {
    if (job.target_selection != "CONTINUOUS" || job.status != "IN_PROGRESS") {
      return;
    }
    std::set<std::string> have;
    for (const auto& e : job.executions) {
      have.insert(e.thing);
    }
    for (const auto& target : resolve_targets(job.targets, false)) {
      if (have.insert(target).second) {
        awsx::JobExecution e;
        e.thing = target;
        job.executions.push_back(e);
      }
    }
    std::sort(job.executions.begin(), job.executions.end(),
              [](const awsx::JobExecution& a, const awsx::JobExecution& b) { return a.thing < b.thing; });
  }

  // The device side of a job over the local hub: reports from properties.reported.aiot.ota; a
  // rolled-out execution hands the document's aiot.model to properties.desired.aiot.model (once,
  // recorded in aws_job_deliveries); a queued execution that is canceled gives the previous model
  // back. Desired changes are collected and written in one transaction after the step.
  struct DeviceBridge {
    std::map<std::string, json> reports;
    std::vector<hub::DeviceUpdate> updates;
    std::vector<std::pair<std::string, std::string>> deliveries;  // thing, previous model (JSON)
  };

  awsx::DeviceSide device_side(const awsx::Job& job, DeviceBridge& bridge) {
    awsx::DeviceSide side;
    side.ota = [&bridge](const std::string& thing) -> std::optional<json> {
      auto it = bridge.reports.find(thing);
      return it == bridge.reports.end() ? std::nullopt : std::optional<json>(it->second);
    };
    auto model = awsx::document_model(job.document);
    if (!model) {
      return side;  // not an aiot document: devices are not told anything (UpdateJobExecution only)
    }
    side.deliver = [this, &bridge, &job, model](const std::string& thing) {
      if (store_->delivery(job.id, thing)) {
        return true;  // handed over by an earlier step
      }
      auto desired = store_->device_desired(thing);
      if (!desired) {
        return true;  // the device is gone: nothing to hand over, nothing will report
      }
      json previous = desired->contains("aiot") && (*desired)["aiot"].is_object() && (*desired)["aiot"].contains("model")
                          ? (*desired)["aiot"]["model"]
                          : json(nullptr);
      bridge.deliveries.emplace_back(thing, previous.dump());
      if (awsx::desired_has_model(*desired, *model)) {
        return false;
      }
      hub::DeviceUpdate u;
      u.id = thing;
      u.desired_patch = awsx::desired_model_patch(*model, previous);
      bridge.updates.push_back(std::move(u));
      return true;
    };
    side.withdraw = [this, &bridge, &job, model](const std::string& thing) {
      auto previous = store_->delivery(job.id, thing);
      auto desired = store_->device_desired(thing);
      if (!previous || !desired || !awsx::desired_has_model(*desired, *model)) {
        return;  // never handed over, or another job's model is there now
      }
      hub::DeviceUpdate u;
      u.id = thing;
      u.desired_patch = awsx::desired_model_patch(json::parse(*previous, nullptr, false), (*desired)["aiot"]["model"]);
      bridge.updates.push_back(std::move(u));
    };
    return side;
  }

  void commit_step(awsx::Job& job, DeviceBridge& bridge, bool changed) {
    // Devices first: if the store write fails, the next step re-delivers (idempotent), never the reverse.
    if (!bridge.updates.empty()) {
      hub_->update_many(bridge.updates);
    }
    if (changed || !bridge.deliveries.empty()) {
      awsx::Store::Txn txn(*store_);
      for (const auto& [thing, previous] : bridge.deliveries) {
        store_->put_delivery(job.id, thing, previous);
      }
      store_->put_job(job);
      txn.commit();
    }
  }

  awsx::Job advanced(const std::string& id) {
    awsx::Job job = job_or_404(id);
    if (job.status != "IN_PROGRESS") {
      return job;
    }
    add_new_members(job);
    // Only executions that can still move need their device's report: a job over 5,000 things of a
    // 10,000-device hub reads at most its own things, and fewer as they finish.
    std::vector<std::string> open;
    for (const auto& e : job.executions) {
      if (!awsx::is_terminal(e.status)) {
        open.push_back(e.thing);
      }
    }
    DeviceBridge bridge;
    bridge.reports = store_->ota_reports(open);
    bool changed = awsx::advance(job, now_ms(), device_side(job, bridge));
    commit_step(job, bridge, changed);
    return job;
  }

  std::vector<std::string> resolve_targets(const json& targets, bool strict) {
    std::set<std::string> things;
    for (const auto& t : targets) {
      const std::string target = t.is_string() ? t.get<std::string>() : std::string();
      if (target.find(":thinggroup/") != std::string::npos) {
        const std::string group = name_from_arn(target, "thinggroup");
        if (!store_->group(group)) {
          if (strict) {
            not_found(fmt::format("Thing group {} does not exist", group));
          }
          continue;
        }
        for (const auto& g : descendants(group)) {
          for (auto& m : store_->members(g)) {
            things.insert(std::move(m));
          }
        }
      } else if (target.find(":thing/") != std::string::npos) {
        const std::string thing = name_from_arn(target, "thing");
        if (!find_device(thing)) {
          if (strict) {
            not_found(fmt::format("Thing {} cannot be found.", thing));
          }
          continue;
        }
        things.insert(thing);
      } else if (strict) {
        invalid(fmt::format("target '{}' is not a thing or thing group ARN", target));
      }
    }
    return {things.begin(), things.end()};
  }

  static void check_range(const json& obj, const char* key, double lo, double hi, const char* where, bool required) {
    if (!obj.contains(key)) {
      if (required) {
        invalid(fmt::format("{}.{} is required", where, key));
      }
      return;
    }
    if (!obj[key].is_number() || obj[key].get<double>() < lo || obj[key].get<double>() > hi) {
      invalid(fmt::format("{}.{} must be a number from {} to {}", where, key, lo, hi));
    }
  }

  static void check_job_configs(const json& body) {
    if (body.contains("jobExecutionsRolloutConfig")) {
      const json& r = body["jobExecutionsRolloutConfig"];
      check_range(r, "maximumPerMinute", 1, 1000, "jobExecutionsRolloutConfig", false);
      if (r.contains("exponentialRate")) {
        const json& e = r["exponentialRate"];
        check_range(e, "baseRatePerMinute", 1, 1000, "exponentialRate", true);
        check_range(e, "incrementFactor", 1.1, 5, "exponentialRate", true);
        const json crit = e.value("rateIncreaseCriteria", json::object());
        if (crit.contains("numberOfNotifiedThings") == crit.contains("numberOfSucceededThings")) {
          invalid("rateIncreaseCriteria needs exactly one of numberOfNotifiedThings and numberOfSucceededThings");
        }
      }
    }
    if (body.contains("abortConfig")) {
      const json& a = body["abortConfig"];
      if (!a.contains("criteriaList") || !a["criteriaList"].is_array() || a["criteriaList"].empty()) {
        invalid("abortConfig.criteriaList needs at least one criterion");
      }
      for (const auto& c : a["criteriaList"]) {
        static const std::set<std::string> k_types = {"FAILED", "REJECTED", "TIMED_OUT", "ALL"};
        if (k_types.count(c.value("failureType", "")) == 0) {
          invalid("abortConfig failureType must be FAILED, REJECTED, TIMED_OUT or ALL");
        }
        if (c.value("action", "") != "CANCEL") {
          invalid("abortConfig action must be CANCEL");
        }
        check_range(c, "thresholdPercentage", 0, 100, "abortConfig", true);
        check_range(c, "minNumberOfExecutedThings", 1, 1e9, "abortConfig", true);
      }
    }
    if (body.contains("timeoutConfig")) {
      check_range(body["timeoutConfig"], "inProgressTimeoutInMinutes", 1, 10080, "timeoutConfig", false);
    }
  }

  json create_job(const HttpRequest& req, const Caller& c) {
    const std::string id = req.match(1);
    if (id.empty() || id.size() > 64 ||
        !std::all_of(id.begin(), id.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'; })) {
      invalid(fmt::format("jobId '{}' must be 1 to 64 letters, digits, _ or -", id));
    }
    json body = parse_body(req);
    if (store_->job(id)) {
      fail(409, "ResourceAlreadyExistsException", fmt::format("Job {} already exists", id));
    }
    if (!body.contains("targets") || !body["targets"].is_array() || body["targets"].empty()) {
      invalid("targets needs at least one thing or thing group ARN");
    }
    if (body.contains("documentSource") && !body.contains("document")) {
      invalid("documentSource (S3) is not supported by the aiot emulator: send the document itself");
    }
    const std::string document = text_field(body, "document");
    if (document.empty()) {
      invalid("document is required");
    }
    if (document.size() > 32768) {
      invalid("The job document is larger than 32768 characters");
    }
    try {
      const json parsed = json::parse(document);
      if (parsed.is_discarded()) {
        invalid("The job document is not valid JSON");
      }
    } catch (const json::exception&) {
      invalid("The job document is not valid JSON");
    }
    check_job_configs(body);
    awsx::Job job;
    job.id = id;
    job.arn = arn(c, "job/" + id);
    job.targets = body["targets"];
    job.document = document;
    job.description = text_field(body, "description");
    job.target_selection = body.value("targetSelection", "SNAPSHOT");
    if (job.target_selection != "SNAPSHOT" && job.target_selection != "CONTINUOUS") {
      invalid("targetSelection must be SNAPSHOT or CONTINUOUS");
    }
    job.rollout = body.value("jobExecutionsRolloutConfig", json());
    job.abort = body.value("abortConfig", json());
    job.timeout = body.value("timeoutConfig", json());
    job.retry = body.value("jobExecutionsRetryConfig", json());
    job.created_ms = job.updated_ms = now_ms();
    for (const auto& thing : resolve_targets(job.targets, true)) {
      awsx::JobExecution e;
      e.thing = thing;
      job.executions.push_back(e);
    }
    {
      std::vector<std::string> things;
      for (const auto& e : job.executions) {
        things.push_back(e.thing);
      }
      DeviceBridge bridge;
      bridge.reports = store_->ota_reports(things);
      awsx::advance(job, job.created_ms, device_side(job, bridge));
      commit_step(job, bridge, true);
    }
    json out = {{"jobArn", job.arn}, {"jobId", id}};
    if (!job.description.empty()) {
      out["description"] = job.description;
    }
    return out;
  }

  json job_json(const awsx::Job& job) {
    json j = {{"jobArn", job.arn},
              {"jobId", job.id},
              {"targetSelection", job.target_selection},
              {"status", job.status},
              {"forceCanceled", job.force_canceled},
              {"targets", job.targets},
              {"presignedUrlConfig", json::object()},
              {"createdAt", epoch_seconds(job.created_ms)},
              {"lastUpdatedAt", epoch_seconds(job.updated_ms)},
              {"jobProcessDetails", awsx::process_details(job)},
              {"isConcurrent", job.status == "IN_PROGRESS" &&
                                   std::any_of(job.executions.begin(), job.executions.end(),
                                               [](const awsx::JobExecution& e) { return e.status.empty(); })}};
    if (!job.description.empty()) {
      j["description"] = job.description;
    }
    if (!job.reason_code.empty()) {
      j["reasonCode"] = job.reason_code;
    }
    if (!job.comment.empty()) {
      j["comment"] = job.comment;
    }
    if (job.completed_ms > 0) {
      j["completedAt"] = epoch_seconds(job.completed_ms);
    }
    if (!job.rollout.is_null()) {
      j["jobExecutionsRolloutConfig"] = job.rollout;
    }
    if (!job.abort.is_null()) {
      j["abortConfig"] = job.abort;
    }
    if (!job.timeout.is_null()) {
      j["timeoutConfig"] = job.timeout;
    }
    if (!job.retry.is_null()) {
      j["jobExecutionsRetryConfig"] = job.retry;
    }
    return j;
  }

  json describe_job(const HttpRequest& req, const Caller&) { return {{"job", job_json(advanced(req.match(1)))}}; }

  json get_job_document(const HttpRequest& req, const Caller&) { return {{"document", job_or_404(req.match(1)).document}}; }

  json list_jobs(const HttpRequest& req, const Caller&) {
    const std::string status = req.param("status").value_or("");
    const std::string selection = req.param("targetSelection").value_or("");
    const std::string group = req.param("thingGroupName").value_or("");
    std::vector<std::string> ids;
    std::map<std::string, awsx::Job> jobs;
    for (const auto& id : store_->job_ids()) {
      auto job = advanced(id);
      if ((!status.empty() && job.status != status) || (!selection.empty() && job.target_selection != selection)) {
        continue;
      }
      if (!group.empty() &&
          std::none_of(job.targets.begin(), job.targets.end(), [&](const json& t) {
            return t.is_string() && name_from_arn(t.get<std::string>(), "thinggroup") == group;
          })) {
        continue;
      }
      ids.push_back(id);
      jobs.emplace(id, std::move(job));
    }
    std::sort(ids.begin(), ids.end());
    std::string next;
    json out_jobs = json::array();
    for (const auto& id : page_of(ids, req, 50, 250, next)) {
      const auto& job = jobs.at(id);
      json j = {{"jobArn", job.arn}, {"jobId", job.id}, {"targetSelection", job.target_selection}, {"status", job.status},
                {"createdAt", epoch_seconds(job.created_ms)}, {"lastUpdatedAt", epoch_seconds(job.updated_ms)}};
      if (job.completed_ms > 0) {
        j["completedAt"] = epoch_seconds(job.completed_ms);
      }
      out_jobs.push_back(j);
    }
    json out = {{"jobs", out_jobs}};
    if (!next.empty()) {
      out["nextToken"] = next;
    }
    return out;
  }

  static json execution_summary(const awsx::JobExecution& e) {
    json s = {{"status", e.status},
              {"queuedAt", epoch_seconds(e.queued_ms)},
              {"lastUpdatedAt", epoch_seconds(e.updated_ms)},
              {"executionNumber", e.execution_number},
              {"retryAttempt", 0}};
    if (e.started_ms > 0) {
      s["startedAt"] = epoch_seconds(e.started_ms);
    }
    return s;
  }

  json list_job_executions(const HttpRequest& req, const Caller& c) {
    auto job = advanced(req.match(1));
    const std::string status = req.param("status").value_or("");
    std::vector<std::string> names;
    std::map<std::string, const awsx::JobExecution*> by_thing;
    for (const auto& e : job.executions) {
      if (e.status.empty() || (!status.empty() && e.status != status)) {
        continue;
      }
      names.push_back(e.thing);
      by_thing[e.thing] = &e;
    }
    std::string next;
    json summaries = json::array();
    for (const auto& n : page_of(names, req, 50, 250, next)) {
      summaries.push_back({{"thingArn", arn(c, "thing/" + n)}, {"jobExecutionSummary", execution_summary(*by_thing.at(n))}});
    }
    json out = {{"executionSummaries", summaries}};
    if (!next.empty()) {
      out["nextToken"] = next;
    }
    return out;
  }

  json list_job_executions_for_thing(const HttpRequest& req, const Caller&) {
    Device d = thing_or_404(req.match(1));
    json summaries = json::array();
    for (const auto& id : store_->job_ids()) {
      auto job = advanced(id);
      for (const auto& e : job.executions) {
        if (e.thing == d.id && !e.status.empty()) {
          summaries.push_back({{"jobId", id}, {"jobExecutionSummary", execution_summary(e)}});
        }
      }
    }
    return {{"executionSummaries", summaries}};
  }

  json describe_job_execution(const HttpRequest& req, const Caller& c) {
    const std::string thing = req.match(1);
    auto job = advanced(req.match(2));
    for (const auto& e : job.executions) {
      if (e.thing == thing && !e.status.empty()) {
        json details = json::object();
        for (const auto& [k, v] : e.status_details.items()) {
          details[k] = v.is_string() ? v.get<std::string>() : v.dump();
        }
        json x = execution_summary(e);
        x.erase("retryAttempt");
        x["jobId"] = job.id;
        x["thingArn"] = arn(c, "thing/" + thing);
        x["versionNumber"] = e.execution_number;
        x["statusDetails"] = {{"detailsMap", details}};
        return {{"execution", x}};
      }
    }
    not_found(fmt::format("Job execution of {} on {} does not exist", job.id, thing));
  }

  json cancel_job(const HttpRequest& req, const Caller&) {
    auto job = advanced(req.match(1));
    json body = parse_body(req);
    const bool force = req.param("force").value_or("") == "true";
    if (job.status == "COMPLETED") {
      fail(409, "InvalidStateTransitionException", fmt::format("Job {} is COMPLETED and cannot be canceled", job.id));
    }
    if (job.status != "CANCELED" || force) {
      DeviceBridge bridge;
      auto side = device_side(job, bridge);
      awsx::cancel(job, now_ms(), text_field(body, "reasonCode"), text_field(body, "comment"), force, side.withdraw);
      commit_step(job, bridge, true);
    }
    json out = {{"jobArn", job.arn}, {"jobId", job.id}};
    if (!job.description.empty()) {
      out["description"] = job.description;
    }
    return out;
  }

  json delete_job(const HttpRequest& req, const Caller&) {
    auto job = job_or_404(req.match(1));
    if (job.status == "IN_PROGRESS" && req.param("force").value_or("") != "true") {
      fail(409, "InvalidStateTransitionException", fmt::format("Job {} is IN_PROGRESS: cancel it first or pass force", job.id));
    }
    awsx::Store::Txn txn(*store_);
    store_->delete_job(job.id);
    txn.commit();
    return json::object();
  }

  // iot-jobs-data UpdateJobExecution: a device (or a script) moves its own execution.
  json update_job_execution(const HttpRequest& req, const Caller&) {
    const std::string thing = req.match(1);
    auto job = advanced(req.match(2));
    json body = parse_body(req);
    const std::string status = text_field(body, "status");
    static const std::set<std::string> k_statuses = {"IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED", "REMOVED", "CANCELED"};
    if (k_statuses.count(status) == 0) {
      invalid(fmt::format("status '{}' is not a job execution status a device can set", status));
    }
    for (auto& e : job.executions) {
      if (e.thing != thing || e.status.empty()) {
        continue;
      }
      if (awsx::is_terminal(e.status)) {
        fail(410, "TerminalStateException", fmt::format("Job execution {} of {} is already {}", job.id, thing, e.status));
      }
      const std::int64_t now = now_ms();
      if (e.started_ms == 0) {
        e.started_ms = now;
      }
      e.status = status;
      e.updated_ms = now;
      if (body.contains("statusDetails") && body["statusDetails"].is_object()) {
        e.status_details = body["statusDetails"];
      }
      ++e.execution_number;
      const json state = {{"status", e.status}, {"versionNumber", e.execution_number}};
      DeviceBridge bridge;  // no reports: the device's own word counts in this step
      awsx::advance(job, now, device_side(job, bridge));
      commit_step(job, bridge, true);
      return {{"executionState", state}};
    }
    not_found(fmt::format("Job execution of {} on {} does not exist", job.id, thing));
  }

  // ---- credentials ---------------------------------------------------------------------------
  void load_or_make_credentials() {
    auto key_file = options_.hub_path;
    key_file += ".aws-key";
    std::error_code ec;
    if (std::filesystem::exists(key_file, ec)) {
      auto j = json::parse(fs::read_file(key_file));
      credentials_ = {j.at("aws_access_key_id").get<std::string>(), j.at("aws_secret_access_key").get<std::string>(), ""};
      return;
    }
    credentials_ = {random_key_id(), crypto::base64_encode(crypto::random_bytes(30)), ""};
    json j = {{"aws_access_key_id", credentials_.access_key_id}, {"aws_secret_access_key", credentials_.secret_access_key}};
    fs::write_atomic(key_file, j.dump(2) + "\n", fs::Mode::secret);
  }

  const ServeOptions& options_;
  LogSink log_;
  std::unique_ptr<hub::local::LocalHub> hub_;
  std::unique_ptr<awsx::Store> store_;
  sigv4::Credentials credentials_;
  std::mutex mutex_;
};

void AwsEmulator::write_connection_file(const std::string& base_url) {
  if (log_) {
    log_(fmt::format("aiot hub serve (aws): access key {} (profile {} in --credentials-out)", credentials_.access_key_id,
                     k_profile));
  }
  if (options_.credentials_out.empty()) {
    return;
  }
  std::string text = fmt::format(
      "# aiot hub serve --api aws on {} (hub {})\n# AWS_SHARED_CREDENTIALS_FILE=this-file AWS_PROFILE={} "
      "aws --endpoint-url {} iot list-things\n",
      base_url, options_.hub_path.string(), k_profile, base_url);
  text += aws_auth::credentials_section(k_profile, credentials_, k_default_region);
  fs::write_atomic(options_.credentials_out, text, fs::Mode::secret);
}

DialectHooks AwsEmulator::hooks() {
  DialectHooks h;
  h.throttled = [](const HttpRequest& req, HttpResponse& res) {
    // The control plane answers throttling with 400; the data planes with 429 (reference §3.2).
    set_error(res, is_data_path(req.path) ? 429 : 400, "ThrottlingException", "Rate exceeded");
  };
  h.unavailable = [](const HttpRequest&, HttpResponse& res) {
    set_error(res, 503, "ServiceUnavailableException", "Service Unavailable");
  };
  h.no_route = [](const HttpRequest& req, HttpResponse& res) {
    set_error(res, 404, "UnknownOperationException",
              fmt::format("The aiot AWS emulator has no operation for {} {}", req.method, req.path));
  };
  h.exception = [](const HttpRequest&, HttpResponse& res, std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const AwsFault& f) {
      set_error(res, f.status, f.code, f.message, f.extra);
    } catch (const Error& e) {
      switch (e.reason()) {
        case Reason::not_found:
          set_error(res, 404, "ResourceNotFoundException", e.message());
          return;
        case Reason::conflict:
          set_error(res, 409, "ResourceAlreadyExistsException", e.message());
          return;
        case Reason::precondition_failed:
          set_error(res, 409, "VersionConflictException", e.message());
          return;
        case Reason::invalid:
          set_error(res, 400, "InvalidRequestException", e.message());
          return;
        default:
          break;
      }
      if (e.code() == ExitCode::usage) {
        set_error(res, 400, "InvalidRequestException", e.message());
      } else if (e.code() == ExitCode::unavailable) {
        set_error(res, 503, "ServiceUnavailableException", e.message());
      } else {
        set_error(res, 500, "InternalFailureException", e.message());
      }
    } catch (const std::exception& e) {
      set_error(res, 500, "InternalFailureException", e.what());
    } catch (...) {
      set_error(res, 500, "InternalFailureException", "internal error");
    }
  };
  return h;
}

void AwsEmulator::routes(HttpServer& s) {
  using P = Plane;
  auto bind = [this](auto method) {
    return [this, method](const HttpRequest& req, const Caller& c) { return (this->*method)(req, c); };
  };
  const std::string name = "([^/]+)";
  // Things and thing types.
  add(s, "GET", "/things", "ListThings", P::control, bind(&AwsEmulator::list_things));
  add(s, "POST", "/things/" + name, "CreateThing", P::control, bind(&AwsEmulator::create_thing));
  add(s, "GET", "/things/" + name, "DescribeThing", P::control, bind(&AwsEmulator::describe_thing));
  add(s, "PATCH", "/things/" + name, "UpdateThing", P::control, bind(&AwsEmulator::update_thing));
  add(s, "DELETE", "/things/" + name, "DeleteThing", P::control, bind(&AwsEmulator::delete_thing));
  add(s, "POST", "/thing-types/" + name, "CreateThingType", P::control, bind(&AwsEmulator::create_thing_type));
  add(s, "GET", "/thing-types/" + name, "DescribeThingType", P::control, bind(&AwsEmulator::describe_thing_type));
  // Certificates, principals, policies.
  add(s, "POST", "/certificate/register-no-ca", "RegisterCertificateWithoutCA", P::control,
      [this](const HttpRequest& r, const Caller& c) { return register_certificate(r, c, false); });
  add(s, "POST", "/certificate/register", "RegisterCertificate", P::control,
      [this](const HttpRequest& r, const Caller& c) { return register_certificate(r, c, true); });
  add(s, "POST", "/keys-and-certificate", "CreateKeysAndCertificate", P::control,
      bind(&AwsEmulator::create_keys_and_certificate));
  add(s, "GET", "/certificates", "ListCertificates", P::control, bind(&AwsEmulator::list_certificates));
  add(s, "GET", "/certificates/" + name, "DescribeCertificate", P::control, bind(&AwsEmulator::describe_certificate));
  add(s, "PUT", "/certificates/" + name, "UpdateCertificate", P::control, bind(&AwsEmulator::update_certificate));
  add(s, "DELETE", "/certificates/" + name, "DeleteCertificate", P::control, bind(&AwsEmulator::delete_certificate));
  add(s, "PUT", "/things/" + name + "/principals", "AttachThingPrincipal", P::control,
      bind(&AwsEmulator::attach_thing_principal));
  add(s, "DELETE", "/things/" + name + "/principals", "DetachThingPrincipal", P::control,
      bind(&AwsEmulator::detach_thing_principal));
  add(s, "GET", "/things/" + name + "/principals", "ListThingPrincipals", P::control,
      bind(&AwsEmulator::list_thing_principals));
  add(s, "GET", "/principals/things", "ListPrincipalThings", P::control, bind(&AwsEmulator::list_principal_things));
  add(s, "POST", "/policies/" + name, "CreatePolicy", P::control, bind(&AwsEmulator::create_policy));
  add(s, "GET", "/policies/" + name, "GetPolicy", P::control, bind(&AwsEmulator::get_policy));
  add(s, "DELETE", "/policies/" + name, "DeletePolicy", P::control, bind(&AwsEmulator::delete_policy));
  add(s, "PUT", "/target-policies/" + name, "AttachPolicy", P::control,
      [this](const HttpRequest& r, const Caller& c) { return attach_policy(r, c, true); });
  add(s, "POST", "/target-policies/" + name, "DetachPolicy", P::control,
      [this](const HttpRequest& r, const Caller& c) { return attach_policy(r, c, false); });
  add(s, "POST", "/policy-targets/" + name, "ListTargetsForPolicy", P::control,
      bind(&AwsEmulator::list_targets_for_policy));
  // Thing groups.
  add(s, "GET", "/thing-groups", "ListThingGroups", P::control, bind(&AwsEmulator::list_thing_groups));
  add(s, "PUT", "/thing-groups/addThingToThingGroup", "AddThingToThingGroup", P::control,
      bind(&AwsEmulator::add_thing_to_group));
  add(s, "PUT", "/thing-groups/removeThingFromThingGroup", "RemoveThingFromThingGroup", P::control,
      bind(&AwsEmulator::remove_thing_from_group));
  add(s, "POST", "/thing-groups/" + name, "CreateThingGroup", P::control, bind(&AwsEmulator::create_thing_group));
  add(s, "GET", "/thing-groups/" + name, "DescribeThingGroup", P::control, bind(&AwsEmulator::describe_thing_group));
  add(s, "DELETE", "/thing-groups/" + name, "DeleteThingGroup", P::control, bind(&AwsEmulator::delete_thing_group));
  add(s, "GET", "/thing-groups/" + name + "/things", "ListThingsInThingGroup", P::control,
      bind(&AwsEmulator::list_things_in_group));
  add(s, "GET", "/things/" + name + "/thing-groups", "ListThingGroupsForThing", P::control,
      bind(&AwsEmulator::list_groups_for_thing));
  // Fleet Indexing.
  add(s, "POST", "/indices/search", "SearchIndex", P::control, bind(&AwsEmulator::search_index));
  add(s, "POST", "/indices/buckets", "GetBucketsAggregation", P::control, bind(&AwsEmulator::buckets_aggregation));
  // Jobs.
  add(s, "GET", "/jobs", "ListJobs", P::control, bind(&AwsEmulator::list_jobs));
  add(s, "PUT", "/jobs/" + name, "CreateJob", P::control, bind(&AwsEmulator::create_job));
  add(s, "GET", "/jobs/" + name, "DescribeJob", P::control, bind(&AwsEmulator::describe_job));
  add(s, "DELETE", "/jobs/" + name, "DeleteJob", P::control, bind(&AwsEmulator::delete_job));
  add(s, "PUT", "/jobs/" + name + "/cancel", "CancelJob", P::control, bind(&AwsEmulator::cancel_job));
  add(s, "GET", "/jobs/" + name + "/things", "ListJobExecutionsForJob", P::control,
      bind(&AwsEmulator::list_job_executions));
  add(s, "GET", "/jobs/" + name + "/job-document", "GetJobDocument", P::control, bind(&AwsEmulator::get_job_document));
  add(s, "GET", "/things/" + name + "/jobs", "ListJobExecutionsForThing", P::control,
      bind(&AwsEmulator::list_job_executions_for_thing));
  add(s, "GET", "/things/" + name + "/jobs/" + name, "DescribeJobExecution", P::control,
      bind(&AwsEmulator::describe_job_execution));
  add(s, "POST", "/things/" + name + "/jobs/" + name, "UpdateJobExecution", P::jobs_data,
      bind(&AwsEmulator::update_job_execution));
  // Endpoint discovery: one port serves every plane.
  add(s, "GET", "/endpoint", "DescribeEndpoint", P::control, [&s](const HttpRequest&, const Caller&) {
    std::string url = s.base_url();
    return json{{"endpointAddress", url.substr(url.find("://") + 3)}};
  });
  // Device shadows (iot-data).
  add(s, "GET", "/things/" + name + "/shadow", "GetThingShadow", P::data, bind(&AwsEmulator::get_shadow));
  add(s, "POST", "/things/" + name + "/shadow", "UpdateThingShadow", P::data, bind(&AwsEmulator::update_shadow));
  add(s, "DELETE", "/things/" + name + "/shadow", "DeleteThingShadow", P::data, bind(&AwsEmulator::delete_shadow));
  add(s, "GET", "/api/things/shadow/ListNamedShadowsForThing/" + name, "ListNamedShadowsForThing", P::data,
      bind(&AwsEmulator::list_named_shadows));
}

const std::set<std::string>& known_operations() {
  static const std::set<std::string> ops = {
      "ListThings", "CreateThing", "DescribeThing", "UpdateThing", "DeleteThing", "CreateThingType",
      "DescribeThingType", "RegisterCertificateWithoutCA", "RegisterCertificate", "CreateKeysAndCertificate",
      "ListCertificates", "DescribeCertificate", "UpdateCertificate", "DeleteCertificate", "AttachThingPrincipal",
      "DetachThingPrincipal", "ListThingPrincipals", "ListPrincipalThings", "CreatePolicy", "GetPolicy", "DeletePolicy",
      "AttachPolicy", "DetachPolicy", "ListTargetsForPolicy", "ListThingGroups", "AddThingToThingGroup",
      "RemoveThingFromThingGroup", "CreateThingGroup", "DescribeThingGroup", "DeleteThingGroup",
      "ListThingsInThingGroup", "ListThingGroupsForThing", "ListJobs", "CreateJob", "DescribeJob", "DeleteJob",
      "CancelJob", "ListJobExecutionsForJob", "GetJobDocument", "ListJobExecutionsForThing", "DescribeJobExecution",
      "UpdateJobExecution", "DescribeEndpoint", "GetThingShadow", "UpdateThingShadow", "DeleteThingShadow",
      "ListNamedShadowsForThing", "SearchIndex", "GetBucketsAggregation"};
  return ops;
}

}  // namespace

int serve_aws(const ServeOptions& options, Clock clock, LogSink log, std::atomic<bool>& stop_flag) {
  for (const auto& [op, rate] : options.throttle.per_second) {
    if (known_operations().count(op) == 0 && log) {
      log(fmt::format("aiot hub serve (aws): --throttle class '{}' is not an AWS operation this emulator serves "
                      "(e.g. CreateThing, DescribeThing, ListThings, UpdateThingShadow); it limits nothing",
                      op));
    }
  }
  AwsEmulator emulator(options, std::move(clock), log);
  Governor governor(options.throttle, options.faults, options.seed);
  HttpServer server(options, log, governor, emulator.hooks());
  emulator.routes(server);
  server.bind();
  emulator.write_connection_file(server.base_url());
  return server.run(stop_flag);
}

}  // namespace aiot::emulator
