#pragma once
// A scripted http::Transport for unit and in-process command tests: no sockets.
//
//   auto fake = std::make_shared<aiot::test::FakeTransport>();
//   fake->expect("PUT", R"(https://h/devices/d1\?api-version=.*)").reply(200, R"({"deviceId":"d1"})");
//   fake->expect("GET", ".*/devices/d2.*").reply(503).then(200, "{}");   // two stubs, used in order
//   ... run code that sends through `fake` ...
//   fake->verify_done();   // every stub was used
//
// Each stub answers exactly one request; stubs are matched in the order they were added (the first
// unused one whose method and URL regex match wins). A request that no stub matches fails the
// current test with its request line and gets a status-0 "other" answer. Everything sent is kept
// in requests() for assertions (headers and bodies as sent, i.e. signed).
#include <doctest/doctest.h>

#include <functional>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include "aiot/http/transport.hpp"

namespace aiot::test {

class FakeTransport : public http::Transport {
 public:
  struct Stub {
    std::string method;
    std::string url_pattern;
    std::regex url;
    http::Response response;
    // Optional: inspects the request (e.g. CHECKs on its body) before the answer goes back.
    std::function<void(const http::Request&)> inspect;
    bool used = false;
  };

  // Chainable handle for filling in a stub's answer.
  class StubRef {
   public:
    StubRef(FakeTransport& owner, std::size_t index) : owner_(&owner), index_(index) {}
    StubRef& reply(int status, std::string body = {}, http::Headers headers = {}) {
      auto& r = owner_->stubs_[index_].response;
      r.status = status;
      r.body = std::move(body);
      r.headers = std::move(headers);
      return *this;
    }
    StubRef& fail(http::TransportError error, std::string text = "scripted transport error") {
      auto& r = owner_->stubs_[index_].response;
      r.status = 0;
      r.transport_error = error;
      r.error_text = std::move(text);
      return *this;
    }
    StubRef& inspect(std::function<void(const http::Request&)> f) {
      owner_->stubs_[index_].inspect = std::move(f);
      return *this;
    }
    // Another stub with the same method and URL pattern, used after this one.
    StubRef then(int status, std::string body = {}, http::Headers headers = {}) {
      const auto& s = owner_->stubs_[index_];
      return owner_->expect(s.method, s.url_pattern).reply(status, std::move(body), std::move(headers));
    }
    StubRef then_fail(http::TransportError error) {
      const auto& s = owner_->stubs_[index_];
      return owner_->expect(s.method, s.url_pattern).fail(error);
    }

   private:
    FakeTransport* owner_;
    std::size_t index_;
  };

  // `url_regex` must match the whole URL (std::regex_match, ECMAScript).
  StubRef expect(std::string method, std::string url_regex) {
    std::lock_guard lock(mutex_);
    Stub s;
    s.method = std::move(method);
    s.url = std::regex(url_regex);
    s.url_pattern = std::move(url_regex);
    s.response.status = 200;
    stubs_.push_back(std::move(s));
    return StubRef(*this, stubs_.size() - 1);
  }

  http::Response send(const http::Request& request) override {
    std::function<void(const http::Request&)> inspect;
    http::Response response;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      Stub* match = nullptr;
      for (auto& s : stubs_) {
        if (!s.used && s.method == request.method && std::regex_match(request.url, s.url)) {
          match = &s;
          break;
        }
      }
      if (match == nullptr) {
        unexpected_.push_back(request.method + " " + request.url);
        response.status = 0;
        response.transport_error = http::TransportError::other;
        response.error_text = "FakeTransport: no stub for " + request.method + " " + request.url;
      } else {
        match->used = true;
        inspect = match->inspect;
        response = match->response;
      }
    }
    if (response.status == 0 && response.transport_error == http::TransportError::other &&
        response.error_text.rfind("FakeTransport: no stub", 0) == 0) {
      FAIL_CHECK("unexpected request: " << request.method << " " << request.url);
    }
    if (inspect) {
      inspect(request);
    }
    return response;
  }

  std::vector<http::Response> send_all(std::span<const http::Request> requests) override {
    {
      std::lock_guard lock(mutex_);
      ++send_all_calls_;
      max_batch_ = std::max(max_batch_, requests.size());
    }
    std::vector<http::Response> out;
    out.reserve(requests.size());
    for (const auto& r : requests) {
      out.push_back(send(r));
    }
    return out;
  }

  // Fails the current test for every stub that was never used.
  void verify_done() const {
    std::lock_guard lock(mutex_);
    for (const auto& s : stubs_) {
      if (!s.used) {
        FAIL_CHECK("stub never used: " << s.method << " " << s.url_pattern);
      }
    }
  }

  std::vector<http::Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::string> unexpected() const {
    std::lock_guard lock(mutex_);
    return unexpected_;
  }
  std::size_t send_all_calls() const {
    std::lock_guard lock(mutex_);
    return send_all_calls_;
  }
  std::size_t max_batch() const {
    std::lock_guard lock(mutex_);
    return max_batch_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Stub> stubs_;
  std::vector<http::Request> requests_;
  std::vector<std::string> unexpected_;
  std::size_t send_all_calls_ = 0;
  std::size_t max_batch_ = 0;
};

}  // namespace aiot::test
