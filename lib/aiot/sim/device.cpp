#include "aiot/sim/device.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "aiot/sim/random.hpp"

namespace aiot::sim {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds k_hour = std::chrono::hours(1);
constexpr double k_z95 = 1.6448536269514722;  // the standard normal's 95th percentile

// Reasons a real OTA agent gives; which one is drawn with the failure.
constexpr std::array<const char*, 5> k_failure_reasons = {
    "checksum mismatch",
    "not enough storage",
    "signature verification failed",
    "download interrupted",
    "post-install self-test failed",
};

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

seconds sample_total(Rng& rng, const Delay& d) {
  double ms = 0;
  if (d.kind == Delay::Kind::uniform) {
    ms = rng.uniform(static_cast<double>(d.a.count()), static_cast<double>(d.b.count()));
  } else {
    double mu = std::log(static_cast<double>(d.a.count()));
    double sigma = std::log(static_cast<double>(d.b.count()) / static_cast<double>(d.a.count())) / k_z95;
    ms = std::exp(mu + sigma * rng.normal());
  }
  // Three reports a second apart at least: the states stay distinct and ordered.
  return std::max(seconds(3), seconds(std::llround(ms / 1000.0)));
}

json ota(const char* state, const std::string& version, TimePoint ts, const std::string& error = {}) {
  json o = {{"state", state}, {"version", version}, {"ts", format_rfc3339(ts)}};
  // null removes a stale error from the twin (merge patch); a failure sets it.
  o["error"] = error.empty() ? json(nullptr) : json(error);
  return o;
}

json aiot_patch(const char* key, json value) { return json{{"aiot", json{{key, std::move(value)}}}}; }

// The top of the hour at or before t.
TimePoint floor_hour(TimePoint t) {
  auto ms = to_ms(t);
  auto h = k_hour.count();
  auto floored = (ms >= 0 ? ms / h : (ms - h + 1) / h) * h;
  return TimePoint(milliseconds(floored));
}

}  // namespace

InstallPlan plan_install(std::uint64_t seed, const DeviceState& d, const Behaviour& b) {
  // A fixed draw order: changing one rate does not move the other draws.
  auto rng = Rng::keyed(seed, {"install", d.id, d.target, std::to_string(d.attempt)});
  seconds total = sample_total(rng, b.delay);
  double download_share = rng.uniform(0.02, 0.10);
  double install_share = rng.uniform(0.35, 0.65);
  bool fails = rng.bernoulli(b.failure_rate);
  auto reason = k_failure_reasons[static_cast<std::size_t>(rng.uniform() * k_failure_reasons.size())];

  auto d1 = std::max(seconds(1), seconds(std::llround(static_cast<double>(total.count()) * download_share)));
  auto d2 = std::max(seconds(1), seconds(std::llround(static_cast<double>(total.count()) * install_share)));
  auto d3 = std::max(seconds(1), total - d1 - d2);
  TimePoint start = d.started.value_or(TimePoint{});
  InstallPlan plan;
  plan.downloading = start + d1;
  plan.installing = plan.downloading + d2;
  plan.done = plan.installing + d3;
  plan.succeeds = !fails;
  if (fails) plan.error = std::string("install failed: ") + reason;
  return plan;
}

json health_report(std::uint64_t seed, const std::string& id, const std::string& version, TimePoint ts,
                   const Behaviour& b) {
  auto rng = Rng::keyed(seed, {"health", id, version, std::to_string(to_ms(ts))});
  auto crashes = rng.poisson(b.crash_rate);
  double latency = std::max(0.0, rng.normal(b.latency_p95_ms.mean, b.latency_p95_ms.sd));
  double confidence = std::clamp(rng.normal(b.mean_confidence.mean, b.mean_confidence.sd), 0.0, 1.0);
  auto inferences = rng.poisson(b.inferences_per_hour);
  // Rounded like a device would: stable, readable JSON numbers.
  return json{{"crashes_1h", crashes},
              {"latency_p95_ms", std::round(latency * 10) / 10},
              {"mean_confidence", std::round(confidence * 1000) / 1000},
              {"inferences", inferences},
              // The version measured: a hub can then select the health of a version by query.
              {"version", version},
              {"ts", format_rfc3339(ts)}};
}

json initial_reported(std::uint64_t seed, const DeviceState& d, const Profile& p, TimePoint now) {
  auto b = p.resolve(d.running, d.hw, d.site, d.region);
  json o = ota("succeeded", d.running, now);
  o.erase("error");
  return json{{"aiot",
               {{"ota", std::move(o)},
                {"model", {{"name", d.model_name}, {"version", d.running}}},
                {"health", health_report(seed, d.id, d.running, now, b)}}}};
}

StepResult step(DeviceState& d, const Profile& p, std::uint64_t seed, TimePoint from, TimePoint to,
                const DesiredView& desired, bool every_report) {
  StepResult r;
  if (!desired.online) {
    // Offline: nothing is seen or reported, and the install in progress waits.
    if (d.started) d.started = *d.started + (to - from);
    return r;
  }

  if (!desired.version.empty() && desired.version != d.seen_desired) {
    d.seen_desired = desired.version;
    ++d.attempt;
    d.target = desired.version;
    d.target_name = desired.name.empty() ? d.model_name : desired.name;
    d.started = from;
    r.started = true;
  }

  std::string running_before = d.running;
  std::optional<TimePoint> success_at;
  if (!d.target.empty()) {
    auto b = p.resolve(d.target, d.hw, d.site, d.region);
    auto plan = plan_install(seed, d, b);
    auto in_interval = [&](TimePoint t) { return t > from && t <= to; };
    if (d.target == d.running) {
      // Already running it (a rollback of a failed or unfinished install): nothing to download,
      // the device acknowledges after its reaction delay.
      plan.done = plan.downloading;
      plan.succeeds = true;
    } else if (in_interval(plan.downloading)) {
      r.reports.push_back({plan.downloading, aiot_patch("ota", ota("downloading", d.target, plan.downloading))});
      ++r.downloading;
    }
    if (d.target != d.running && in_interval(plan.installing)) {
      r.reports.push_back({plan.installing, aiot_patch("ota", ota("installing", d.target, plan.installing))});
      ++r.installing;
    }
    if (in_interval(plan.done)) {
      if (plan.succeeds) {
        json patch = aiot_patch("ota", ota("succeeded", d.target, plan.done));
        patch["aiot"]["model"] = {{"name", d.target_name}, {"version", d.target}};
        patch["aiot"]["health"] = health_report(seed, d.id, d.target, plan.done, b);
        r.reports.push_back({plan.done, std::move(patch)});
        d.running = d.target;
        d.model_name = d.target_name;
        success_at = plan.done;
        ++r.succeeded;
      } else {
        r.reports.push_back({plan.done, aiot_patch("ota", ota("failed", d.target, plan.done, plan.error))});
        ++r.failed;
      }
      d.target.clear();
      d.target_name.clear();
      d.started.reset();
    }
  }

  // Hourly health on the hour, from whatever runs at that instant; a success exactly on the hour
  // has reported already.
  TimePoint last_hour = floor_hour(to);
  TimePoint first_hour = floor_hour(from) + k_hour;
  if (!every_report) first_hour = std::max(first_hour, last_hour);
  for (TimePoint h = first_hour; h <= last_hour && h > from; h += k_hour) {
    if (success_at && *success_at == h) continue;
    const std::string& version = (success_at && *success_at < h) ? d.running : running_before;
    auto b = p.resolve(version, d.hw, d.site, d.region);
    r.reports.push_back({h, aiot_patch("health", health_report(seed, d.id, version, h, b))});
  }

  std::stable_sort(r.reports.begin(), r.reports.end(),
                   [](const Report& a, const Report& b) { return a.ts < b.ts; });
  // Each report carries whole objects, so the merged patch keeps the latest of each.
  for (const auto& rep : r.reports) {
    for (const auto& [key, value] : rep.patch["aiot"].items()) {
      r.patch["aiot"][key] = value;
      r.health = r.health || key == "health";
    }
  }
  return r;
}

}  // namespace aiot::sim
