#pragma once
// The Client every provider talks through: signs each attempt, paces requests with a token bucket
// per operation class, retries what is worth retrying with exponential backoff and full jitter
// (honouring Retry-After) inside a retry budget per command, and traces requests for --debug with
// every secret redacted. Time and sleep are injected, so unit tests need no real clock.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "aiot/http/transport.hpp"

namespace aiot::http {

using Clock = std::function<std::chrono::steady_clock::time_point()>;
using Sleeper = std::function<void(std::chrono::milliseconds)>;

// Real time for production use.
Clock steady_clock_now();
Sleeper real_sleeper();

enum class Verdict { success, retry, fail };

// Decides per provider: Azure retries 429 and 5xx; AWS also retries HTTP 400 ThrottlingException.
// Transport errors (status 0) other than TLS are retried by default.
using Classifier = std::function<Verdict(const Response&)>;
Verdict default_classify(const Response& r);

struct RetryPolicy {
  int max_attempts = 6;                          // per request, including the first
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{30'000};
  int budget = 200;                              // retries allowed for the whole command
  // Delay before attempt `attempt` (1 = first retry): full jitter, uniform in [0, min(cap, base*2^(attempt-1))],
  // or Retry-After (seconds or HTTP date) when the server sent one, whichever is larger.
  std::chrono::milliseconds delay(int attempt, const Response& last, std::mt19937_64& rng) const;
};

// Token bucket: `rate` tokens per second, up to `burst`. acquire() sleeps until a token is free.
// A cost above `burst` is let through when the bucket is full and leaves a debt (a bulk call of
// 100 devices against a 10/s bucket waits for the refill afterwards instead of never going).
class RateLimiter {
 public:
  RateLimiter(double rate_per_second, double burst, Clock clock, Sleeper sleeper);
  void acquire(double tokens = 1.0);
  // Takes the tokens if they are there now; never sleeps.
  bool try_acquire(double tokens = 1.0);

 private:
  void refill();
  bool try_acquire_locked(double tokens);
  double rate_, burst_, tokens_;
  std::chrono::steady_clock::time_point last_;
  Clock clock_;
  Sleeper sleeper_;
  std::mutex mutex_;
};

// Adds authentication to one attempt (SAS header, SigV4 headers); called again on every retry
// so signatures and tokens stay fresh.
using Signer = std::function<void(Request&)>;

// Receives one trace line for --debug; the Client has redacted it already.
using Tracer = std::function<void(const std::string& line)>;

// Replaces secrets in a trace line: Authorization values, SAS sig=..., X-Amz-Security-Token,
// X-Amz-Signature, and JSON fields named like keys (primaryKey, secondaryKey, SharedAccessKey,
// secretAccessKey, privateKey, keyPair...).
std::string redact(std::string_view text);

struct ClientOptions {
  RetryPolicy retry;
  Classifier classify = default_classify;
  Signer sign;
  Tracer trace;
  Clock clock = steady_clock_now();
  Sleeper sleep = real_sleeper();
  std::uint64_t seed = std::random_device{}();
};

struct RetryStats {
  int requests = 0;   // attempts sent
  int retries = 0;
  int throttled = 0;  // answers classified as throttling (429, ThrottlingException)
};

class Client {
 public:
  Client(std::shared_ptr<Transport> transport, ClientOptions options);

  // Sets a token bucket for an operation class ("identity", "query", "twin"...).
  void set_rate(const std::string& op_class, double per_second, double burst);

  // Sends with pacing, signing and retries. Returns the final response (success or fail verdict).
  // Throws Error::unavailable when retries or the budget run out on a retryable failure, with
  // the last status and message. `cost` is the tokens one attempt takes from the op_class bucket
  // (e.g. the number of devices in a bulk call); no bucket for op_class (or empty) = no pacing.
  Response send(Request request, const std::string& op_class = {}, double cost = 1.0);
  // Several requests concurrently (each with its own retries, `cost` tokens per attempt);
  // responses in order. Retries go in rounds: after a round, the ones to retry wait for the
  // longest delay among them and are sent again together. Throws like send() once a round has
  // finished if any request ran out of attempts or budget.
  std::vector<Response> send_all(std::vector<Request> requests, const std::string& op_class = {},
                                 double cost = 1.0);

  const RetryStats& stats() const { return stats_; }

 private:
  RateLimiter* limiter_for(const std::string& op_class);
  Request prepare_attempt(const Request& request, int attempt);  // signs and traces
  Verdict record(const Response& response);                      // traces, classifies, counts
  // The delay before the next attempt (taking one from the budget), or throws Error::unavailable.
  std::optional<std::chrono::milliseconds> plan_retry(const Request& request, const Response& response, int attempts);

  std::shared_ptr<Transport> transport_;
  ClientOptions options_;
  std::map<std::string, std::unique_ptr<RateLimiter>> limiters_;
  std::mt19937_64 rng_;
  int budget_left_;
  RetryStats stats_;
  std::mutex mutex_;
};

}  // namespace aiot::http
