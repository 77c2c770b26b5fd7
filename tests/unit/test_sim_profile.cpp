#include <doctest/doctest.h>

#include <string>

#include "aiot/core/error.hpp"
#include "aiot/sim/profile.hpp"

using namespace aiot;
using namespace aiot::sim;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

// A complete, small profile; the bad-field cases below each break one line of it.
const char* const k_good = R"(fleet:
  sites: {a: 1, b: 3}
  regions: {a: r1, b: r2}
  hw: {x: 1, y: 1}
  model: {name: m, version: "1.0"}
default:
  install:
    failureRate: 0.01
    delay: {min: 30, max: 2m}
  health:
    crashRate: 0.1
    latencyP95Ms: {mean: 50, sd: 5}
    meanConfidence: {mean: 0.8, sd: 0.05}
    inferencesPerHour: 100
  overrides:
    - when: {region: r2}
      health: {latencyP95Ms: {mean: 70}}
versions:
  "1.0":
  "1.1":
    install: {failureRate: 0.5, delay: {median: 90s, p95: 5m}}
    overrides:
      - when: {hw: y, site: b}
        health: {crashRate: 2}
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("sim profile: the built-in profile has a good 2.0, a 2.1 failing 15% of installs, a 2.2 bad on pi5") {
  auto p = Profile::builtin();
  CHECK(p.model_name == "detector");
  CHECK(p.start_version == "2.0");
  REQUIRE(p.sites.size() == 6);
  CHECK(p.sites.front() == std::pair<std::string, double>{"berlin", 4});
  CHECK(p.region_of("tokyo") == "ap-northeast");
  REQUIRE(p.hw.size() == 3);
  CHECK(p.hw[1].first == "pi5");

  auto good = p.resolve("2.0", "pi5", "berlin", "eu-central");
  CHECK(good.failure_rate == 0.0);
  CHECK(good.crash_rate == doctest::Approx(0.02));
  CHECK(good.delay == Delay{Delay::Kind::lognormal, minutes(3), minutes(10)});
  CHECK(p.resolve("2.1", "pi4", "paris", "eu-west").failure_rate == doctest::Approx(0.15));
  CHECK(p.resolve("2.2", "pi5", "paris", "eu-west").crash_rate == doctest::Approx(0.5));
  CHECK(p.resolve("2.2", "pi4", "paris", "eu-west").crash_rate == doctest::Approx(0.02));
  CHECK(p.resolve("2.2", "pi4", "paris", "eu-west").failure_rate == 0.0);
  // An unlisted version behaves like `default`.
  CHECK(p.resolve("9.9", "pi5", "tokyo", "ap-northeast") == good);
  // The text shown by --print-default-profile is the one parsed.
  CHECK(Profile::parse(Profile::builtin_yaml(), "x") == p);
}

TEST_CASE("sim profile: layers apply in order: built-in < default < version < default overrides < version overrides") {
  auto p = Profile::parse(k_good, "sim.yaml");
  CHECK(p.sites == std::vector<std::pair<std::string, double>>{{"a", 1}, {"b", 3}});
  CHECK(p.start_version == "1.0");

  auto base = p.resolve("1.0", "x", "a", "r1");
  CHECK(base.failure_rate == doctest::Approx(0.01));
  CHECK(base.delay == Delay{Delay::Kind::uniform, seconds(30), minutes(2)});  // plain numbers are seconds
  CHECK(base.latency_p95_ms == Normal{50, 5});
  CHECK(base.mean_confidence == Normal{0.8, 0.05});
  CHECK(base.inferences_per_hour == 100);

  // default's region override changes the mean only; the sd stays.
  CHECK(p.resolve("1.0", "x", "b", "r2").latency_p95_ms == Normal{70, 5});

  auto v11 = p.resolve("1.1", "x", "a", "r1");
  CHECK(v11.failure_rate == doctest::Approx(0.5));
  CHECK(v11.delay == Delay{Delay::Kind::lognormal, seconds(90), minutes(5)});
  CHECK(v11.crash_rate == doctest::Approx(0.1));
  // Both `when` keys must match.
  CHECK(p.resolve("1.1", "y", "b", "r2").crash_rate == doctest::Approx(2));
  CHECK(p.resolve("1.1", "y", "a", "r1").crash_rate == doctest::Approx(0.1));
  CHECK(p.resolve("1.1", "x", "b", "r2").crash_rate == doctest::Approx(0.1));
}

TEST_CASE("sim profile: each bad field is named with file:line:column, exit 2") {
  struct Case {
    std::string from, to, expected;
  };
  const Case cases[] = {
      {"  sites: {a: 1, b: 3}", "  sites: {a: 1, b: 0}", "sim.yaml:2:20: fleet.sites.b: a weight must be greater than 0"},
      {"  sites: {a: 1, b: 3}", "  sites: {a: 1, b: lots}", "sim.yaml:2:20: fleet.sites.b: expected a number, got 'lots'"},
      {"  sites: {a: 1, b: 3}", "  sites: {}", "sim.yaml:2:10: fleet.sites: needs at least one entry"},
      {"  regions: {a: r1, b: r2}", "  regions: {a: r1}", "sim.yaml:3:12: fleet.regions: has no region for site 'b'"},
      {"  regions: {a: r1, b: r2}", "  regions: {a: r1, b: r2, c: r3}", "sim.yaml:3:27: fleet.regions.c: is not one of fleet.sites"},
      {"  hw: {x: 1, y: 1}", "  hw: {x: 1, x: 1}", "sim.yaml:4:14: fleet.hw.x: is set twice"},
      {"  model: {name: m, version: \"1.0\"}", "  model: {name: m}", "fleet.model.version: is required"},
      {"  model: {name: m, version: \"1.0\"}", "  model: {name: m, version: \"1.0\", size: 3}",
       "sim.yaml:5:36: fleet.model.size: unknown field (expected one of: name, version)"},
      {"    failureRate: 0.01", "    failureRate: 1.5",
       "sim.yaml:8:18: default.install.failureRate: must be a probability between 0 and 1, got 1.5"},
      {"    failureRate: 0.01", "    failurerate: 0.01",
       "sim.yaml:8:5: default.install.failurerate: unknown field (expected one of: failureRate, delay)"},
      {"    delay: {min: 30, max: 2m}", "    delay: {min: 3m, max: 2m}", "sim.yaml:9:27: default.install.delay.max: must not be less than min"},
      {"    delay: {min: 30, max: 2m}", "    delay: {min: 30, median: 2m}", "default.install.delay: give either {min, max} (uniform) or {median, p95}"},
      {"    delay: {min: 30, max: 2m}", "    delay: {min: 30, max: soon}",
       "sim.yaml:9:27: default.install.delay.max: expected a duration such as 90s, 15m, 4h or 7d, got 'soon'"},
      {"    crashRate: 0.1", "    crashRate: -1", "sim.yaml:11:16: default.health.crashRate: must not be negative"},
      {"    meanConfidence: {mean: 0.8, sd: 0.05}", "    meanConfidence: {mean: 80, sd: 0.05}",
       "sim.yaml:13:28: default.health.meanConfidence.mean: must be a probability between 0 and 1"},
      {"    latencyP95Ms: {mean: 50, sd: 5}", "    latencyP95Ms: {mean: 50, sd: -5}",
       "sim.yaml:12:34: default.health.latencyP95Ms.sd: must not be negative"},
      {"    - when: {region: r2}", "    - when: {rack: 7}",
       "sim.yaml:16:14: default.overrides[0].when.rack: unknown field (expected one of: hw, site, region)"},
      {"    - when: {region: r2}", "    - when: {}", "sim.yaml:16:13: default.overrides[0].when: needs at least one of hw, site, region"},
      {"    install: {failureRate: 0.5, delay: {median: 90s, p95: 5m}}",
       "    install: {failureRate: 0.5, delay: {median: 90s, p95: 1m}}",
       "sim.yaml:21:59: versions.\"1.1\".install.delay.p95: must not be less than the median"},
      {"      - when: {hw: y, site: b}", "      - hw: y", "sim.yaml:23:9: versions.\"1.1\".overrides[0].hw: unknown field"},
      {"versions:", "version:", "sim.yaml:18:1: version: unknown field (expected one of: fleet, default, versions)"},
      {"  sites: {a: 1, b: 3}", "  sites: {a: 1, b: 3", "sim.yaml:3:"},  // a YAML syntax error keeps its mark
  };
  for (const auto& c : cases) {
    CAPTURE(c.to);
    try {
      Profile::parse(replace(k_good, c.from, c.to), "sim.yaml");
      FAIL("parsed a bad profile");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
      CHECK_MESSAGE(e.message().find(c.expected) != std::string::npos, e.message());
    }
  }
  CHECK_THROWS_AS(Profile::parse("- a list", "sim.yaml"), Error);
  CHECK_THROWS_AS(Profile::parse("versions: {}", "sim.yaml"), Error);  // fleet is required
}
