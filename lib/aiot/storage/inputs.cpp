// Remote specs to lineage Inputs: which service, which endpoint and credentials, the listing (flat
// or by --window), and Inputs whose open() streams the object. Also the prefetcher.
#include "aiot/storage/inputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "aiot/auth/cloud/aws_credentials.hpp"
#include "aiot/config/settings.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/http/stream.hpp"
#include "aiot/storage/remote.hpp"

namespace aiot::storage {

namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && str::to_lower(s.substr(0, prefix.size())) == prefix;
}

bool is_blob_host(std::string_view host) {
  return host.find(".blob.") != std::string_view::npos;
}

struct UrlParts {
  std::string scheme;     // "https"
  std::string authority;  // host[:port]
  std::string host;
  std::vector<std::string> segments;  // decoded path segments (empty ones dropped at the front)
  std::string path;                   // decoded path without the leading '/'
  std::string query;
};

std::optional<UrlParts> split_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return std::nullopt;
  }
  UrlParts parts;
  parts.scheme = str::to_lower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    parts.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  const auto slash = rest.find('/');
  parts.authority = std::string(rest.substr(0, slash));
  parts.host = str::to_lower(parts.authority.substr(0, parts.authority.rfind(':') == std::string::npos
                                                           ? std::string::npos
                                                           : parts.authority.rfind(':')));
  if (slash != std::string_view::npos) {
    parts.path = http::url_decode(rest.substr(slash + 1));
  }
  for (const auto& s : str::split(parts.path, '/')) {
    if (!s.empty()) {
      parts.segments.push_back(s);
    }
  }
  return parts;
}

// "CONTAINER/PRE/FIX" -> container, prefix (keeping a trailing '/').
void split_container(std::string_view path, Location& where) {
  while (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  const auto slash = path.find('/');
  where.container = std::string(path.substr(0, slash));
  where.prefix = slash == std::string_view::npos ? std::string() : std::string(path.substr(slash + 1));
}

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A setting the key table may not have yet (storage.*): empty when absent or unset.
std::string optional_setting(Context& ctx, std::string_view key) {
  if (config::find_key(key) == nullptr) {
    return {};
  }
  try {
    return ctx.settings().get(key);
  } catch (const Error&) {
    return {};
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error::usage(fmt::format("cannot read the connection string file {}", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::string(str::trim(text.str()));
}

std::shared_ptr<Store> open_azure(Context& ctx, Location where, const std::string& spec,
                                  const std::shared_ptr<http::Transport>& transport, http::ClientOptions options) {
  AzureAuth auth;
  auth.sas = where.sas;
  std::optional<azure::ConnectionString> cs;
  std::string cs_text = ctx.env.get_or("AZURE_STORAGE_CONNECTION_STRING", "");
  if (cs_text.empty()) {
    if (const auto file = optional_setting(ctx, "storage.azure.connection_string_file"); !file.empty()) {
      cs_text = read_text_file(file);
    }
  }
  if (!cs_text.empty()) {
    cs = azure::parse_connection_string(cs_text);
  }
  const bool from_url = !starts_with_nocase(spec, "az://");
  std::string suffix = "core.windows.net";
  std::string protocol = "https";
  if (cs && (cs->account.empty() || where.account.empty() || cs->account == where.account)) {
    if (where.account.empty()) {
      where.account = cs->account;
    }
    if (where.endpoint.empty() && !cs->blob_endpoint.empty()) {
      where.endpoint = cs->blob_endpoint;
    }
    suffix = cs->endpoint_suffix;
    protocol = cs->protocol;
    if (auth.sas.empty()) {
      auth.sas = cs->sas;
      if (auth.sas.empty()) {
        auth.shared_key = cs->key;
      }
    }
  }
  if (auth.sas.empty() && auth.shared_key.empty()) {
    if (auto sas = ctx.env.get("AZURE_STORAGE_SAS_TOKEN"); sas && !sas->empty()) {
      auth.sas = *sas;
    } else if (ctx.env.get_or("AZURE_STORAGE_ACCOUNT", "") == where.account && ctx.env.has("AZURE_STORAGE_KEY")) {
      auth.shared_key = *ctx.env.get("AZURE_STORAGE_KEY");
    }
  }
  if (!auth.sas.empty() && auth.sas.front() == '?') {
    auth.sas.erase(0, 1);
  }
  if (where.endpoint.empty()) {
    where.endpoint = fmt::format("{}://{}.blob.{}", protocol, where.account, suffix);
  }
  const std::string display_base = from_url ? where.endpoint : "az://" + where.account;
  options.sign = azure_signer(where.account, auth, [] { return std::chrono::system_clock::now(); });
  auto client = std::make_shared<http::Client>(transport, std::move(options));
  return make_azure_store(where, auth, client, [] { return std::chrono::system_clock::now(); }, display_base);
}

std::shared_ptr<Store> open_s3(Context& ctx, const Location& where, const std::shared_ptr<http::Transport>& transport,
                               http::ClientOptions options) {
  aws_auth::ChainSettings chain;
  try {
    chain.profile = ctx.settings().get("aws.profile");
    chain.region = ctx.settings().get("aws.region");
  } catch (const Error&) {
    // settings not resolved (library use): the environment alone decides
  }
  const auto resolved = aws_auth::resolve(ctx.env, chain);
  const std::string region = resolved.region.empty() ? "us-east-1" : resolved.region;
  std::string endpoint = ctx.env.get_or("AWS_ENDPOINT_URL_S3", "");
  if (endpoint.empty()) {
    endpoint = ctx.env.get_or("AWS_ENDPOINT_URL", "");
  }
  if (endpoint.empty()) {
    endpoint = optional_setting(ctx, "storage.s3.endpoint");
  }
  auto now = [] { return std::chrono::system_clock::now(); };
  options.sign = s3_signer(resolved.credentials, region, now);
  auto client = std::make_shared<http::Client>(transport, std::move(options));
  return make_s3_store(where, resolved.credentials, region, endpoint, client, now);
}

}  // namespace

Location parse_spec(std::string_view spec) {
  Location where;
  if (starts_with_nocase(spec, "az://")) {
    const auto rest = spec.substr(5);
    const auto slash = rest.find('/');
    where.account = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
      split_container(rest.substr(slash + 1), where);
    }
    if (where.account.empty() || where.container.empty()) {
      throw Error::usage(fmt::format("'{}' names no container", spec), "Write az://ACCOUNT/CONTAINER[/PREFIX].");
    }
    return where;
  }
  if (starts_with_nocase(spec, "s3://")) {
    where.service = Location::Service::s3;
    split_container(spec.substr(5), where);
    if (where.container.empty()) {
      throw Error::usage(fmt::format("'{}' names no bucket", spec), "Write s3://BUCKET[/PREFIX].");
    }
    return where;
  }
  const auto parts = split_url(spec);
  if (!parts || (parts->scheme != "http" && parts->scheme != "https") || parts->host.empty()) {
    throw Error::usage(fmt::format("'{}' is not a remote input", spec),
                       "Use az://ACCOUNT/CONTAINER/PREFIX, s3://BUCKET/PREFIX or a blob URL.");
  }
  if (parts->query.find("sig=") != std::string::npos) {
    where.sas = parts->query;
  }
  if (is_blob_host(parts->host)) {
    where.account = parts->host.substr(0, parts->host.find('.'));
    where.endpoint = parts->scheme + "://" + parts->authority;
    split_container(parts->path, where);
  } else {
    // A custom endpoint (Azurite, Azure Stack): path-style, the account is the first segment.
    if (parts->segments.size() < 2) {
      throw Error::usage(fmt::format("'{}' names no container", spec.substr(0, spec.find('?'))),
                         "A custom blob endpoint is addressed as http(s)://HOST:PORT/ACCOUNT/CONTAINER[/PREFIX].");
    }
    std::string_view path = parts->path;
    while (!path.empty() && path.front() == '/') {
      path.remove_prefix(1);
    }
    const auto slash = path.find('/');
    where.account = std::string(path.substr(0, slash));
    where.endpoint = parts->scheme + "://" + parts->authority + "/" + http::url_encode(where.account);
    split_container(path.substr(slash + 1), where);
  }
  if (where.container.empty()) {
    throw Error::usage(fmt::format("'{}' names no container", spec.substr(0, spec.find('?'))));
  }
  return where;
}

bool is_remote(std::string_view spec) {
  if (starts_with_nocase(spec, "az://") || starts_with_nocase(spec, "s3://")) {
    return true;
  }
  if (!starts_with_nocase(spec, "http://") && !starts_with_nocase(spec, "https://")) {
    return false;
  }
  const auto parts = split_url(spec);
  if (!parts || parts->host.empty()) {
    return false;
  }
  return parts->segments.size() >= (is_blob_host(parts->host) ? 1u : 2u);
}

bool is_fatal(const Error& error) {
  return error.code() == ExitCode::auth;
}

std::vector<lineage::Input> list_inputs(Context& ctx, const std::string& spec, const ListOptions& opt) {
  return list_inputs(ctx, spec, opt, Backend{});
}

std::vector<lineage::Input> list_inputs(Context& ctx, const std::string& spec, const ListOptions& opt,
                                        const Backend& backend) {
  const Location where = parse_spec(spec);
  const auto transport = backend.transport ? backend.transport : ctx.transport();
  http::ClientOptions options;
  options.trace = ctx.tracer();
  if (backend.sleep) {
    options.sleep = backend.sleep;
  }
  if (backend.seed != 0) {
    options.seed = backend.seed;
  }
  if (backend.max_attempts > 0) {
    options.retry.max_attempts = backend.max_attempts;
  }

  auto fetcher = std::make_shared<Fetcher>();
  fetcher->retry = options.retry;
  fetcher->sleep = options.sleep;
  fetcher->seed = backend.seed;
  fetcher->trace = options.trace;
  fetcher->store = where.service == Location::Service::s3 ? open_s3(ctx, where, transport, options)
                                                          : open_azure(ctx, where, spec, transport, options);
  if (backend.stream) {
    fetcher->stream = backend.stream;
  } else {
    http::TransportOptions stream_options;
    try {
      stream_options.ca_file = ctx.settings().get("cacert");
    } catch (const Error&) {
      // settings not resolved: no extra CA bundle
    }
    fetcher->stream = http::make_curl_stream_transport(stream_options, k_stream_buffer_bytes);
  }

  // AIOT_STORAGE_PAGE_SIZE (or a storage.page_size setting) overrides the service default: tests
  // use it to force many small pages.
  std::size_t page_size = opt.page_size;
  if (page_size == 0) {
    std::string knob = optional_setting(ctx, "storage.page_size");
    if (knob.empty()) {
      knob = ctx.env.get_or("AIOT_STORAGE_PAGE_SIZE", "");
    }
    if (!knob.empty()) {
      try {
        page_size = std::stoul(knob);
      } catch (const std::exception&) {
        throw Error::usage(fmt::format("AIOT_STORAGE_PAGE_SIZE takes a number, got '{}'", knob));
      }
    }
  }
  auto objects = list_window(*fetcher->store, where.prefix, opt.from, opt.to, page_size);
  // A spec that names one object exactly means that object, not everything starting with its name.
  if (!where.prefix.empty() && where.prefix.back() != '/') {
    const auto exact = std::find_if(objects.begin(), objects.end(), [&](const auto& o) { return o.name == where.prefix; });
    if (exact != objects.end()) {
      auto one = std::move(*exact);
      objects.clear();
      objects.push_back(std::move(one));
    }
  }
  // Folder markers (zero-byte names ending in '/', as consoles create them) are not inputs.
  objects.erase(std::remove_if(objects.begin(), objects.end(), [](const auto& o) { return ends_with(o.name, "/"); }),
                objects.end());
  if (objects.empty() && !opt.from && !opt.to) {
    throw Error::usage(fmt::format("'{}' matches no objects", spec.substr(0, spec.find('?'))),
                       "Check the prefix (it is matched from the start of the object names).");
  }

  std::shared_ptr<const Fetcher> shared = fetcher;
  const auto ol_namespace = fetcher->store->ol_namespace();
  std::vector<lineage::Input> inputs;
  inputs.reserve(objects.size());
  for (auto& object : objects) {
    lineage::Input in;
    in.name = fetcher->store->object_url(object);
    in.version = strip_quotes(object.version_id.empty() ? object.etag : object.version_id);
    in.size = object.size;
    in.ol_namespace = ol_namespace;
    in.ol_name = object.name;
    // Raw bytes: read_input recognises gzip by its magic and reports a corrupt stream as malformed
    // input (keeping the records before the damage) instead of failing the object.
    in.open = [shared, object]() -> std::unique_ptr<lineage::ByteSource> { return open_object(shared, object); };
    inputs.push_back(std::move(in));
  }
  return inputs;
}

struct Prefetcher::Slot {
  std::unique_ptr<lineage::ByteSource> source;
  std::exception_ptr error;
};

Prefetcher::Prefetcher(std::span<const lineage::Input> inputs, std::size_t ahead)
    : inputs_(inputs), ahead_(ahead), slots_(inputs.size()) {}

Prefetcher::~Prefetcher() = default;

void Prefetcher::fill(std::size_t from) {
  const std::size_t end = std::min(inputs_.size(), from + ahead_ + 1);
  for (std::size_t i = from; i < end; ++i) {
    if (slots_[i]) {
      continue;
    }
    auto slot = std::make_unique<Slot>();
    try {
      slot->source = inputs_[i].open();
    } catch (...) {
      slot->error = std::current_exception();
    }
    slots_[i] = std::move(slot);
  }
}

std::unique_ptr<lineage::ByteSource> Prefetcher::take(std::size_t index) {
  if (index >= inputs_.size()) {
    throw Error::failure(fmt::format("prefetch index {} out of range ({} inputs)", index, inputs_.size()));
  }
  for (std::size_t i = low_; i < index; ++i) {
    slots_[i].reset();  // skipped or already taken
  }
  low_ = std::max(low_, index);
  fill(index);
  auto slot = std::move(slots_[index]);
  if (slot->error) {
    std::rethrow_exception(slot->error);
  }
  return std::move(slot->source);
}

}  // namespace aiot::storage
