// The dialect-neutral part of `aiot hub serve`: --throttle and --faults specs and the Governor.
#include "aiot/emulator/server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::emulator {

namespace {

std::optional<double> parse_number(std::string_view text) {
  const std::string s(str::trim(text));
  if (s.empty()) {
    return std::nullopt;
  }
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) {
      return std::nullopt;
    }
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

ThrottleSpec parse_throttle(std::string_view text) {
  ThrottleSpec spec;
  if (str::trim(text).empty()) {
    return spec;
  }
  for (const auto& raw : str::split(text, ',')) {
    const std::string item(str::trim(raw));
    auto bad = [&](std::string_view why) {
      return Error::usage(fmt::format("--throttle: bad item '{}': {}", item, why),
                          "Write CLASS=N/s, CLASS=N/min or CLASS=N/h, comma-separated, e.g. identity=100/s,query=20/min.");
    };
    std::string key, value;
    if (!str::split_kv(item, key, value)) {
      throw bad("expected CLASS=RATE");
    }
    key = std::string(str::trim(key));
    const auto slash = value.find('/');
    const auto number = parse_number(value.substr(0, slash));
    if (!number || *number <= 0) {
      throw bad("the rate must be a positive number");
    }
    double per_second = *number;
    if (slash != std::string::npos) {
      const std::string unit = str::to_lower(str::trim(value.substr(slash + 1)));
      if (unit == "s" || unit == "sec") {
        per_second = *number;
      } else if (unit == "min" || unit == "m") {
        per_second = *number / 60.0;
      } else if (unit == "h" || unit == "hour") {
        per_second = *number / 3600.0;
      } else {
        throw bad(fmt::format("unknown unit '/{}' (use /s, /min or /h)", unit));
      }
    }
    if (spec.per_second.count(key) != 0) {
      throw bad("the class is given twice");
    }
    spec.per_second[key] = per_second;
  }
  return spec;
}

FaultSpec parse_faults(std::string_view text) {
  FaultSpec spec;
  if (str::trim(text).empty()) {
    return spec;
  }
  std::map<std::string, bool> seen;
  for (const auto& raw : str::split(text, ',')) {
    const std::string item(str::trim(raw));
    auto bad = [&](std::string_view why) {
      return Error::usage(fmt::format("--faults: bad item '{}': {}", item, why),
                          "Write KIND=P with P in 0..1, e.g. 429=0.2,503=0.05,reset=0.02,delay=0.1:200ms.");
    };
    std::string key, value;
    if (!str::split_kv(item, key, value)) {
      throw bad("expected KIND=PROBABILITY");
    }
    key = str::to_lower(str::trim(key));
    std::string probability_text = value;
    std::optional<std::chrono::milliseconds> delay_by;
    if (key == "delay") {
      const auto colon = value.find(':');
      if (colon == std::string::npos) {
        throw bad("delay needs a duration: delay=P:DURATION, e.g. delay=0.1:200ms");
      }
      probability_text = value.substr(0, colon);
      delay_by = parse_duration(str::trim(value.substr(colon + 1)));
      if (!delay_by || delay_by->count() <= 0) {
        throw bad("the delay must be a duration such as 200ms or 2s");
      }
    }
    const auto p = parse_number(probability_text);
    if (!p || *p < 0 || *p > 1) {
      throw bad("the probability must be a number from 0 to 1");
    }
    double* slot = nullptr;
    std::string canonical;
    if (key == "429" || key == "throttle") {
      slot = &spec.throttle;
      canonical = "429";
    } else if (key == "503" || key == "unavailable") {
      slot = &spec.unavailable;
      canonical = "503";
    } else if (key == "reset") {
      slot = &spec.reset;
      canonical = "reset";
    } else if (key == "delay") {
      slot = &spec.delay;
      canonical = "delay";
      spec.delay_by = *delay_by;
    } else {
      throw bad("unknown kind (use 429 or throttle, 503, reset, delay)");
    }
    if (seen[canonical]) {
      throw bad("the kind is given twice");
    }
    seen[canonical] = true;
    *slot = *p;
  }
  const double sum = spec.throttle + spec.unavailable + spec.reset + spec.delay;
  if (sum > 1.0 + 1e-9) {
    throw Error::usage(fmt::format("--faults: the probabilities add up to {:.3g}, more than 1", sum),
                       "Each request gets at most one fault; lower some of them.");
  }
  return spec;
}

Governor::Governor(ThrottleSpec throttle, FaultSpec faults, std::uint64_t seed)
    : throttle_(std::move(throttle)), faults_(faults), rng_(seed) {}

Fault Governor::draw_fault() {
  const double total = faults_.throttle + faults_.unavailable + faults_.reset + faults_.delay;
  if (total <= 0) {
    return Fault::none;
  }
  double u = 0;
  {
    std::lock_guard lock(mutex_);
    u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  double edge = faults_.throttle;
  if (u < edge) {
    return Fault::throttle;
  }
  edge += faults_.unavailable;
  if (u < edge) {
    return Fault::unavailable;
  }
  edge += faults_.reset;
  if (u < edge) {
    return Fault::reset;
  }
  edge += faults_.delay;
  if (u < edge) {
    return Fault::delay;
  }
  return Fault::none;
}

bool Governor::over_limit(const std::string& op_class, double cost) {
  const auto rate_it = throttle_.per_second.find(op_class);
  if (rate_it == throttle_.per_second.end()) {
    return false;
  }
  const double rate = rate_it->second;
  // Capacity is one second's worth, but at least one operation: 20/min still lets one through.
  const double capacity = std::max(rate, 1.0);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(op_class, Bucket{capacity, now});
  Bucket& b = it->second;
  if (!inserted) {
    const double seconds = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(capacity, b.tokens + seconds * rate);
    b.last = now;
  }
  // A bulk call costing more than the bucket holds goes when the bucket is full and leaves a debt.
  const double needed = std::min(cost, capacity);
  if (b.tokens + 1e-9 < needed) {
    return true;
  }
  b.tokens -= cost;
  return false;
}

}  // namespace aiot::emulator
