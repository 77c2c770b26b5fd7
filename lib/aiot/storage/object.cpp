// One remote object as a ByteSource: streamed, retried with the HTTP layer's policy, and resumed
// with a Range request (pinned to the listed etag) when a transfer breaks half-way.
#include <fmt/format.h>

#include <algorithm>

#include "aiot/core/error.hpp"
#include "aiot/storage/remote.hpp"

namespace aiot::storage {

namespace {

std::string etag_header(const std::string& etag) {
  if (etag.empty() || etag.front() == '"' || etag.rfind("W/", 0) == 0) {
    return etag;
  }
  return "\"" + etag + "\"";
}

class ObjectSource final : public lineage::ByteSource {
 public:
  ObjectSource(std::shared_ptr<const Fetcher> fetcher, ObjectInfo object)
      : fetcher_(std::move(fetcher)),
        object_(std::move(object)),
        url_(fetcher_->store->object_url(object_)),
        rng_(fetcher_->seed != 0 ? fetcher_->seed : std::random_device{}()) {
    start();
  }

  std::size_t read(char* buf, std::size_t n) override {
    if (n == 0) {
      return 0;
    }
    for (;;) {
      if (!head_checked_) {
        if (!check_head()) {
          continue;  // restarted
        }
      }
      const std::size_t got = stream_->read(buf, n);
      if (got > 0) {
        offset_ += got;
        return got;
      }
      const auto broken = stream_->broken();
      if (broken == http::TransportError::none && (object_.size == 0 || offset_ >= object_.size || !sized_)) {
        return 0;
      }
      http::Response last;
      last.transport_error = broken == http::TransportError::none ? http::TransportError::reset : broken;
      last.error_text = broken == http::TransportError::none
                            ? fmt::format("the body ended after {} of {} bytes", offset_, object_.size)
                            : stream_->broken_text();
      retry(last);
    }
  }

 private:
  void start() {
    http::Request request = fetcher_->store->object_request(object_);
    if (offset_ > 0) {
      http::set_header(request.headers, "Range", fmt::format("bytes={}-", offset_));
      if (!object_.etag.empty()) {
        http::set_header(request.headers, "If-Match", etag_header(object_.etag));
      }
    }
    fetcher_->store->sign(request);
    if (fetcher_->trace) {
      fetcher_->trace(http::redact(fmt::format("> GET {}{} (streamed)", request.url,
                                               offset_ > 0 ? fmt::format(" Range: bytes={}-", offset_) : "")));
    }
    stream_ = fetcher_->stream->start(request);
    head_checked_ = false;
  }

  // True when the body can be read; false after a restart; throws when the object cannot be read.
  bool check_head() {
    const http::Response& head = stream_->head();
    if (fetcher_->trace) {
      fetcher_->trace(head.status == 0 ? fmt::format("< {}: {}", url_, head.error_text)
                                       : fmt::format("< {} {}", head.status, url_));
    }
    if (head.status == 200 || head.status == 206) {
      head_checked_ = true;
      // Trust the size in the listing unless the answer is a full body with its own length.
      sized_ = object_.size > 0;
      if (head.status == 200 && offset_ > 0) {
        skip(offset_);  // the server ignored the Range: drop what was already delivered
      }
      return true;
    }
    if (http::default_classify(head) == http::Verdict::retry) {
      retry(head);
      return false;
    }
    std::string body(64 * 1024, '\0');
    std::size_t filled = 0;
    while (filled < body.size()) {
      const auto got = stream_->read(body.data() + filled, body.size() - filled);
      if (got == 0) {
        break;
      }
      filled += got;
    }
    body.resize(filled);
    const auto detail = head.status == 0 ? head.error_text : error_summary(body);
    const auto message = fmt::format("{}: HTTP {} {}", url_, head.status, detail);
    if (head.status == 401 || head.status == 403) {
      throw Error::auth(message, "Check the credentials' read permission on the objects.");
    }
    if (head.status == 404) {
      throw Error::not_found(message);
    }
    if (head.status == 412) {
      throw Error::failure(fmt::format("{}: changed while it was being read (etag {} no longer matches)", url_, object_.etag));
    }
    throw Error::failure(message);
  }

  void skip(std::uint64_t bytes) {
    char scratch[64 * 1024];
    while (bytes > 0) {
      const auto got = stream_->read(scratch, static_cast<std::size_t>(std::min<std::uint64_t>(bytes, sizeof scratch)));
      if (got == 0) {
        break;
      }
      bytes -= got;
    }
  }

  // After a failed try: give up when the policy's attempts are used, else wait and try again.
  void retry(const http::Response& last) {
    if (offset_ > offset_at_failure_) {
      attempts_ = 1;  // progress since the last failure: a long object may break more than max_attempts times
      offset_at_failure_ = offset_;
    }
    if (attempts_ >= fetcher_->retry.max_attempts) {
      const auto why = last.status == 0 ? last.error_text : fmt::format("HTTP {}", last.status);
      throw Error::unavailable(fmt::format("{}: giving up after {} attempts: {}", url_, attempts_, why));
    }
    if (fetcher_->sleep) {
      fetcher_->sleep(fetcher_->retry.delay(attempts_, last, rng_));
    }
    ++attempts_;
    start();
  }

  std::shared_ptr<const Fetcher> fetcher_;
  ObjectInfo object_;
  std::string url_;
  std::mt19937_64 rng_;
  std::unique_ptr<http::BodyStream> stream_;
  bool head_checked_ = false;
  bool sized_ = false;
  std::uint64_t offset_ = 0;
  std::uint64_t offset_at_failure_ = 0;
  int attempts_ = 1;  // tries since the last progress, including the current one
};

}  // namespace

std::unique_ptr<lineage::ByteSource> open_object(std::shared_ptr<const Fetcher> fetcher, ObjectInfo object) {
  return std::make_unique<ObjectSource>(std::move(fetcher), std::move(object));
}

}  // namespace aiot::storage
