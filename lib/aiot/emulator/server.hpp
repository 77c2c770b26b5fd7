#pragma once
// `aiot hub serve`: the local engine over HTTP in the Azure IoT Hub or AWS IoT dialect, for scripts
// and for aiot's own REST providers in integration tests. Loopback by default. This header is the
// dialect-neutral part: options, throttling and fault injection; each dialect registers its routes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "aiot/core/time.hpp"

namespace aiot::emulator {

// --throttle "identity=100/s,query=20/min,twin=50/s": operation class -> allowed rate.
struct ThrottleSpec {
  std::map<std::string, double> per_second;
};
// Throws Error::usage naming the bad item.
ThrottleSpec parse_throttle(std::string_view text);

// --faults "429=0.2,503=0.05,reset=0.02,delay=0.1:200ms": each request independently gets a 429
// (or the dialect's throttling answer), a 503, a dropped connection (no response), or an added
// delay, with the given probabilities. Seeded, so a run can be repeated.
struct FaultSpec {
  double throttle = 0, unavailable = 0, reset = 0, delay = 0;
  std::chrono::milliseconds delay_by{0};
};
FaultSpec parse_faults(std::string_view text);

enum class Fault { none, throttle, unavailable, reset, delay };

// Decides per request which fault (if any) to inject and whether a class is over its rate.
// Thread-safe: the HTTP server handles requests on several threads.
class Governor {
 public:
  Governor(ThrottleSpec throttle, FaultSpec faults, std::uint64_t seed);
  Fault draw_fault();
  // True when one more operation of `op_class` would exceed its configured rate (sliding 1 s
  // token bucket with burst = rate). `cost` counts e.g. devices in a bulk call.
  bool over_limit(const std::string& op_class, double cost = 1.0);
  const FaultSpec& faults() const { return faults_; }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  ThrottleSpec throttle_;
  FaultSpec faults_;
  std::mt19937_64 rng_;
  std::map<std::string, Bucket> buckets_;
  std::mutex mutex_;
};

struct ServeOptions {
  std::string api;                    // "azure" | "aws"
  std::string bind = "127.0.0.1";
  int port = 0;                        // 0 = any free port
  std::filesystem::path port_file;     // when set, the chosen port is written here (atomically) once listening
  std::filesystem::path hub_path;      // the local engine's SQLite file
  std::filesystem::path credentials_out;  // when set, the emulator writes how to connect (0600): see each dialect
  ThrottleSpec throttle;
  FaultSpec faults;
  std::uint64_t seed = 1;
  int verbosity = 0;                   // 1: a log line per request
};

// Where the emulator writes log lines (stderr in the CLI).
using LogSink = std::function<void(const std::string&)>;

// Runs until SIGINT/SIGTERM or stop_flag; returns the exit code. Implemented per dialect.
int serve_azure(const ServeOptions& options, Clock clock, LogSink log, std::atomic<bool>& stop_flag);
int serve_aws(const ServeOptions& options, Clock clock, LogSink log, std::atomic<bool>& stop_flag);

}  // namespace aiot::emulator
