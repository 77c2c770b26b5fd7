// Streaming downloads: one thread drives a curl multi handle for every open stream; each stream's
// write callback fills a bounded buffer and pauses the transfer when it is full, and the reader
// wakes the driver when it has made room.
#include "aiot/http/stream.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::http {

namespace {

TransportError map_error(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return TransportError::none;
    case CURLE_COULDNT_CONNECT:
      return TransportError::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::timeout;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportError::reset;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
      return TransportError::tls;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportError::dns;
    default:
      return TransportError::other;
  }
}

void check_url(const Request& request) {
  const bool https = request.url.rfind("https://", 0) == 0;
  const bool http = request.url.rfind("http://", 0) == 0;
  if (!https && !http) {
    throw Error::usage(fmt::format("not an http(s) URL: '{}'", request.url.substr(0, request.url.find('?'))));
  }
  if (http && !is_loopback_url(request.url)) {
    throw Error::usage(fmt::format("refusing {} {}: plain HTTP is only allowed for loopback endpoints; use https",
                                   request.method, request.url.substr(0, request.url.find('?'))),
                       "Use an https:// endpoint.");
  }
}

// What the driver thread and the reader share for one transfer.
struct State {
  std::mutex mutex;
  std::condition_variable changed;
  Response head;
  bool head_ready = false;
  std::string buffer;  // unread bytes are buffer[read_pos, size)
  std::size_t read_pos = 0;
  std::size_t capacity = 0;
  bool paused = false;
  bool done = false;
  bool cancelled = false;
  TransportError broken = TransportError::none;
  std::string broken_text;

  // Driver-only.
  Request request;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  Headers pending_headers;

  std::size_t unread() const { return buffer.size() - read_pos; }
};

void mark_head_ready(State& s) {
  if (!s.head_ready) {
    long code = 0;
    curl_easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &code);
    s.head.status = static_cast<int>(code);
    s.head.headers = s.pending_headers;
    s.head_ready = true;
    s.changed.notify_all();
  }
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* s = static_cast<State*>(user);
  const std::string_view line(data, size * count);
  std::lock_guard lock(s->mutex);
  if (line.rfind("HTTP/", 0) == 0) {
    s->pending_headers.clear();
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    s->pending_headers.emplace_back(std::string(str::trim(line.substr(0, colon))),
                                    std::string(str::trim(line.substr(colon + 1))));
  } else if (str::trim(line).empty()) {
    // The end of a header block: final unless it was an interim 1xx.
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200) {
      mark_head_ready(*s);
    }
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* s = static_cast<State*>(user);
  const std::size_t n = size * count;
  std::lock_guard lock(s->mutex);
  if (s->cancelled) {
    return 0;  // aborts the transfer
  }
  mark_head_ready(*s);
  if (s->unread() > 0 && s->unread() + n > s->capacity) {
    s->paused = true;  // curl keeps this chunk and delivers it again after the unpause
    return CURL_WRITEFUNC_PAUSE;
  }
  if (s->read_pos > 0 && s->read_pos >= s->buffer.size() / 2) {
    s->buffer.erase(0, s->read_pos);  // compact: keeps the buffer near `capacity`
    s->read_pos = 0;
  }
  s->buffer.append(data, n);
  s->changed.notify_all();
  return n;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

class Driver : public std::enable_shared_from_this<Driver> {
 public:
  Driver(TransportOptions options, std::size_t buffer_bytes)
      : options_(std::move(options)), buffer_bytes_(std::max<std::size_t>(buffer_bytes, 64 * 1024)) {
    global_init();
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      throw Error::failure("cannot initialise libcurl");
    }
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 32L);
    thread_ = std::thread([this] { run(); });
  }

  ~Driver() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_);
    work_.notify_all();
    thread_.join();
    curl_multi_cleanup(multi_);
  }

  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  std::shared_ptr<State> submit(const Request& request) {
    check_url(request);
    auto s = std::make_shared<State>();
    s->capacity = buffer_bytes_;
    s->request = request;
    {
      std::lock_guard lock(mutex_);
      incoming_.push_back(s);
    }
    curl_multi_wakeup(multi_);
    work_.notify_all();
    return s;
  }

  void poke(const std::shared_ptr<State>& s) {
    {
      std::lock_guard lock(mutex_);
      pokes_.push_back(s);
    }
    curl_multi_wakeup(multi_);
  }

 private:
  void start(State& s) {
    CURL* e = curl_easy_init();
    if (e == nullptr) {
      throw Error::failure("cannot initialise a libcurl handle");
    }
    s.easy = e;
    const Request& r = s.request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) {
      curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    // No total timeout (a big object takes as long as it takes); a stall is no byte for `timeout`.
    const long stall_seconds = std::max<long>(1, static_cast<long>(r.timeout.count() / 1000));
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall_seconds);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!options_.user_agent.empty()) {
      curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
    }
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      if (!r.body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      }
    }
    // The body arrives as sent: no transparent decoding, so sizes and ranges stay the object's.
    for (const auto& [name, value] : r.headers) {
      s.header_list = curl_slist_append(s.header_list, fmt::format("{}: {}", name, value).c_str());
    }
    s.header_list = curl_slist_append(s.header_list, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s.header_list);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s.error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &s);
    curl_multi_add_handle(multi_, e);
  }

  void finish(State& s, CURLcode code) {
    {
      std::lock_guard lock(s.mutex);
      if (!s.head_ready) {
        if (code == CURLE_OK) {
          mark_head_ready(s);
        } else {
          s.head.status = 0;
          s.head.transport_error = map_error(code);
          s.head.error_text = s.error[0] != '\0' ? std::string(s.error) : curl_easy_strerror(code);
          s.head_ready = true;
        }
      }
      if (code != CURLE_OK) {
        s.broken = map_error(code);
        if (s.broken == TransportError::none) {
          s.broken = TransportError::other;
        }
        s.broken_text = s.error[0] != '\0' ? std::string(s.error) : curl_easy_strerror(code);
      }
      s.done = true;
      s.changed.notify_all();
    }
    release(s);
  }

  void release(State& s) {
    if (s.easy != nullptr) {
      curl_multi_remove_handle(multi_, s.easy);
      curl_easy_cleanup(s.easy);
      s.easy = nullptr;
    }
    if (s.header_list != nullptr) {
      curl_slist_free_all(s.header_list);
      s.header_list = nullptr;
    }
  }

  void run() {
    std::vector<std::shared_ptr<State>> active;
    for (;;) {
      std::vector<std::shared_ptr<State>> incoming;
      std::vector<std::shared_ptr<State>> pokes;
      {
        std::unique_lock lock(mutex_);
        if (active.empty()) {
          work_.wait(lock, [&] { return stopping_ || !incoming_.empty(); });
        }
        if (stopping_) {
          break;
        }
        incoming.swap(incoming_);
        pokes.swap(pokes_);
      }
      for (auto& s : incoming) {
        try {
          start(*s);
          active.push_back(s);
        } catch (const Error& e) {
          std::lock_guard lock(s->mutex);
          s->head.transport_error = TransportError::other;
          s->head.error_text = e.what();
          s->head_ready = true;
          s->done = true;
          s->broken = TransportError::other;
          s->changed.notify_all();
        }
      }
      // Cancelled streams go; paused ones with room again resume (outside the state lock: the
      // unpause may call on_body at once).
      for (auto it = active.begin(); it != active.end();) {
        auto& s = **it;
        bool cancelled = false;
        bool resume = false;
        {
          std::lock_guard lock(s.mutex);
          cancelled = s.cancelled;
          resume = s.paused && s.unread() <= s.capacity / 2;
          if (resume) {
            s.paused = false;
          }
        }
        if (cancelled) {
          release(s);
          it = active.erase(it);
          continue;
        }
        if (resume) {
          curl_easy_pause(s.easy, CURLPAUSE_CONT);
        }
        ++it;
      }
      int running = 0;
      curl_multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) {
          continue;
        }
        State* done = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&done));
        const CURLcode code = msg->data.result;
        auto it = std::find_if(active.begin(), active.end(), [&](const auto& p) { return p.get() == done; });
        if (it != active.end()) {
          auto keep = *it;
          active.erase(it);
          finish(*keep, code);
        }
      }
      if (!active.empty()) {
        curl_multi_poll(multi_, nullptr, 0, 250, nullptr);
      }
    }
    for (auto& s : active) {
      {
        std::lock_guard lock(s->mutex);
        s->broken = TransportError::other;
        s->broken_text = "the transport was closed";
        s->head_ready = true;
        s->done = true;
        s->changed.notify_all();
      }
      release(*s);
    }
  }

  TransportOptions options_;
  std::size_t buffer_bytes_;
  CURLM* multi_ = nullptr;
  std::mutex mutex_;
  std::condition_variable work_;
  std::vector<std::shared_ptr<State>> incoming_;
  std::vector<std::shared_ptr<State>> pokes_;
  bool stopping_ = false;
  std::thread thread_;
};

class CurlBodyStream final : public BodyStream {
 public:
  CurlBodyStream(std::shared_ptr<Driver> driver, std::shared_ptr<State> state)
      : driver_(std::move(driver)), state_(std::move(state)) {}

  ~CurlBodyStream() override {
    bool running = false;
    {
      std::lock_guard lock(state_->mutex);
      state_->cancelled = true;
      running = !state_->done;
    }
    if (running) {
      driver_->poke(state_);
    }
  }

  const Response& head() override {
    std::unique_lock lock(state_->mutex);
    state_->changed.wait(lock, [&] { return state_->head_ready; });
    return state_->head;
  }

  std::size_t read(char* buf, std::size_t n) override {
    bool wake = false;
    std::size_t got = 0;
    {
      std::unique_lock lock(state_->mutex);
      state_->changed.wait(lock, [&] { return state_->unread() > 0 || state_->done; });
      got = std::min(n, state_->unread());
      std::memcpy(buf, state_->buffer.data() + state_->read_pos, got);
      state_->read_pos += got;
      if (state_->read_pos == state_->buffer.size()) {
        state_->buffer.clear();
        state_->read_pos = 0;
      }
      wake = state_->paused && state_->unread() <= state_->capacity / 2;
    }
    if (wake) {
      driver_->poke(state_);
    }
    return got;
  }

  TransportError broken() const override {
    std::lock_guard lock(state_->mutex);
    return state_->broken;
  }

  std::string broken_text() const override {
    std::lock_guard lock(state_->mutex);
    return state_->broken_text;
  }

 private:
  std::shared_ptr<Driver> driver_;
  std::shared_ptr<State> state_;
};

class CurlStreamTransport final : public StreamTransport {
 public:
  CurlStreamTransport(const TransportOptions& options, std::size_t buffer_bytes)
      : driver_(std::make_shared<Driver>(options, buffer_bytes)) {}

  std::unique_ptr<BodyStream> start(const Request& request) override {
    return std::make_unique<CurlBodyStream>(driver_, driver_->submit(request));
  }

 private:
  std::shared_ptr<Driver> driver_;
};

class MemoryBodyStream final : public BodyStream {
 public:
  explicit MemoryBodyStream(Response response) : response_(std::move(response)) {
    body_.swap(response_.body);
  }
  const Response& head() override { return response_; }
  std::size_t read(char* buf, std::size_t n) override {
    const std::size_t got = std::min(n, body_.size() - pos_);
    std::memcpy(buf, body_.data() + pos_, got);
    pos_ += got;
    return got;
  }
  TransportError broken() const override { return TransportError::none; }
  std::string broken_text() const override { return {}; }

 private:
  Response response_;
  std::string body_;
  std::size_t pos_ = 0;
};

class BufferedStreamTransport final : public StreamTransport {
 public:
  explicit BufferedStreamTransport(std::shared_ptr<Transport> inner) : inner_(std::move(inner)) {}
  std::unique_ptr<BodyStream> start(const Request& request) override {
    return std::make_unique<MemoryBodyStream>(inner_->send(request));
  }

 private:
  std::shared_ptr<Transport> inner_;
};

}  // namespace

std::shared_ptr<StreamTransport> make_curl_stream_transport(const TransportOptions& options, std::size_t buffer_bytes) {
  return std::make_shared<CurlStreamTransport>(options, buffer_bytes);
}

std::shared_ptr<StreamTransport> buffered_stream_transport(std::shared_ptr<Transport> inner) {
  return std::make_shared<BufferedStreamTransport>(std::move(inner));
}

}  // namespace aiot::http
