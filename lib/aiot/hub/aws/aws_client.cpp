#include "aiot/hub/aws/aws_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "aiot/core/crypto.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::hub::aws {

namespace {

constexpr double k_unknown_control_rate = 10.0;  // operations the reference gives no TPS for
constexpr double k_data_plane_rate = 100.0;      // shadows: no account TPS in the reference either

constexpr std::array k_rates{
    Rate{"CreateThing", 100},          Rate{"DescribeThing", 350},       Rate{"UpdateThing", 100},
    Rate{"DeleteThing", 100},          Rate{"ListThings", 10},           Rate{"ListThingPrincipals", 10},
    Rate{"AttachThingPrincipal", 100}, Rate{"DetachThingPrincipal", 100}, Rate{"CreateThingGroup", 25},
    Rate{"AddThingToThingGroup", 100}, Rate{"ListThingsInThingGroup", 25}, Rate{"DescribeThingGroup", 100},
    Rate{"ListThingGroups", 10},       Rate{"CreateDynamicThingGroup", 5}, Rate{"UpdateDynamicThingGroup", 5},
    Rate{"GetThingShadow", k_data_plane_rate}, Rate{"UpdateThingShadow", k_data_plane_rate},
    Rate{"DeleteThingShadow", k_data_plane_rate},
};

const std::vector<std::string>& all_operations() {
  static const std::vector<std::string> ops = {
      "CreateThing", "DescribeThing", "UpdateThing", "DeleteThing", "ListThings", "DescribeThingType",
      "CreateThingType", "RegisterCertificateWithoutCA", "CreateKeysAndCertificate", "DescribeCertificate", "UpdateCertificate",
      "DeleteCertificate", "AttachThingPrincipal", "DetachThingPrincipal", "ListThingPrincipals", "GetPolicy",
      "CreatePolicy", "AttachPolicy", "CreateThingGroup", "DescribeThingGroup", "DeleteThingGroup",
      "AddThingToThingGroup", "RemoveThingFromThingGroup", "ListThingsInThingGroup", "DescribeEndpoint",
      "CreateJob", "DescribeJob", "ListJobExecutionsForJob", "CancelJob", "ListJobs", "SearchIndex"};
  return ops;
}

const std::vector<std::string>& data_operations() {
  static const std::vector<std::string> ops = {"GetThingShadow", "UpdateThingShadow", "DeleteThingShadow"};
  return ops;
}

std::string json_string(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) {
    return j[key].get<std::string>();
  }
  return {};
}

json parse_body(const http::Response& r) {
  if (r.body.empty()) {
    return json::object();
  }
  try {
    return json::parse(r.body);
  } catch (const json::exception&) {
    return json::object();
  }
}

bool is_auth_code(std::string_view code) {
  static constexpr std::array<std::string_view, 9> k_codes{
      "UnauthorizedException",      "ForbiddenException",     "InvalidSignatureException",
      "UnrecognizedClientException", "AccessDeniedException",  "ExpiredTokenException",
      "SignatureDoesNotMatch",       "InvalidClientTokenId",   "MissingAuthenticationTokenException"};
  return std::find(k_codes.begin(), k_codes.end(), code) != k_codes.end();
}

// scheme://authority/path?query -> authority and path?query.
std::pair<std::string, std::string> split_url(const std::string& url) {
  auto scheme_end = url.find("://");
  std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto path_start = url.find('/', start);
  if (path_start == std::string::npos) {
    auto q = url.find('?', start);
    std::string authority = url.substr(start, q == std::string::npos ? std::string::npos : q - start);
    return {authority, "/" + (q == std::string::npos ? std::string() : url.substr(q))};
  }
  return {url.substr(start, path_start - start), url.substr(path_start)};
}

std::string encode_query(const AwsClient::Query& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    out += out.empty() ? '?' : '&';
    out += http::url_encode(k);
    out += '=';
    out += http::url_encode(v);
  }
  return out;
}

json attribute_payload(const std::map<std::string, std::string>& attributes) {
  json attrs = json::object();
  for (const auto& [k, v] : attributes) {
    attrs[k] = v;
  }
  return {{"attributes", attrs}};
}

}  // namespace

// ---- errors ----------------------------------------------------------------------------------

AwsError parse_error(const http::Response& response) {
  AwsError e;
  e.status = response.status;
  if (auto t = http::find_header(response.headers, "x-amzn-ErrorType"); t && !t->empty()) {
    e.code = t->substr(0, t->find(':'));
  }
  json body = parse_body(response);
  if (e.code.empty()) {
    std::string type = json_string(body, "__type");
    if (type.empty()) {
      type = json_string(body, "code");
    }
    if (type.empty()) {
      type = json_string(body, "Code");
    }
    auto hash = type.rfind('#');
    e.code = hash == std::string::npos ? type : type.substr(hash + 1);
    e.code = e.code.substr(0, e.code.find(':'));
  }
  for (const char* key : {"message", "Message", "errorMessage"}) {
    e.message = json_string(body, key);
    if (!e.message.empty()) {
      break;
    }
  }
  if (e.message.empty() && body.empty() && !response.body.empty()) {
    e.message = std::string(str::trim(response.body.substr(0, 200)));
  }
  return e;
}

bool is_throttling_code(std::string_view code) {
  static constexpr std::array<std::string_view, 10> k_codes{
      "Throttling",          "ThrottlingException",         "ThrottledException",  "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
      "RequestLimitExceeded", "LimitExceededException",     "SlowDown"};
  return std::find(k_codes.begin(), k_codes.end(), code) != k_codes.end();
}

http::Verdict classify(const http::Response& response) {
  if (response.status >= 400) {
    auto e = parse_error(response);
    if (is_throttling_code(e.code)) {
      return http::Verdict::retry;
    }
    if (e.code == "RequestTimeout" || e.code == "PriorRequestNotComplete" || e.code == "RequestTimeoutException") {
      return http::Verdict::retry;
    }
  }
  return http::default_classify(response);
}

Error to_error(const http::Response& response, std::string_view operation) {
  AwsError e = parse_error(response);
  std::string what = e.code.empty() ? fmt::format("HTTP {}", e.status) : e.code;
  std::string message = fmt::format("AWS IoT {}: {}{}{} (HTTP {})", operation, what, e.message.empty() ? "" : ": ",
                                    e.message, e.status);
  if (e.status == 401 || e.status == 403 || is_auth_code(e.code)) {
    return Error::auth(message,
                       "Check the AWS credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE) and region; against "
                       "'aiot hub serve --api aws', use the keys it wrote with --credentials-out.");
  }
  if (e.status == 404 || e.code == "ResourceNotFoundException") {
    return Error::not_found(message);
  }
  if (e.code == "VersionConflictException") {
    return Error::precondition(message, "Read it again and retry.");
  }
  if (e.status == 409) {
    return Error::conflict(message);
  }
  if (is_throttling_code(e.code) || e.status == 429 || e.status >= 500 || e.status == 0) {
    return Error::unavailable(message, "AWS IoT is throttling or failing; try again later.");
  }
  if (e.status == 400) {
    return Error::usage(message);
  }
  return Error::failure(message);
}

// ---- configuration ---------------------------------------------------------------------------

std::span<const Rate> default_rates() { return k_rates; }

double default_rate(std::string_view operation) {
  for (const auto& r : k_rates) {
    if (operation == r.operation) {
      return r.per_second;
    }
  }
  return k_unknown_control_rate;
}

std::string default_control_endpoint(std::string_view region) {
  bool china = region.rfind("cn-", 0) == 0;
  return fmt::format("https://iot.{}.amazonaws.com{}", region, china ? ".cn" : "");
}

json Shadow::desired() const {
  if (document.contains("state") && document["state"].contains("desired") && document["state"]["desired"].is_object()) {
    return document["state"]["desired"];
  }
  return json::object();
}

json Shadow::reported() const {
  if (document.contains("state") && document["state"].contains("reported") &&
      document["state"]["reported"].is_object()) {
    return document["state"]["reported"];
  }
  return json::object();
}

// ---- the client ------------------------------------------------------------------------------

AwsClient::AwsClient(std::shared_ptr<http::Transport> transport, Config config)
    : transport_(std::move(transport)), config_(std::move(config)) {
  if (!config_.now) {
    config_.now = [] { return std::chrono::system_clock::now(); };
  }
  auto make = [&](const std::string& service, const std::vector<std::string>& operations) {
    http::ClientOptions options = config_.client;
    options.classify = classify;
    options.sign = [this, service](http::Request& r) { sign(r, service); };
    auto client = std::make_unique<http::Client>(transport_, std::move(options));
    if (config_.pace) {
      for (const auto& op : operations) {
        double rate = default_rate(op);
        client->set_rate(op, rate, std::max(1.0, rate / 10.0));
      }
    }
    return client;
  };
  control_ = make(config_.control_signing_name, all_operations());
  std::vector<std::string> data_ops = data_operations();
  data_ = make(config_.data_signing_name, data_ops);
}

void AwsClient::sign(http::Request& request, const std::string& service) const {
  auto [authority, target] = split_url(request.url);
  sigv4::SignableRequest s;
  s.method = request.method;
  s.target = target;
  s.headers = request.headers;
  std::erase_if(s.headers, [](const auto& h) { return str::to_lower(h.first) == "host"; });
  s.headers.emplace_back("Host", authority);
  s.body = request.body;
  sigv4::Config c;
  c.region = config_.region;
  c.service = service;
  c.time = config_.now();
  sigv4::sign(s, config_.credentials, c);
  request.headers = std::move(s.headers);
}

std::string AwsClient::seg(std::string_view name) { return http::url_encode(name); }

http::Request AwsClient::control_request(std::string method, const std::string& path, const Query& query,
                                         std::string body) const {
  http::Request r;
  r.method = std::move(method);
  r.url = config_.control_endpoint + path + encode_query(query);
  if (!body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
  }
  r.body = std::move(body);
  return r;
}

http::Request AwsClient::data_request(std::string method, const std::string& path, const Query& query,
                                      std::string body) {
  http::Request r;
  r.method = std::move(method);
  r.url = data_endpoint() + path + encode_query(query);
  if (!body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
  }
  r.body = std::move(body);
  return r;
}

http::Response AwsClient::call(http::Request request, const std::string& operation, bool data_plane) {
  auto& client = data_plane ? *data_ : *control_;
  http::Response response = client.send(std::move(request), operation);
  if (response.status < 200 || response.status >= 300) {
    throw to_error(response, operation);
  }
  return response;
}

std::vector<http::Response> AwsClient::call_all(std::vector<http::Request> requests, const std::string& operation,
                                                bool data_plane) {
  auto& client = data_plane ? *data_ : *control_;
  return client.send_all(std::move(requests), operation);
}

std::string AwsClient::data_endpoint() {
  std::lock_guard lock(endpoint_mutex_);
  if (config_.data_endpoint.empty()) {
    auto r = call(control_request("GET", "/endpoint", {{"endpointType", "iot:Data-ATS"}}), "DescribeEndpoint");
    std::string address = json_string(parse_body(r), "endpointAddress");
    if (address.empty()) {
      throw Error::failure("AWS IoT DescribeEndpoint returned no endpointAddress",
                           "Set AIOT_AWS_DATA_ENDPOINT to the account's iot:Data-ATS endpoint.");
    }
    config_.data_endpoint = address.find("://") == std::string::npos ? "https://" + address : address;
  }
  return config_.data_endpoint;
}

// ---- things ----------------------------------------------------------------------------------

Thing AwsClient::parse_thing(const json& j) {
  Thing t;
  t.name = json_string(j, "thingName");
  t.arn = json_string(j, "thingArn");
  t.id = json_string(j, "thingId");
  t.type = json_string(j, "thingTypeName");
  if (j.contains("attributes") && j["attributes"].is_object()) {
    for (const auto& [k, v] : j["attributes"].items()) {
      t.attributes[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  if (j.contains("version") && j["version"].is_number_integer()) {
    t.version = j["version"].get<std::int64_t>();
  }
  return t;
}

http::Request AwsClient::create_thing_request(const std::string& name,
                                              const std::map<std::string, std::string>& attributes,
                                              const std::string& thing_type) const {
  json body = {{"attributePayload", attribute_payload(attributes)}};
  if (!thing_type.empty()) {
    body["thingTypeName"] = thing_type;
  }
  return control_request("POST", "/things/" + seg(name), {}, body.dump());
}

Thing AwsClient::create_thing(const std::string& name, const std::map<std::string, std::string>& attributes,
                              const std::string& thing_type) {
  auto r = call(create_thing_request(name, attributes, thing_type), "CreateThing");
  Thing t = parse_thing(parse_body(r));
  t.attributes = attributes;
  t.type = thing_type;
  t.version = 1;
  return t;
}

std::optional<Thing> AwsClient::describe_thing(const std::string& name) {
  auto r = control_->send(control_request("GET", "/things/" + seg(name)), "DescribeThing");
  if (r.status == 404) {
    return std::nullopt;
  }
  if (r.status < 200 || r.status >= 300) {
    throw to_error(r, "DescribeThing");
  }
  return parse_thing(parse_body(r));
}

void AwsClient::update_thing(const std::string& name, const std::map<std::string, std::string>& attributes,
                             bool merge, std::optional<std::int64_t> expected_version) {
  json payload = attribute_payload(attributes);
  payload["merge"] = merge;
  json body = {{"attributePayload", payload}};
  if (expected_version) {
    body["expectedVersion"] = *expected_version;
  }
  call(control_request("PATCH", "/things/" + seg(name), {}, body.dump()), "UpdateThing");
}

void AwsClient::delete_thing(const std::string& name, std::optional<std::int64_t> expected_version) {
  Query q;
  if (expected_version) {
    q.emplace_back("expectedVersion", std::to_string(*expected_version));
  }
  call(control_request("DELETE", "/things/" + seg(name), q), "DeleteThing");
}

ThingPage AwsClient::list_things(const std::string& next_token, int max_results) {
  return list_things_with_attribute({}, {}, next_token, max_results);
}

ThingPage AwsClient::list_things_with_attribute(const std::string& name, const std::string& value,
                                                const std::string& next_token, int max_results) {
  Query q{{"maxResults", std::to_string(max_results)}};
  if (!next_token.empty()) {
    q.emplace_back("nextToken", next_token);
  }
  if (!name.empty()) {
    q.emplace_back("attributeName", name);
    q.emplace_back("attributeValue", value);
  }
  auto body = parse_body(call(control_request("GET", "/things", q), "ListThings"));
  ThingPage page;
  if (body.contains("things") && body["things"].is_array()) {
    for (const auto& t : body["things"]) {
      page.things.push_back(parse_thing(t));
    }
  }
  page.next_token = json_string(body, "nextToken");
  return page;
}

void AwsClient::ensure_thing_type(const std::string& name) {
  auto r = control_->send(control_request("GET", "/thing-types/" + seg(name)), "DescribeThingType");
  if (r.status >= 200 && r.status < 300) {
    return;
  }
  if (r.status != 404) {
    throw to_error(r, "DescribeThingType");
  }
  auto created = control_->send(
      control_request("POST", "/thing-types/" + seg(name), {},
                      json{{"thingTypeProperties", {{"thingTypeDescription", "aiot devices"}}}}.dump()),
      "CreateThingType");
  if ((created.status < 200 || created.status >= 300) && parse_error(created).code != "ResourceAlreadyExistsException") {
    throw to_error(created, "CreateThingType");
  }
}

// ---- certificates, principals, policies -------------------------------------------------------

Certificate AwsClient::register_certificate_without_ca(const std::string& certificate_pem, bool active) {
  json body = {{"certificatePem", certificate_pem}, {"status", active ? "ACTIVE" : "INACTIVE"}};
  auto j = parse_body(call(control_request("POST", "/certificate/register-no-ca", {}, body.dump()),
                           "RegisterCertificateWithoutCA"));
  return {json_string(j, "certificateArn"), json_string(j, "certificateId"), certificate_pem};
}

Certificate AwsClient::register_or_find_certificate(const std::string& certificate_pem, bool active) {
  json body = {{"certificatePem", certificate_pem}, {"status", active ? "ACTIVE" : "INACTIVE"}};
  auto r = control_->send(control_request("POST", "/certificate/register-no-ca", {}, body.dump()),
                          "RegisterCertificateWithoutCA");
  if (r.status >= 200 && r.status < 300) {
    auto j = parse_body(r);
    return {json_string(j, "certificateArn"), json_string(j, "certificateId"), certificate_pem};
  }
  if (r.status != 409) {
    throw to_error(r, "RegisterCertificateWithoutCA");
  }
  // AWS names the existing resource in the conflict (ResourceAlreadyExistsException.resourceArn).
  auto j = parse_body(r);
  std::string arn = json_string(j, "resourceArn");
  std::string id = json_string(j, "resourceId");
  if (!arn.empty()) {
    if (id.empty()) {
      id = arn.substr(arn.rfind('/') + 1);
    }
    return {arn, id, certificate_pem};
  }
  // Else: AWS's certificate id is the SHA-256 of the DER certificate.
  const auto der_sha256 = [&]() -> std::string {
    std::string b64;
    bool inside = false;
    for (const auto& line : str::split(certificate_pem, '\n')) {
      std::string_view t = str::trim(line);
      if (t.rfind("-----BEGIN CERTIFICATE", 0) == 0) {
        inside = true;
      } else if (t.rfind("-----END CERTIFICATE", 0) == 0) {
        break;
      } else if (inside) {
        b64 += t;
      }
    }
    return crypto::sha256_hex(crypto::base64_decode(b64));
  }();
  if (auto described = describe_certificate(der_sha256)) {
    return {json_string(*described, "certificateArn"), der_sha256, certificate_pem};
  }
  throw to_error(r, "RegisterCertificateWithoutCA");
}

KeysAndCertificate AwsClient::create_keys_and_certificate(bool active) {
  auto j = parse_body(call(control_request("POST", "/keys-and-certificate",
                                           {{"setAsActive", active ? "true" : "false"}}),
                           "CreateKeysAndCertificate"));
  KeysAndCertificate k;
  k.certificate = {json_string(j, "certificateArn"), json_string(j, "certificateId"), json_string(j, "certificatePem")};
  if (j.contains("keyPair") && j["keyPair"].is_object()) {
    k.public_key_pem = json_string(j["keyPair"], "PublicKey");
    k.private_key_pem = json_string(j["keyPair"], "PrivateKey");
  }
  if (k.certificate.arn.empty() || k.private_key_pem.empty()) {
    throw Error::failure("AWS IoT CreateKeysAndCertificate: the answer has no certificate or private key");
  }
  return k;
}

std::optional<json> AwsClient::describe_certificate(const std::string& certificate_id) {
  auto r = control_->send(control_request("GET", "/certificates/" + seg(certificate_id)), "DescribeCertificate");
  if (r.status == 404) {
    return std::nullopt;
  }
  if (r.status < 200 || r.status >= 300) {
    throw to_error(r, "DescribeCertificate");
  }
  auto j = parse_body(r);
  return j.contains("certificateDescription") ? j["certificateDescription"] : json::object();
}

void AwsClient::update_certificate(const std::string& certificate_id, const std::string& new_status) {
  call(control_request("PUT", "/certificates/" + seg(certificate_id), {{"newStatus", new_status}}),
       "UpdateCertificate");
}

void AwsClient::delete_certificate(const std::string& certificate_id, bool force_delete) {
  Query q;
  if (force_delete) {
    q.emplace_back("forceDelete", "true");
  }
  call(control_request("DELETE", "/certificates/" + seg(certificate_id), q), "DeleteCertificate");
}

void AwsClient::attach_thing_principal(const std::string& thing, const std::string& principal_arn) {
  auto r = control_request("PUT", "/things/" + seg(thing) + "/principals");
  r.headers.emplace_back("x-amzn-principal", principal_arn);
  call(std::move(r), "AttachThingPrincipal");
}

void AwsClient::detach_thing_principal(const std::string& thing, const std::string& principal_arn) {
  auto r = control_request("DELETE", "/things/" + seg(thing) + "/principals");
  r.headers.emplace_back("x-amzn-principal", principal_arn);
  call(std::move(r), "DetachThingPrincipal");
}

std::vector<std::string> AwsClient::list_thing_principals(const std::string& thing) {
  std::vector<std::string> out;
  for (const auto& p : list_all("/things/" + seg(thing) + "/principals", {{"maxResults", "100"}}, "ListThingPrincipals",
                                "principals")) {
    out.push_back(p.get<std::string>());
  }
  return out;
}

std::optional<json> AwsClient::get_policy(const std::string& name) {
  auto r = control_->send(control_request("GET", "/policies/" + seg(name)), "GetPolicy");
  if (r.status == 404) {
    return std::nullopt;
  }
  if (r.status < 200 || r.status >= 300) {
    throw to_error(r, "GetPolicy");
  }
  return parse_body(r);
}

json AwsClient::create_policy(const std::string& name, const json& document) {
  json body = {{"policyDocument", document.dump()}};
  return parse_body(call(control_request("POST", "/policies/" + seg(name), {}, body.dump()), "CreatePolicy"));
}

void AwsClient::attach_policy(const std::string& name, const std::string& target_arn) {
  call(control_request("PUT", "/target-policies/" + seg(name), {}, json{{"target", target_arn}}.dump()),
       "AttachPolicy");
}

json AwsClient::device_policy(std::string_view partition, std::string_view region, std::string_view account) {
  const std::string prefix = fmt::format("arn:{}:iot:{}:{}:", partition, region, account);
  const std::string thing = "${iot:Connection.Thing.ThingName}";
  json topics = json::array({prefix + "topic/$aws/things/" + thing + "/shadow/*",
                             prefix + "topic/$aws/things/" + thing + "/jobs/*"});
  json filters = json::array({prefix + "topicfilter/$aws/things/" + thing + "/shadow/*",
                              prefix + "topicfilter/$aws/things/" + thing + "/jobs/*"});
  return {{"Version", "2012-10-17"},
          {"Statement",
           json::array({{{"Effect", "Allow"}, {"Action", "iot:Connect"}, {"Resource", prefix + "client/" + thing}},
                        {{"Effect", "Allow"}, {"Action", json::array({"iot:Publish", "iot:Receive"})}, {"Resource", topics}},
                        {{"Effect", "Allow"}, {"Action", "iot:Subscribe"}, {"Resource", filters}}})}};
}

// ---- thing groups ----------------------------------------------------------------------------

json AwsClient::create_thing_group(const std::string& name, const std::string& description,
                                   const std::map<std::string, std::string>& attributes) {
  json props = json::object();
  if (!description.empty()) {
    props["thingGroupDescription"] = description;
  }
  if (!attributes.empty()) {
    props["attributePayload"] = attribute_payload(attributes);
  }
  json body = json::object();
  if (!props.empty()) {
    body["thingGroupProperties"] = props;
  }
  return parse_body(call(control_request("POST", "/thing-groups/" + seg(name), {}, body.dump()), "CreateThingGroup"));
}

std::optional<json> AwsClient::describe_thing_group(const std::string& name) {
  auto r = control_->send(control_request("GET", "/thing-groups/" + seg(name)), "DescribeThingGroup");
  if (r.status == 404) {
    return std::nullopt;
  }
  if (r.status < 200 || r.status >= 300) {
    throw to_error(r, "DescribeThingGroup");
  }
  return parse_body(r);
}

void AwsClient::delete_thing_group(const std::string& name) {
  call(control_request("DELETE", "/thing-groups/" + seg(name)), "DeleteThingGroup");
}

http::Request AwsClient::add_thing_to_thing_group_request(const std::string& group, const std::string& thing) const {
  json body = {{"thingGroupName", group}, {"thingName", thing}};
  return control_request("PUT", "/thing-groups/addThingToThingGroup", {}, body.dump());
}

void AwsClient::add_thing_to_thing_group(const std::string& group, const std::string& thing) {
  call(add_thing_to_thing_group_request(group, thing), "AddThingToThingGroup");
}

void AwsClient::remove_thing_from_thing_group(const std::string& group, const std::string& thing) {
  json body = {{"thingGroupName", group}, {"thingName", thing}};
  call(control_request("PUT", "/thing-groups/removeThingFromThingGroup", {}, body.dump()), "RemoveThingFromThingGroup");
}

std::vector<std::string> AwsClient::list_things_in_thing_group(const std::string& group, bool recursive) {
  Query q{{"maxResults", "250"}};
  if (recursive) {
    q.emplace_back("recursive", "true");
  }
  std::vector<std::string> out;
  for (const auto& t : list_all("/thing-groups/" + seg(group) + "/things", q, "ListThingsInThingGroup", "things")) {
    out.push_back(t.get<std::string>());
  }
  return out;
}

// ---- shadows ---------------------------------------------------------------------------------

std::optional<Shadow> AwsClient::get_shadow(const std::string& thing, const std::string& shadow_name) {
  Query q;
  if (!shadow_name.empty()) {
    q.emplace_back("name", shadow_name);
  }
  auto r = data_->send(data_request("GET", "/things/" + seg(thing) + "/shadow", q), "GetThingShadow");
  if (r.status == 404) {
    return std::nullopt;
  }
  if (r.status < 200 || r.status >= 300) {
    throw to_error(r, "GetThingShadow");
  }
  Shadow s;
  s.document = parse_body(r);
  if (s.document.contains("version") && s.document["version"].is_number_integer()) {
    s.version = s.document["version"].get<std::int64_t>();
  }
  return s;
}

http::Request AwsClient::update_shadow_request(const std::string& thing, const std::string& shadow_name,
                                               const json& state) {
  Query q;
  if (!shadow_name.empty()) {
    q.emplace_back("name", shadow_name);
  }
  return data_request("POST", "/things/" + seg(thing) + "/shadow", q, json{{"state", state}}.dump());
}

Shadow AwsClient::update_shadow(const std::string& thing, const std::string& shadow_name, const json& state,
                                std::optional<std::int64_t> expected_version) {
  auto request = update_shadow_request(thing, shadow_name, state);
  if (expected_version) {
    json body = json::parse(request.body);
    body["version"] = *expected_version;
    request.body = body.dump();
  }
  auto r = data_->send(std::move(request), "UpdateThingShadow");
  if (r.status == 409) {
    // The data plane's version conflict is a plain 409 ConflictException.
    auto e = parse_error(r);
    throw Error::precondition(fmt::format("AWS IoT UpdateThingShadow: {}: {} (HTTP 409)",
                                          e.code.empty() ? "VersionConflict" : e.code, e.message),
                              "The shadow changed since it was read; read it again and retry.");
  }
  if (r.status < 200 || r.status >= 300) {
    throw to_error(r, "UpdateThingShadow");
  }
  Shadow s;
  s.document = parse_body(r);
  if (s.document.contains("version") && s.document["version"].is_number_integer()) {
    s.version = s.document["version"].get<std::int64_t>();
  }
  return s;
}

void AwsClient::delete_shadow(const std::string& thing, const std::string& shadow_name) {
  Query q;
  if (!shadow_name.empty()) {
    q.emplace_back("name", shadow_name);
  }
  call(data_request("DELETE", "/things/" + seg(thing) + "/shadow", q), "DeleteThingShadow", true);
}

// ---- jobs ------------------------------------------------------------------------------------

json AwsClient::create_job_body(const JobSpec& spec) {
  if (spec.targets.empty()) {
    throw Error::usage(fmt::format("job '{}' has no targets", spec.job_id));
  }
  std::string document = spec.document.dump();
  if (document.size() > 32768) {
    throw Error::usage(fmt::format("job '{}': the document is {} bytes; AWS IoT allows 32768", spec.job_id,
                                   document.size()));
  }
  json body = {{"targets", spec.targets}, {"document", document}, {"targetSelection", spec.target_selection}};
  if (!spec.description.empty()) {
    body["description"] = spec.description;
  }
  if (!spec.rollout_config.is_null()) {
    body["jobExecutionsRolloutConfig"] = spec.rollout_config;
  }
  if (!spec.abort_config.is_null()) {
    body["abortConfig"] = spec.abort_config;
  }
  if (!spec.timeout_config.is_null()) {
    body["timeoutConfig"] = spec.timeout_config;
  }
  if (!spec.retry_config.is_null()) {
    body["jobExecutionsRetryConfig"] = spec.retry_config;
  }
  return body;
}

json AwsClient::create_job(const JobSpec& spec) {
  return parse_body(
      call(control_request("PUT", "/jobs/" + seg(spec.job_id), {}, create_job_body(spec).dump()), "CreateJob"));
}

json AwsClient::describe_job(const std::string& job_id) {
  auto j = parse_body(call(control_request("GET", "/jobs/" + seg(job_id)), "DescribeJob"));
  return j.contains("job") ? j["job"] : json::object();
}

std::vector<json> AwsClient::list_job_executions(const std::string& job_id, const std::string& status) {
  Query q{{"maxResults", "250"}};
  if (!status.empty()) {
    q.emplace_back("status", status);
  }
  return list_all("/jobs/" + seg(job_id) + "/things", q, "ListJobExecutionsForJob", "executionSummaries");
}

void AwsClient::cancel_job(const std::string& job_id, const std::string& reason_code, const std::string& comment,
                           bool force) {
  json body = json::object();
  if (!reason_code.empty()) {
    body["reasonCode"] = reason_code;
  }
  if (!comment.empty()) {
    body["comment"] = comment;
  }
  Query q;
  if (force) {
    q.emplace_back("force", "true");
  }
  call(control_request("PUT", "/jobs/" + seg(job_id) + "/cancel", q, body.dump()), "CancelJob");
}

std::vector<json> AwsClient::list_jobs(const std::string& thing_group, const std::string& status) {
  Query q{{"maxResults", "250"}};
  if (!status.empty()) {
    q.emplace_back("status", status);
  }
  if (!thing_group.empty()) {
    q.emplace_back("thingGroupName", thing_group);
  }
  return list_all("/jobs", q, "ListJobs", "jobs");
}

// Every page of a control-plane list: `key`'s items, following nextToken.
std::vector<json> AwsClient::list_all(const std::string& path, const Query& query, const std::string& operation,
                                      const std::string& key) {
  std::vector<json> out;
  std::string token;
  do {
    Query q = query;
    if (!token.empty()) {
      q.emplace_back("nextToken", token);
    }
    auto j = parse_body(call(control_request("GET", path, q), operation));
    if (j.contains(key) && j[key].is_array()) {
      for (auto& item : j[key]) {
        out.push_back(std::move(item));
      }
    }
    token = json_string(j, "nextToken");
  } while (!token.empty());
  return out;
}

// ---- fleet indexing --------------------------------------------------------------------------

IndexedThing AwsClient::parse_indexed_thing(const json& j) {
  IndexedThing t;
  t.name = json_string(j, "thingName");
  t.id = json_string(j, "thingId");
  t.type = json_string(j, "thingTypeName");
  if (j.contains("attributes") && j["attributes"].is_object()) {
    for (const auto& [k, v] : j["attributes"].items()) {
      t.attributes[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  if (j.contains("thingGroupNames") && j["thingGroupNames"].is_array()) {
    for (const auto& g : j["thingGroupNames"]) {
      if (g.is_string()) {
        t.groups.push_back(g.get<std::string>());
      }
    }
  }
  // The wire carries the shadows as a JSON document inside a string.
  if (j.contains("shadow") && j["shadow"].is_string()) {
    try {
      t.shadow = json::parse(j["shadow"].get<std::string>());
    } catch (const json::exception&) {
      t.shadow = nullptr;
    }
  } else if (j.contains("shadow") && j["shadow"].is_object()) {
    t.shadow = j["shadow"];
  }
  return t;
}

http::Request AwsClient::search_index_request(const std::string& query, const std::string& next_token,
                                             int max_results) const {
  json body = {{"indexName", "AWS_Things"}, {"queryString", query}, {"maxResults", max_results}};
  if (!next_token.empty()) {
    body["nextToken"] = next_token;
  }
  return control_request("POST", "/indices/search", {}, body.dump());
}

IndexPage AwsClient::parse_index_page(const http::Response& response) {
  auto j = parse_body(response);
  IndexPage page;
  if (j.contains("things") && j["things"].is_array()) {
    for (const auto& t : j["things"]) {
      page.things.push_back(parse_indexed_thing(t));
    }
  }
  page.next_token = json_string(j, "nextToken");
  return page;
}

IndexPage AwsClient::search_index(const std::string& query, const std::string& next_token, int max_results) {
  return parse_index_page(call(search_index_request(query, next_token, max_results), "SearchIndex"));
}

std::vector<IndexedThing> AwsClient::search_all(const std::string& query) {
  std::vector<IndexedThing> out;
  std::string token;
  do {
    auto page = search_index(query, token);
    for (auto& t : page.things) {
      out.push_back(std::move(t));
    }
    token = std::move(page.next_token);
  } while (!token.empty());
  return out;
}

bool AwsClient::index_unavailable(const AwsError& error) {
  return error.status == 404 || error.status == 401 || error.status == 403 ||
         error.code == "ResourceNotFoundException" || error.code == "IndexNotReadyException" ||
         error.code == "UnauthorizedException" || error.code == "AccessDeniedException";
}

std::optional<Buckets> AwsClient::try_buckets(const std::string& query, const std::string& field, int max_buckets) {
  json body = {{"indexName", "AWS_Things"},
               {"queryString", query},
               {"aggregationField", field},
               {"bucketsAggregationType", {{"termsAggregation", {{"maxBuckets", max_buckets}}}}}};
  auto r = control_->send(control_request("POST", "/indices/buckets", {}, body.dump()), "GetBucketsAggregation");
  if (r.status < 200 || r.status >= 300) {
    auto error = parse_error(r);
    if (index_unavailable(error) || error.code == "InvalidAggregationException") {
      return std::nullopt;
    }
    throw to_error(r, "GetBucketsAggregation");
  }
  auto j = parse_body(r);
  Buckets out;
  out.total = j.value("totalCount", std::int64_t{0});
  if (j.contains("buckets") && j["buckets"].is_array()) {
    for (const auto& b : j["buckets"]) {
      out.buckets.emplace_back(json_string(b, "keyValue"), b.value("count", std::int64_t{0}));
    }
  }
  return out;
}

std::optional<std::vector<IndexedThing>> AwsClient::try_search_all(const std::string& query) {
  // Only the first page decides: an index that answered once and fails later is a failure to report.
  auto first = control_->send(search_index_request(query, {}, 100), "SearchIndex");
  if (first.status < 200 || first.status >= 300) {
    if (index_unavailable(parse_error(first))) {
      return std::nullopt;
    }
    throw to_error(first, "SearchIndex");
  }
  auto page = parse_index_page(first);
  std::vector<IndexedThing> out = std::move(page.things);
  std::string token = std::move(page.next_token);
  while (!token.empty()) {
    page = search_index(query, token);
    for (auto& t : page.things) {
      out.push_back(std::move(t));
    }
    token = std::move(page.next_token);
  }
  return out;
}

json AwsClient::named_shadow_state(const IndexedThing& t, const std::string& shadow_name) {
  if (!t.shadow.is_object()) {
    return nullptr;
  }
  const json* shadow = &t.shadow;
  if (!shadow_name.empty()) {
    if (!t.shadow.contains("name") || !t.shadow["name"].is_object() || !t.shadow["name"].contains(shadow_name)) {
      return nullptr;
    }
    shadow = &t.shadow["name"][shadow_name];
  }
  if (!shadow->is_object()) {
    return nullptr;
  }
  // Some answers nest the sections under "state" (as GetThingShadow does); accept both.
  const json& sections = shadow->contains("state") && (*shadow)["state"].is_object() ? (*shadow)["state"] : *shadow;
  json out = json::object();
  for (const char* section : {"desired", "reported"}) {
    if (sections.contains(section) && sections[section].is_object()) {
      out[section] = sections[section];
    }
  }
  return out.empty() ? json(nullptr) : out;
}

json AwsClient::named_shadow_document(const IndexedThing& t, const std::string& shadow_name) {
  json state = named_shadow_state(t, shadow_name);
  if (state.is_null()) {
    return nullptr;
  }
  const json& entry = shadow_name.empty() ? t.shadow : t.shadow["name"][shadow_name];
  json document = {{"state", state}};
  for (const char* key : {"metadata", "version"}) {
    if (entry.contains(key)) {
      document[key] = entry[key];
    }
  }
  return document;
}

}  // namespace aiot::hub::aws
