#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "aiot/core/time.hpp"
#include "aiot/sim/device.hpp"
#include "aiot/sim/random.hpp"

using namespace aiot;
using namespace aiot::sim;
using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

TimePoint at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

DeviceState device(const std::string& id = "dev-00001", const std::string& hw = "pi4") {
  DeviceState d;
  d.id = id;
  d.index = 1;
  d.site = "berlin";
  d.region = "eu-central";
  d.hw = hw;
  d.model_name = "detector";
  d.running = "2.0";
  d.seen_desired = "2.0";
  return d;
}

DesiredView want(const std::string& version) { return {.version = version, .name = "detector"}; }

// "state@ts" for each ota report, "health@ts" for each health report.
std::vector<std::string> timeline(const StepResult& r) {
  std::vector<std::string> out;
  for (const auto& rep : r.reports) {
    const auto& a = rep.patch["aiot"];
    if (a.contains("ota")) out.push_back(a["ota"]["state"].get<std::string>() + "@" + a["ota"]["ts"].get<std::string>());
    if (a.contains("health")) out.push_back("health@" + a["health"]["ts"].get<std::string>());
  }
  return out;
}

const Profile& profile() {
  static const Profile p = Profile::builtin();
  return p;
}

}  // namespace

TEST_CASE("sim device: the contract sequence for one device, seed 7, is exact") {
  auto t0 = at("2026-11-23T09:00:00Z");

  SUBCASE("2.2 on pi4 installs: downloading, installing, succeeded, then health every hour on the hour") {
    auto d = device();
    auto r = step(d, profile(), 7, t0, t0 + hours(3), want("2.2"), /*every_report=*/true);
    CHECK(r.started);
    CHECK(timeline(r) == std::vector<std::string>{
                             "downloading@2026-11-23T09:00:11Z",
                             "installing@2026-11-23T09:01:23Z",
                             "succeeded@2026-11-23T09:02:27Z",
                             "health@2026-11-23T09:02:27Z",  // right after the success, from 2.2
                             "health@2026-11-23T10:00:00Z",
                             "health@2026-11-23T11:00:00Z",
                             "health@2026-11-23T12:00:00Z",
                         });
    CHECK(r.reports[0].patch["aiot"]["ota"] ==
          json{{"state", "downloading"}, {"version", "2.2"}, {"ts", "2026-11-23T09:00:11Z"}, {"error", nullptr}});
    CHECK(r.reports[2].patch["aiot"]["model"] == json{{"name", "detector"}, {"version", "2.2"}});
    CHECK(d.running == "2.2");
    CHECK(d.target.empty());
    CHECK(d.attempt == 1);
    // The twin gets the latest of each object; null clears an old error.
    CHECK(r.patch["aiot"]["ota"]["state"] == "succeeded");
    CHECK(r.patch["aiot"]["ota"]["error"].is_null());
    CHECK(r.patch["aiot"]["health"]["ts"] == "2026-11-23T12:00:00Z");
    auto h = r.patch["aiot"]["health"];
    CHECK(h.size() == 6);
    for (const char* key : {"crashes_1h", "latency_p95_ms", "mean_confidence", "inferences", "ts"}) CHECK(h.contains(key));
    // The health names the version it was measured on (gate looks select it by query).
    CHECK(h["version"] == "2.2");
    // The same timeline as the plan the draws make, keyed by (seed, id, version, attempt).
    d.target = "2.2";
    d.started = t0;
    auto plan = plan_install(7, d, profile().resolve("2.2", "pi4", "berlin", "eu-central"));
    CHECK(format_rfc3339(plan.done) == "2026-11-23T09:02:27Z");
  }

  SUBCASE("2.1 fails this device's install: the error is reported and 2.0 keeps running") {
    auto d = device();
    auto r = step(d, profile(), 7, t0, t0 + hours(2), want("2.1"), true);
    CHECK(timeline(r) == std::vector<std::string>{
                             "downloading@2026-11-23T09:00:21Z",
                             "installing@2026-11-23T09:08:00Z",
                             "failed@2026-11-23T09:12:52Z",
                             "health@2026-11-23T10:00:00Z",
                             "health@2026-11-23T11:00:00Z",
                         });
    CHECK(r.patch["aiot"]["ota"] == json{{"state", "failed"},
                                         {"version", "2.1"},
                                         {"ts", "2026-11-23T09:12:52Z"},
                                         {"error", "install failed: checksum mismatch"}});
    CHECK_FALSE(r.patch["aiot"].contains("model"));
    CHECK(d.running == "2.0");
    CHECK(r.failed == 1);

    // Not retried while the desired version stays the same...
    auto again = step(d, profile(), 7, t0 + hours(2), t0 + hours(3), want("2.1"));
    CHECK_FALSE(again.started);
    CHECK(again.patch == json{{"aiot", {{"health", again.patch["aiot"]["health"]}}}});
    SUBCASE("a new desired version starts attempt 2") {
      auto next = step(d, profile(), 7, t0 + hours(3), t0 + hours(4), want("2.2"));
      CHECK(next.started);
      CHECK(d.attempt == 2);
      CHECK(d.running == "2.2");
    }
    SUBCASE("rolled back to 2.0, which it runs: acknowledged as succeeded, so the rollback can be verified") {
      auto back = step(d, profile(), 7, t0 + hours(3), t0 + hours(3) + minutes(5), want("2.0"), true);
      CHECK(back.started);
      REQUIRE(back.reports.size() == 1);
      CHECK(back.patch["aiot"]["ota"]["state"] == "succeeded");
      CHECK(back.patch["aiot"]["ota"]["version"] == "2.0");
      CHECK(back.patch["aiot"]["ota"]["error"].is_null());  // clears the failure's error in the twin
      CHECK(back.downloading == 0);
      CHECK(d.running == "2.0");
    }
  }
}

TEST_CASE("sim device: an idle device reports health on the hour only, from the version it runs") {
  auto d = device();
  auto r = step(d, profile(), 1, at("2026-11-23T09:30:00Z"), at("2026-11-23T12:00:00Z"), want("2.0"), true);
  CHECK_FALSE(r.started);
  CHECK(timeline(r) == std::vector<std::string>{"health@2026-11-23T10:00:00Z", "health@2026-11-23T11:00:00Z",
                                                "health@2026-11-23T12:00:00Z"});
  // Without every_report only the last one is built: it is the one the twin keeps.
  auto d2 = device();
  auto fast = step(d2, profile(), 1, at("2026-11-23T09:30:00Z"), at("2026-11-23T12:00:00Z"), want("2.0"));
  CHECK(fast.reports.size() == 1);
  CHECK(fast.patch == r.patch);
  // Less than an hour boundary in the interval: nothing to say.
  auto quiet = step(d2, profile(), 1, at("2026-11-23T12:00:00Z"), at("2026-11-23T12:59:59Z"), want("2.0"));
  CHECK(quiet.patch.empty());
}

TEST_CASE("sim device: a desired change during an install restarts towards the newest desired") {
  auto t0 = at("2026-11-23T09:00:00Z");
  auto d = device();
  auto plan_of = [](const DeviceState& s) {
    return plan_install(7, s, profile().resolve(s.target, s.hw, s.site, s.region));
  };
  // Step to the moment 2.1 reports "installing".
  step(d, profile(), 7, t0, t0 + std::chrono::seconds(1), want("2.1"));
  REQUIRE(d.target == "2.1");
  auto first = plan_of(d);
  auto r1 = step(d, profile(), 7, t0 + std::chrono::seconds(1), first.installing, want("2.1"), true);
  CHECK(timeline(r1) == std::vector<std::string>{"downloading@2026-11-23T09:00:21Z", "installing@2026-11-23T09:08:00Z"});

  SUBCASE("towards a newer version") {
    auto r2 = step(d, profile(), 7, first.installing, first.installing + hours(1), want("2.2"), true);
    CHECK(r2.started);
    CHECK(d.attempt == 2);
    auto states = timeline(r2);
    REQUIRE(states.size() >= 4);
    CHECK(states[0].rfind("downloading@", 0) == 0);
    CHECK(states[1].rfind("installing@", 0) == 0);
    CHECK(states[2].rfind("succeeded@", 0) == 0);
    for (const auto& rep : r2.reports) {
      if (rep.patch["aiot"].contains("ota")) CHECK(rep.patch["aiot"]["ota"]["version"] == "2.2");  // 2.1 never finishes
      CHECK(rep.ts > first.installing);
    }
    CHECK(d.running == "2.2");
  }

  SUBCASE("back to the baseline it still runs: the install is dropped and 2.0 acknowledged, nothing downloaded") {
    auto r2 = step(d, profile(), 7, first.installing, first.installing + minutes(30), want("2.0"), true);
    CHECK(r2.started);
    CHECK(d.attempt == 2);
    auto states = timeline(r2);
    REQUIRE(states.size() == 2);
    CHECK(states[0].rfind("succeeded@2026-11-23T09:08:", 0) == 0);  // after the reaction delay
    CHECK(states[1] == "health" + states[0].substr(9));
    CHECK(r2.patch["aiot"]["ota"]["version"] == "2.0");
    CHECK(r2.patch["aiot"]["model"]["version"] == "2.0");
    CHECK(d.running == "2.0");
    CHECK(d.target.empty());
  }
}

TEST_CASE("sim device: rollback after a successful update returns the device to the baseline") {
  auto t0 = at("2026-11-23T09:00:00Z");
  auto d = device("dev-00002", "pi5");
  step(d, profile(), 3, t0, t0 + hours(1), want("2.2"));
  REQUIRE(d.running == "2.2");
  auto r = step(d, profile(), 3, t0 + hours(1), t0 + hours(2), want("2.0"), true);
  CHECK(r.started);
  CHECK(d.attempt == 2);
  CHECK(d.running == "2.0");
  CHECK(r.patch["aiot"]["model"]["version"] == "2.0");
  CHECK(r.patch["aiot"]["ota"]["state"] == "succeeded");
  // The hourly report after the rollback comes from 2.0's health profile, keyed to 2.0.
  CHECK(r.patch["aiot"]["health"] ==
        health_report(3, "dev-00002", "2.0", t0 + hours(2), profile().resolve("2.0", "pi5", "berlin", "eu-central")));
}

TEST_CASE("sim device: splitting time into more advances changes nothing") {
  auto t0 = at("2026-11-23T09:00:00Z");
  for (std::string id : {"a", "b", "c", "d", "e", "f"}) {
    CAPTURE(id);
    auto whole = device(id);
    auto once = step(whole, profile(), 11, t0, t0 + hours(2), want("2.1"));
    auto split = device(id);
    json merged = json::object();
    for (int i = 0; i < 8; ++i) {
      auto r = step(split, profile(), 11, t0 + minutes(15 * i), t0 + minutes(15 * (i + 1)), want("2.1"));
      json reported = r.patch.value("aiot", json::object());
      for (const auto& [k, v] : reported.items()) merged["aiot"][k] = v;
    }
    CHECK(split == whole);
    CHECK(merged == once.patch);
  }
}

TEST_CASE("sim device: an offline (disabled) device sees and reports nothing, and its install waits") {
  auto t0 = at("2026-11-23T09:00:00Z");
  auto online = device();
  step(online, profile(), 7, t0, t0 + std::chrono::seconds(30), want("2.2"));
  auto paused = online;
  auto before = plan_install(7, paused, profile().resolve("2.2", "pi4", "berlin", "eu-central"));

  auto off = step(paused, profile(), 7, t0 + std::chrono::seconds(30), t0 + hours(2), {.version = "2.1", .name = "detector", .online = false});
  CHECK(off.patch.empty());
  CHECK(off.reports.empty());
  CHECK(paused.seen_desired == "2.2");  // the change to 2.1 was not seen
  auto after = plan_install(7, paused, profile().resolve("2.2", "pi4", "berlin", "eu-central"));
  CHECK(after.done - before.done == hours(2) - std::chrono::seconds(30));
}

TEST_CASE("sim device: 2.2 raises the crash rate on pi5 only (2,000 device-hours each, 99.9% bounds)") {
  // crashes_1h ~ Poisson(rate). The mean of n = 2000 reports has sd sqrt(rate / n); the two-sided
  // 99.9% bound is z = 3.2905 of those: rate 0.5 -> +-0.052, rate 0.02 -> +-0.0104.
  const int n = 2000;
  auto mean_crashes = [&](const std::string& version, const std::string& hw) {
    auto b = profile().resolve(version, hw, "paris", "eu-west");
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      auto h = health_report(5, "dev-" + std::to_string(i), version, at("2026-11-23T10:00:00Z"), b);
      sum += h["crashes_1h"].get<double>();
    }
    return sum / n;
  };
  auto bound = [&](double rate) { return 3.2905 * std::sqrt(rate / n); };
  CHECK(std::abs(mean_crashes("2.2", "pi5") - 0.5) < bound(0.5));
  CHECK(std::abs(mean_crashes("2.2", "pi4") - 0.02) < bound(0.02));
  CHECK(std::abs(mean_crashes("2.2", "jetson-nano") - 0.02) < bound(0.02));
  CHECK(std::abs(mean_crashes("2.0", "pi5") - 0.02) < bound(0.02));
}

TEST_CASE("sim random: keyed draws are stable, separated by key, and in (0, 1)") {
  CHECK(Rng::keyed(1, {"ab", "c"}).next() != Rng::keyed(1, {"a", "bc"}).next());
  CHECK(Rng::keyed(1, {"a"}).next() != Rng::keyed(2, {"a"}).next());
  CHECK(Rng::keyed(9, {"x", "y"}).next() == Rng::keyed(9, {"x", "y"}).next());
  auto rng = Rng::keyed(3, {"u"});
  double sum = 0;
  std::int64_t poisson_small = 0, poisson_large = 0;
  int outside = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double u = rng.uniform();
    outside += (u <= 0 || u >= 1) ? 1 : 0;
    sum += u;
    poisson_small += rng.poisson(2.5);
    poisson_large += rng.poisson(400);
  }
  CHECK(outside == 0);
  // 99.9% bounds: uniform mean sd sqrt(1/12/n); Poisson mean sd sqrt(mean/n).
  CHECK(std::abs(sum / n - 0.5) < 3.2905 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(static_cast<double>(poisson_small) / n - 2.5) < 3.2905 * std::sqrt(2.5 / n));
  CHECK(std::abs(static_cast<double>(poisson_large) / n - 400) < 3.2905 * std::sqrt(400.0 / n));
  CHECK(rng.poisson(0) == 0);
}
