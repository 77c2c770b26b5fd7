// The Client: pacing, signing, retries with backoff and a per-command budget, and redacted traces.
#include "aiot/http/client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <regex>
#include <thread>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::http {

using std::chrono::milliseconds;

Clock steady_clock_now() {
  return [] { return std::chrono::steady_clock::now(); };
}

Sleeper real_sleeper() {
  return [](milliseconds d) {
    if (d.count() > 0) {
      std::this_thread::sleep_for(d);
    }
  };
}

Verdict default_classify(const Response& r) {
  if (r.status == 0) {
    // A bad certificate or an unknown host will not fix itself within a command.
    if (r.transport_error == TransportError::tls || r.transport_error == TransportError::dns) {
      return Verdict::fail;
    }
    return Verdict::retry;
  }
  if (r.status >= 200 && r.status < 400) {
    return Verdict::success;
  }
  switch (r.status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return Verdict::retry;
    default:
      return Verdict::fail;
  }
}

namespace {

// Retry-After (delta-seconds or an HTTP-date), or AWS's x-amz-retry-after (milliseconds).
std::optional<milliseconds> retry_after(const Response& r) {
  if (auto v = find_header(r.headers, "x-amz-retry-after")) {
    try {
      return milliseconds(std::max<long long>(0, std::stoll(*v)));
    } catch (const std::exception&) {
      // ignore a malformed value
    }
  }
  const auto v = find_header(r.headers, "Retry-After");
  if (!v) {
    return std::nullopt;
  }
  const std::string text(str::trim(*v));
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; })) {
    try {
      return milliseconds(static_cast<long long>(std::stod(text) * 1000));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  std::tm tm{};
  if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) {
    return std::nullopt;
  }
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto wait = std::chrono::duration_cast<milliseconds>(at - std::chrono::system_clock::now());
  return std::max(milliseconds(0), wait);
}

// A server asking for more than this is not worth waiting for inside one command.
constexpr milliseconds k_max_retry_after{5 * 60 * 1000};

}  // namespace

milliseconds RetryPolicy::delay(int attempt, const Response& last, std::mt19937_64& rng) const {
  const double exponent = std::min(attempt - 1, 40);
  const double ceiling = std::min(static_cast<double>(cap.count()), static_cast<double>(base.count()) * std::pow(2.0, std::max(0.0, exponent)));
  std::uniform_real_distribution<double> jitter(0.0, std::max(0.0, ceiling));
  auto chosen = milliseconds(static_cast<long long>(jitter(rng)));
  if (auto floor = retry_after(last)) {
    chosen = std::max(chosen, std::min(*floor, k_max_retry_after));
  }
  return chosen;
}

RateLimiter::RateLimiter(double rate_per_second, double burst, Clock clock, Sleeper sleeper)
    : rate_(std::max(rate_per_second, 1e-9)),
      burst_(std::max(burst, 1.0)),
      tokens_(burst_),
      last_(clock()),
      clock_(std::move(clock)),
      sleeper_(std::move(sleeper)) {}

void RateLimiter::refill() {
  const auto now = clock_();
  const double seconds = std::chrono::duration<double>(now - last_).count();
  if (seconds > 0) {
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
  }
}

bool RateLimiter::try_acquire_locked(double tokens) {
  refill();
  // A cost above the burst can never be covered: it goes when the bucket is full and leaves a debt.
  const double needed = std::min(tokens, burst_);
  if (tokens_ + 1e-9 >= needed) {
    tokens_ -= tokens;
    return true;
  }
  return false;
}

bool RateLimiter::try_acquire(double tokens) {
  std::lock_guard lock(mutex_);
  return try_acquire_locked(tokens);
}

void RateLimiter::acquire(double tokens) {
  std::lock_guard lock(mutex_);
  while (!try_acquire_locked(tokens)) {
    const double missing = std::min(tokens, burst_) - tokens_;
    const auto wait = milliseconds(static_cast<long long>(std::ceil(missing / rate_ * 1000.0)));
    sleeper_(std::max(wait, milliseconds(1)));
  }
}

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

const char* transport_error_name(TransportError e) {
  switch (e) {
    case TransportError::none: return "no error";
    case TransportError::connect: return "connection refused";
    case TransportError::timeout: return "timed out";
    case TransportError::reset: return "connection reset";
    case TransportError::tls: return "TLS failure";
    case TransportError::dns: return "host not found";
    case TransportError::other: return "transport error";
  }
  return "transport error";
}

std::string describe_status(const Response& r) {
  if (r.status == 0) {
    return r.error_text.empty() ? transport_error_name(r.transport_error)
                                : fmt::format("{} ({})", transport_error_name(r.transport_error), r.error_text);
  }
  const char* phrase = reason_phrase(r.status);
  return *phrase != '\0' ? fmt::format("{} {}", r.status, phrase) : std::to_string(r.status);
}

constexpr std::size_t k_trace_body_limit = 2048;

std::string truncate_for_trace(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  return fmt::format("{}... ({} bytes)", text.substr(0, limit), text.size());
}

// The provider's own words, when the body has them: "message" / "Message" / error.message.
std::string provider_message(const std::string& body) {
  if (body.empty()) {
    return {};
  }
  try {
    const auto j = nlohmann::json::parse(body);
    for (const char* key : {"message", "Message"}) {
      if (j.is_object() && j.contains(key) && j[key].is_string()) {
        return j[key].get<std::string>();
      }
    }
    if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
        j["error"]["message"].is_string()) {
      return j["error"]["message"].get<std::string>();
    }
  } catch (const std::exception&) {
    // not JSON: fall through to the raw text
  }
  return std::string(str::trim(body.substr(0, 200)));
}

std::string url_for_message(const std::string& url) { return redact(url); }

bool is_throttling(const Response& r, Verdict v) {
  if (v != Verdict::retry) {
    return false;
  }
  return r.status == 429 || r.status == 400 || (r.status != 0 && r.body.find("Throttl") != std::string::npos);
}

}  // namespace

// ---- redaction -------------------------------------------------------------------------------

namespace {

// JSON string fields whose key names a secret: the value is replaced by hand (a regex over a long
// quoted value would recurse deeply in libstdc++).
void redact_json_fields(std::string& s) {
  static const std::regex key_re(
      R"re("(primaryKey|secondaryKey|sharedAccessKey|secretAccessKey|sessionToken|privateKey|keyPair|password|connectionString)"\s*:\s*")re",
      std::regex::icase | std::regex::optimize);
  std::string out;
  out.reserve(s.size());
  auto begin = s.cbegin();
  std::smatch m;
  while (std::regex_search(begin, s.cend(), m, key_re)) {
    out.append(begin, m[0].second);
    auto it = m[0].second;
    while (it != s.cend() && *it != '"') {
      if (*it == '\\' && std::next(it) != s.cend()) {
        ++it;
      }
      ++it;
    }
    out.append("***");
    begin = it;  // at the closing quote (or the end of a truncated text)
  }
  out.append(begin, s.cend());
  s = std::move(out);
}

void redact_pem_keys(std::string& s) {
  std::size_t pos = 0;
  while ((pos = s.find("-----BEGIN ", pos)) != std::string::npos) {
    const auto label_end = s.find("-----", pos + 11);
    if (label_end == std::string::npos) {
      break;
    }
    const std::string label = s.substr(pos + 11, label_end - pos - 11);
    if (label.find("PRIVATE KEY") == std::string::npos) {
      pos = label_end + 5;
      continue;
    }
    const std::string end_marker = "-----END " + label + "-----";
    const auto end = s.find(end_marker, label_end + 5);
    const auto stop = end == std::string::npos ? s.size() : end + end_marker.size();
    s.replace(pos, stop - pos, "***");
    pos += 3;
  }
}

}  // namespace

std::string redact(std::string_view text) {
  struct Rule {
    std::regex re;
    const char* replacement;
  };
  static const std::vector<Rule> rules = [] {
    const auto flags = std::regex::icase | std::regex::optimize;
    std::vector<Rule> r;
    // Header lines and JSON/query forms of the authorization value: everything to the end of the line.
    r.push_back({std::regex(R"re((authorization"?\s*[:=]\s*"?)[^"\r\n]*)re", flags), "$1***"});
    r.push_back({std::regex(R"re((x-amz-security-token"?\s*[:=]\s*"?)[^&"\s]*)re", flags), "$1***"});
    r.push_back({std::regex(R"re((x-amz-signature=)[^&"\s]*)re", flags), "$1***"});
    r.push_back({std::regex(R"re(([?&;\s"]sig=)[^&"\s;]*)re", flags), "$1***"});
    r.push_back({std::regex(R"re((SharedAccessKey=)[^;"\s]*)re", flags), "$1***"});
    return r;
  }();
  std::string s(text);
  redact_pem_keys(s);
  redact_json_fields(s);
  // "sig=" at the very start of the text has nothing before it for the rule's anchor.
  if (s.rfind("sig=", 0) == 0) {
    s.insert(0, " ");
    for (const auto& rule : rules) {
      s = std::regex_replace(s, rule.re, rule.replacement);
    }
    s.erase(0, 1);
  } else {
    for (const auto& rule : rules) {
      s = std::regex_replace(s, rule.re, rule.replacement);
    }
  }
  return s;
}

// ---- Client ----------------------------------------------------------------------------------

Client::Client(std::shared_ptr<Transport> transport, ClientOptions options)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      rng_(options_.seed),
      budget_left_(options_.retry.budget) {
  if (!options_.classify) {
    options_.classify = default_classify;
  }
  if (!options_.clock) {
    options_.clock = steady_clock_now();
  }
  if (!options_.sleep) {
    options_.sleep = real_sleeper();
  }
}

void Client::set_rate(const std::string& op_class, double per_second, double burst) {
  std::lock_guard lock(mutex_);
  limiters_[op_class] = std::make_unique<RateLimiter>(per_second, burst, options_.clock, options_.sleep);
}

RateLimiter* Client::limiter_for(const std::string& op_class) {
  if (op_class.empty()) {
    return nullptr;
  }
  std::lock_guard lock(mutex_);
  const auto it = limiters_.find(op_class);
  return it == limiters_.end() ? nullptr : it->second.get();
}

Request Client::prepare_attempt(const Request& request, int attempt) {
  Request r = request;
  if (options_.sign) {
    options_.sign(r);
  }
  if (options_.trace) {
    std::string line = fmt::format("> {} {}", r.method, redact(r.url));
    if (attempt > 1) {
      line += fmt::format(" (attempt {})", attempt);
    }
    options_.trace(line);
    for (const auto& [name, value] : r.headers) {
      options_.trace(redact(fmt::format("> {}: {}", name, value)));
    }
    if (!r.body.empty()) {
      options_.trace("> " + truncate_for_trace(redact(r.body), k_trace_body_limit));
    }
  }
  return r;
}

Verdict Client::record(const Response& response) {
  if (options_.trace) {
    options_.trace(fmt::format("< {} {} ms", describe_status(response), response.elapsed.count()));
    for (const auto& [name, value] : response.headers) {
      options_.trace(redact(fmt::format("< {}: {}", name, value)));
    }
    if (!response.body.empty()) {
      options_.trace("< " + truncate_for_trace(redact(response.body), k_trace_body_limit));
    }
  }
  const Verdict verdict = options_.classify(response);
  std::lock_guard lock(mutex_);
  ++stats_.requests;
  if (is_throttling(response, verdict)) {
    ++stats_.throttled;
  }
  return verdict;
}

std::optional<milliseconds> Client::plan_retry(const Request& request, const Response& response, int attempts) {
  std::lock_guard lock(mutex_);
  if (attempts < options_.retry.max_attempts && budget_left_ > 0) {
    --budget_left_;
    ++stats_.retries;
    return options_.retry.delay(attempts, response, rng_);
  }
  std::string message = fmt::format("{} {}: {} after {} attempt{}", request.method, url_for_message(request.url),
                                    describe_status(response), attempts, attempts == 1 ? "" : "s");
  if (const auto detail = provider_message(response.body); !detail.empty()) {
    message += fmt::format(": {}", redact(detail));
  }
  if (budget_left_ <= 0 && attempts < options_.retry.max_attempts) {
    message += " (retry budget of this command used up)";
  }
  throw Error::unavailable(std::move(message), "The hub is unreachable or throttling; try again later or lower the rate.");
}

Response Client::send(Request request, const std::string& op_class, double cost) {
  RateLimiter* limiter = limiter_for(op_class);
  for (int attempt = 1;; ++attempt) {
    if (limiter != nullptr) {
      limiter->acquire(cost);
    }
    const Request signed_request = prepare_attempt(request, attempt);
    Response response = transport_->send(signed_request);
    if (record(response) != Verdict::retry) {
      return response;
    }
    const auto wait = *plan_retry(request, response, attempt);
    if (options_.trace) {
      options_.trace(fmt::format("  retrying in {} ms", wait.count()));
    }
    options_.sleep(wait);
  }
}

std::vector<Response> Client::send_all(std::vector<Request> requests, const std::string& op_class, double cost) {
  RateLimiter* limiter = limiter_for(op_class);
  std::vector<Response> responses(requests.size());
  std::vector<int> attempts(requests.size(), 0);
  std::vector<std::size_t> pending(requests.size());
  for (std::size_t i = 0; i < pending.size(); ++i) {
    pending[i] = i;
  }

  // Sends a chunk concurrently and sorts the answers into done and to-retry.
  std::vector<std::size_t> retry_next;
  milliseconds round_wait{0};
  std::optional<Error> exhausted;
  auto flush = [&](std::vector<std::size_t>& chunk) {
    if (chunk.empty()) {
      return;
    }
    std::vector<Request> wire;
    wire.reserve(chunk.size());
    for (std::size_t i : chunk) {
      wire.push_back(prepare_attempt(requests[i], ++attempts[i]));
    }
    auto answers = transport_->send_all(wire);
    for (std::size_t k = 0; k < chunk.size(); ++k) {
      const std::size_t i = chunk[k];
      responses[i] = std::move(answers[k]);
      if (record(responses[i]) != Verdict::retry) {
        continue;
      }
      try {
        round_wait = std::max(round_wait, *plan_retry(requests[i], responses[i], attempts[i]));
        retry_next.push_back(i);
      } catch (const Error& e) {
        // Finish the round so every answer is accounted for, then report the first failure.
        if (!exhausted) {
          exhausted = e;
        }
      }
    }
    chunk.clear();
  };

  while (!pending.empty()) {
    std::vector<std::size_t> chunk;
    for (std::size_t i : pending) {
      // Send what the bucket allows now; wait for tokens only with nothing ready to go.
      if (limiter != nullptr && !limiter->try_acquire(cost)) {
        flush(chunk);
        limiter->acquire(cost);
      }
      chunk.push_back(i);
    }
    flush(chunk);
    if (exhausted) {
      throw *exhausted;
    }
    pending = std::move(retry_next);
    retry_next.clear();
    std::sort(pending.begin(), pending.end());
    if (!pending.empty()) {
      if (options_.trace) {
        options_.trace(fmt::format("  retrying {} request{} in {} ms", pending.size(), pending.size() == 1 ? "" : "s",
                                   round_wait.count()));
      }
      options_.sleep(round_wait);
      round_wait = milliseconds(0);
    }
  }
  return responses;
}

}  // namespace aiot::http
