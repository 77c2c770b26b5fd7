// Amazon S3 (and S3-compatible endpoints such as moto): ListObjectsV2 pages and GetObject requests,
// signed with SigV4 under S3's rules.
#include <fmt/format.h>

#include <algorithm>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/storage/remote.hpp"

namespace aiot::storage {

namespace {

std::string encode_key_path(std::string_view key) {
  std::string out;
  for (const auto& segment : str::split(key, '/')) {
    out += '/';
    out += http::url_encode(segment);
  }
  return out;
}

// host[:port] and path?query of an absolute URL.
std::pair<std::string, std::string> host_and_target(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto path_start = url.find_first_of("/?", host_start);
  if (path_start == std::string::npos) {
    return {url.substr(host_start), "/"};
  }
  std::string target = url.substr(path_start);
  if (target.front() == '?') {
    target.insert(0, "/");
  }
  return {url.substr(host_start, path_start - host_start), target};
}

[[noreturn]] void throw_for(const http::Response& r, const std::string& what) {
  const auto detail = error_summary(r.body);
  if (r.status == 401 || r.status == 403) {
    throw Error::auth(fmt::format("{}: HTTP {} {}", what, r.status, detail),
                      "Check the AWS credentials (aws sts get-caller-identity), the region and s3:ListBucket/s3:GetObject.");
  }
  if (r.status == 404) {
    throw Error::not_found(fmt::format("{}: HTTP 404 {}", what, detail));
  }
  if (r.status == 301 || r.status == 400) {
    if (auto region = http::find_header(r.headers, "x-amz-bucket-region")) {
      throw Error::usage(fmt::format("{}: the bucket is in region {}", what, *region),
                         fmt::format("Set AWS_REGION={} (or aws.region).", *region));
    }
  }
  throw Error::failure(fmt::format("{}: HTTP {} {}", what, r.status, detail));
}

class S3Store final : public Store {
 public:
  S3Store(Location where, http::Signer signer, std::string region, std::string endpoint,
          std::shared_ptr<http::Client> client)
      : where_(std::move(where)), signer_(std::move(signer)), client_(std::move(client)) {
    while (!endpoint.empty() && endpoint.back() == '/') {
      endpoint.pop_back();
    }
    if (!endpoint.empty()) {
      base_ = endpoint + "/" + where_.container;  // path-style
      list_url_ = base_;
    } else if (where_.container.find('.') != std::string::npos) {
      base_ = fmt::format("https://s3.{}.amazonaws.com/{}", region, where_.container);  // dots break TLS wildcards
      list_url_ = base_;
    } else {
      base_ = fmt::format("https://{}.s3.{}.amazonaws.com", where_.container, region);
      list_url_ = base_ + "/";
    }
  }

  Page list_page(const std::string& prefix, const std::string& delimiter, const std::string& token,
                 std::size_t page_size) override {
    std::string url = list_url_ + "?list-type=2";
    if (!token.empty()) {
      url += "&continuation-token=" + http::url_encode(token);
    }
    if (!delimiter.empty()) {
      url += "&delimiter=" + http::url_encode(delimiter);
    }
    if (page_size > 0) {
      url += fmt::format("&max-keys={}", page_size);
    }
    if (!prefix.empty()) {
      url += "&prefix=" + http::url_encode(prefix);
    }
    http::Request request;
    request.url = url;
    const auto response = client_->send(std::move(request));
    if (response.status != 200) {
      throw_for(response, fmt::format("listing s3://{}", where_.container));
    }
    return s3::parse_list_objects_v2(response.body);
  }

  http::Request object_request(const ObjectInfo& object) const override {
    http::Request request;
    request.url = base_ + encode_key_path(object.name);
    if (!object.version_id.empty()) {
      request.url += "?versionId=" + http::url_encode(object.version_id);
    }
    return request;
  }

  void sign(http::Request& request) const override { signer_(request); }

  std::string object_url(const ObjectInfo& object) const override {
    return fmt::format("s3://{}/{}", where_.container, object.name);
  }

  std::string ol_namespace() const override { return "s3://" + where_.container; }

 private:
  Location where_;
  http::Signer signer_;
  std::shared_ptr<http::Client> client_;
  std::string base_;
  std::string list_url_;
};

}  // namespace

http::Signer s3_signer(sigv4::Credentials credentials, std::string region, std::function<TimePoint()> now) {
  return [credentials = std::move(credentials), region = std::move(region), now = std::move(now)](http::Request& r) {
    const auto [host, target] = host_and_target(r.url);
    sigv4::SignableRequest signable{r.method, target, {}, r.body};
    for (const auto& h : r.headers) {
      const auto lower = str::to_lower(h.first);
      if (lower != "authorization" && lower != "x-amz-date" && lower != "x-amz-content-sha256" &&
          lower != "x-amz-security-token" && lower != "host") {
        signable.headers.push_back(h);
      }
    }
    signable.headers.emplace_back("Host", host);
    sigv4::Config config;
    config.region = region;
    config.service = "s3";
    config.time = now();
    config.normalize_path = false;
    config.double_encode_path = false;
    config.add_content_sha256_header = true;
    sigv4::sign(signable, credentials, config);
    r.headers = std::move(signable.headers);
  };
}

std::shared_ptr<Store> make_s3_store(const Location& where, sigv4::Credentials credentials, std::string region,
                                     std::string endpoint, std::shared_ptr<http::Client> client,
                                     std::function<TimePoint()> now) {
  auto signer = s3_signer(std::move(credentials), region, std::move(now));
  return std::make_shared<S3Store>(where, std::move(signer), std::move(region), std::move(endpoint),
                                   std::move(client));
}

}  // namespace aiot::storage
