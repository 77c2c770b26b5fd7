// rollout.yaml parsing: every field, defaults, short forms, the digest, and one test per kind of
// bad spec, each checking the file:line and field path of the message.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/rollout/gates.hpp"
#include "aiot/rollout/spec.hpp"

using aiot::Error;
using aiot::rollout::GateType;
using aiot::rollout::parse_spec;
using aiot::rollout::RolloutSpec;
using aiot::rollout::WaveSpec;
using namespace std::chrono_literals;

namespace {

// Line numbers matter: the bad-spec cases below replace whole lines by number.
const std::vector<std::string> k_full = {
    /* 1 */ "apiVersion: aiot.dev/v1",
    /* 2 */ "kind: Rollout",
    /* 3 */ "metadata:",
    /* 4 */ "  name: vision-7",
    /* 5 */ "  labels: {team: perception, tier: gold}",
    /* 6 */ "spec:",
    /* 7 */ "  artifact: {kind: model, name: vision, version: 7.0.0, uri: \"https://cdn.example/vision-7.0.0.onnx\", "
            "sha256: \"F4B0A273B07025E13C88153C683DFC56A89D5CD3FFE88F8FF3BD6B450BACF322\", signature: \"c2lnbmVk\"}",
    /* 8 */ "  targets: {query: \"tags.site = 'berlin'\"}",
    /* 9 */ "  exclude: \"tags.freeze = true\"",
    /* 10 */ "  baseline: {version: auto, control: matched, stratifyBy: [hw, tags.region]}",
    /* 11 */ "  waves:",
    /* 12 */ "    - {name: canary, size: {count: 50}, bake: {min: 4h, max: 24h}, approval: before}",
    /* 13 */ "    - {name: early, size: 5%, bake: {min: 12h, max: 48h}}",
    /* 14 */ "    - {name: broad, size: {percent: 30}, bake: {min: 12h, max: 2d}}",
    /* 15 */ "    - {name: all, size: \"100%\", bake: {min: 1d}}",
    /* 16 */ "  rate: {maxInFlight: 200, perMinute: 100}",
    /* 17 */ "  timeouts: {install: 45m}",
    /* 18 */ "  gates:",
    /* 19 */ "    - {name: install, type: outcome, successAtLeast: 95%, failureAbove: 2%, maxFailedCount: 10, "
             "timeoutCountsAsFailure: false, mode: point, minSamples: 20}",
    /* 20 */ "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.aiot.health.crashes_1h > 0\", "
             "maxIncrease: 0.5pp, confidence: 0.9, minSamples: {canary: 80, baseline: 60}, critical: true}",
    /* 21 */ "    - {name: latency, type: distribution-vs-baseline, metric: reported.aiot.health.latency_p95_ms, "
             "perDevice: p95, minPerDevice: 5, direction: either, tolerance: 10%, confidence: 0.99, minSamples: 40}",
    /* 22 */ "    - {name: confidence-floor, type: threshold, metric: reported.aiot.health.mean_confidence, aggregate: mean, "
             "successCondition: \">=0.80\", failureCondition: \"< 0.60\", failureLimit: 1, inconclusiveLimit: 2, "
             "consecutiveSuccess: 3, dryRun: true, critical: false}",
    /* 23 */ "  analysis: {interval: 30m, warmup: 1h, looks: bonferroni, onInconclusive: fail}",
    /* 24 */ "  onFailure: {action: abort-keep, scope: all}",
    /* 25 */ "  approvals: {required: [start, early]}",
};

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += l + "\n";
  }
  return out;
}

std::string full() { return join_lines(k_full); }

// The full spec with line `line` (1-based) replaced.
std::string with_line(int line, const std::string& text) {
  auto lines = k_full;
  lines.at(static_cast<std::size_t>(line - 1)) = text;
  return join_lines(lines);
}

std::string minimal(const std::string& extra = {}) {
  return "apiVersion: aiot.dev/v1\n"
         "kind: Rollout\n"
         "metadata: {name: fw-2}\n"
         "spec:\n"
         "  artifact: {name: fw, version: 2.0.0, uri: \"s3://bucket/fw-2.bin\", "
         "sha256: \"f4b0a273b07025e13c88153c683dfc56a89d5cd3ffe88f8ff3bd6b450bacf322\"}\n"
         "  waves:\n"
         "    - {name: all, size: 100%}\n" +
         extra;
}

std::string error_of(const std::string& yaml) {
  try {
    parse_spec(yaml, "rollout.yaml");
  } catch (const Error& e) {
    CHECK(e.code() == aiot::ExitCode::usage);
    return e.message();
  }
  FAIL("expected Error::usage for:\n" << yaml);
  return {};
}

}  // namespace

TEST_CASE("rollout spec: every field of the full example is parsed") {
  auto s = parse_spec(full(), "rollout.yaml");
  CHECK(s.source == "rollout.yaml");
  CHECK(s.name == "vision-7");
  CHECK(s.labels == nlohmann::json{{"team", "perception"}, {"tier", "gold"}});

  CHECK(s.artifact.kind == "model");
  CHECK(s.artifact.name == "vision");
  CHECK(s.artifact.version == "7.0.0");
  CHECK(s.artifact.uri == "https://cdn.example/vision-7.0.0.onnx");
  CHECK(s.artifact.sha256 == "f4b0a273b07025e13c88153c683dfc56a89d5cd3ffe88f8ff3bd6b450bacf322");  // lower-cased
  CHECK(s.artifact.signature == "c2lnbmVk");
  CHECK_FALSE(s.artifact.from_registry());
  auto desired = s.artifact.to_desired();
  CHECK(desired == nlohmann::json{{"name", "vision"},
                                  {"version", "7.0.0"},
                                  {"uri", "https://cdn.example/vision-7.0.0.onnx"},
                                  {"sha256", s.artifact.sha256},
                                  {"signature", "c2lnbmVk"}});

  CHECK(s.target_query == "tags.site = 'berlin'");
  CHECK(s.exclude_query == "tags.freeze = true");
  CHECK(s.baseline.version == "auto");
  CHECK(s.baseline.matched_control);
  CHECK(s.baseline.stratify_by == std::vector<std::string>{"hw", "region"});  // "tags." dropped

  REQUIRE(s.waves.size() == 4);
  CHECK(s.waves[0].name == "canary");
  CHECK(s.waves[0].size_kind == WaveSpec::Size::count);
  CHECK(s.waves[0].size == 50);
  CHECK(s.waves[0].bake_min == 4h);
  CHECK(s.waves[0].bake_max == 24h);
  CHECK(s.waves[0].approval_before);
  CHECK(s.waves[0].line == 12);
  CHECK(s.waves[1].size_kind == WaveSpec::Size::percent);
  CHECK(s.waves[1].size == 5);
  CHECK(s.waves[1].approval_before);  // from approvals.required
  CHECK(s.waves[2].size == 30);
  CHECK(s.waves[2].bake_max == 48h);
  CHECK_FALSE(s.waves[2].approval_before);
  CHECK(s.waves[3].size == 100);
  CHECK(s.waves[3].bake_min == 24h);
  CHECK(s.waves[3].bake_max == 0ms);

  CHECK(s.rate.max_in_flight == 200);
  CHECK(s.rate.per_minute == 100);
  CHECK(s.install_timeout == 45min);

  REQUIRE(s.gates.size() == 4);
  const auto& install = s.gates[0];
  CHECK(install.type == GateType::outcome);
  CHECK(install.line == 19);
  CHECK(install.critical);  // default
  CHECK_FALSE(install.dry_run);
  CHECK(install.params["successAtLeast"] == doctest::Approx(0.95));
  CHECK(install.params["failureAbove"] == doctest::Approx(0.02));
  CHECK(install.params["maxFailedCount"] == 10);
  CHECK(install.params["timeoutCountsAsFailure"] == false);
  CHECK(install.params["mode"] == "point");
  CHECK(install.params["minSamples"] == 20);
  CHECK(install.params["confidence"] == doctest::Approx(0.95));

  const auto& crash = s.gates[1];
  CHECK(crash.type == GateType::proportion_vs_baseline);
  CHECK(crash.params["event"] == "properties.reported.aiot.health.crashes_1h > 0");
  CHECK(crash.params["maxIncrease"] == doctest::Approx(0.005));
  CHECK(crash.params["confidence"] == doctest::Approx(0.9));
  CHECK(crash.params["minSamples"] == nlohmann::json{{"canary", 80}, {"baseline", 60}});

  const auto& latency = s.gates[2];
  CHECK(latency.type == GateType::distribution_vs_baseline);
  CHECK(latency.params["metric"] == "properties.reported.aiot.health.latency_p95_ms");
  CHECK(latency.params["perDevice"] == "p95");
  CHECK(latency.params["minPerDevice"] == 5);
  CHECK(latency.params["direction"] == "either");
  CHECK(latency.params["tolerance"] == doctest::Approx(0.10));
  CHECK(latency.params["confidence"] == doctest::Approx(0.99));
  CHECK(latency.params["minSamples"] == 40);

  const auto& floor = s.gates[3];
  CHECK(floor.type == GateType::threshold);
  CHECK_FALSE(floor.critical);
  CHECK(floor.dry_run);
  CHECK(floor.params["metric"] == "properties.reported.aiot.health.mean_confidence");
  CHECK(floor.params["aggregate"] == "mean");
  CHECK(floor.params["successCondition"] == ">= 0.8");  // canonical spacing
  CHECK(floor.params["failureCondition"] == "< 0.6");
  CHECK(floor.params["failureLimit"] == 1);
  CHECK(floor.params["inconclusiveLimit"] == 2);
  CHECK(floor.params["consecutiveSuccess"] == 3);

  CHECK(s.analysis.interval == 30min);
  CHECK(s.analysis.warmup == 1h);
  CHECK(s.analysis.bonferroni);
  CHECK(s.analysis.on_inconclusive == aiot::rollout::InconclusiveAction::fail);
  CHECK(s.on_failure.action == aiot::rollout::FailureAction::abort_keep);
  CHECK(s.on_failure.scope_all);
  CHECK(s.approval_start);
  CHECK(s.digest.size() == 64);
}

TEST_CASE("rollout spec: defaults of a minimal spec") {
  auto s = parse_spec(minimal(), "min.yaml");
  CHECK(s.artifact.kind == "model");
  CHECK(s.artifact.signature.empty());
  CHECK_FALSE(s.artifact.to_desired().contains("signature"));
  CHECK(s.target_query.empty());
  CHECK(s.exclude_query.empty());
  CHECK(s.baseline.version == "auto");
  CHECK(s.baseline.matched_control);
  CHECK(s.baseline.stratify_by.empty());
  CHECK(s.waves[0].bake_min == 0ms);
  CHECK_FALSE(s.waves[0].approval_before);
  CHECK(s.rate.max_in_flight == 0);
  CHECK(s.rate.per_minute == 0);
  CHECK(s.install_timeout == 45min);
  CHECK(s.gates.empty());
  CHECK(s.analysis.interval == 15min);
  CHECK(s.analysis.warmup == 30min);
  CHECK(s.analysis.on_inconclusive == aiot::rollout::InconclusiveAction::pause);
  CHECK(s.on_failure.action == aiot::rollout::FailureAction::rollback);
  CHECK(s.on_failure.scope_all);  // default scope: all
  CHECK_FALSE(s.approval_start);
}

TEST_CASE("rollout spec: gate defaults are those of the gate parameter structs") {
  auto s = parse_spec(minimal("  gates:\n"
                              "    - {name: a, type: outcome}\n"
                              "    - {name: b, type: proportion-vs-baseline, event: \"reported.x = 1\", maxIncrease: 0.01}\n"
                              "    - {name: c, type: distribution-vs-baseline, metric: properties.reported.lat}\n"
                              "    - {name: d, type: threshold, metric: reported.conf, failureCondition: \"<0.5\"}\n"),
                      "g.yaml");
  REQUIRE(s.gates.size() == 4);
  const auto& o = s.gates[0].params;
  aiot::rollout::OutcomeParams od;
  CHECK(s.gates[0].critical);
  CHECK_FALSE(s.gates[0].dry_run);
  CHECK(o["successAtLeast"] == od.success_at_least);
  CHECK(o["failureAbove"] == od.failure_above);
  CHECK_FALSE(o.contains("maxFailedCount"));
  CHECK(o["minSamples"] == od.min_samples);
  CHECK(o["timeoutCountsAsFailure"] == od.timeout_counts_as_failure);
  CHECK(o["mode"] == "confidence");
  CHECK(o["confidence"] == 0.95);

  const auto& p = s.gates[1].params;
  aiot::rollout::ProportionParams pd;
  CHECK(p["event"] == "properties.reported.x == 1");  // '=' as in hub queries, normalised
  CHECK(p["maxIncrease"] == doctest::Approx(0.01));
  CHECK(p["minSamples"] == nlohmann::json{{"canary", pd.min_samples_canary}, {"baseline", pd.min_samples_baseline}});

  const auto& d = s.gates[2].params;
  aiot::rollout::DistributionParams dd;
  CHECK(d["metric"] == "properties.reported.lat");
  CHECK(d["direction"] == aiot::rollout::to_string(dd.direction));
  CHECK(d["tolerance"] == dd.tolerance);
  CHECK(d["minSamples"] == dd.min_samples);
  CHECK(d["perDevice"] == "median");
  CHECK(d["minPerDevice"] == 1);

  const auto& t = s.gates[3].params;
  aiot::rollout::ThresholdParams td;
  CHECK(t["aggregate"] == aiot::rollout::to_string(td.aggregate));
  CHECK(t["failureCondition"] == "< 0.5");
  CHECK_FALSE(t.contains("successCondition"));
  CHECK(t["failureLimit"] == td.failure_limit);
  CHECK(t["inconclusiveLimit"] == td.inconclusive_limit);
  CHECK(t["consecutiveSuccess"] == td.consecutive_success);
  CHECK(t["minSamples"] == td.min_samples);
  // What the gates get is what they parse.
  CHECK(aiot::rollout::parse_condition(t["failureCondition"].get<std::string>()).threshold == 0.5);
}

TEST_CASE("rollout spec: short and alternative forms") {
  SUBCASE("size as a bare count and a plain percent; percent as a fraction") {
    auto s = parse_spec(minimal("  gates: [{name: i, type: outcome, successAtLeast: 0.9, failureAbove: \"1.5%\"}]\n")
                            .replace(minimal().find("    - {name: all"), 0, "    - {name: canary, size: 50}\n"),
                        "r.yaml");
    REQUIRE(s.waves.size() == 2);
    CHECK(s.waves[0].size_kind == WaveSpec::Size::count);
    CHECK(s.waves[0].size == 50);
    CHECK(s.gates[0].params["successAtLeast"] == doctest::Approx(0.9));
    CHECK(s.gates[0].params["failureAbove"] == doctest::Approx(0.015));
  }
  SUBCASE("exclude as {query}, maxIncrease as a fraction, minSamples as one number") {
    auto s = parse_spec(minimal("  exclude: {query: \"tags.ring = 'lab'\"}\n"
                                "  gates: [{name: p, type: proportion-vs-baseline, event: \"properties.reported.crashes>=2\", "
                                "maxIncrease: 0.002, minSamples: 40}]\n"),
                        "r.yaml");
    CHECK(s.exclude_query == "tags.ring = 'lab'");
    CHECK(s.gates[0].params["event"] == "properties.reported.crashes >= 2");
    CHECK(s.gates[0].params["maxIncrease"] == doctest::Approx(0.002));
    CHECK(s.gates[0].params["minSamples"] == nlohmann::json{{"canary", 40}, {"baseline", 40}});
  }
  SUBCASE("the artifact registry form is kept, and to_desired refuses it") {
    auto text = minimal();
    auto at = text.find("  artifact:");
    auto end = text.find('\n', at);
    text.replace(at, end - at, "  artifact: {model: vision, version: 7.1.0}");
    auto s = parse_spec(text, "r.yaml");
    CHECK(s.artifact.from_registry());
    CHECK(s.artifact.registry_model == "vision");
    CHECK(s.artifact.version == "7.1.0");
    CHECK(s.to_json()["spec"]["artifact"] == nlohmann::json{{"model", "vision"}, {"version", "7.1.0"}});
    CHECK_THROWS_WITH_AS(s.artifact.to_desired(), doctest::Contains("has not been resolved from the artifact registry"), Error);
  }
  SUBCASE("wave approvals through approvals.required and approval: before agree") {
    auto a = parse_spec(minimal("  approvals: {required: [all]}\n"), "r.yaml");
    auto b = parse_spec(minimal().replace(minimal().find("size: 100%}"), 11, "size: 100%, approval: before}"), "r.yaml");
    CHECK(a.waves[0].approval_before);
    CHECK(b.waves[0].approval_before);
    CHECK(a.digest == b.digest);
  }
  SUBCASE("the design's onFailure.to: baseline is accepted") {
    auto s = parse_spec(minimal("  onFailure: {action: rollback, scope: wave, to: baseline}\n"), "r.yaml");
    CHECK(s.on_failure.action == aiot::rollout::FailureAction::rollback);
  }
}

TEST_CASE("rollout spec: the digest is stable, canonical, and changes with content") {
  auto a = parse_spec(full(), "a.yaml");
  auto b = parse_spec(full(), "b.yaml");
  CHECK(a.digest == b.digest);  // the file name is not content
  CHECK(a.digest == aiot::crypto::sha256_hex(a.to_json().dump()));

  // The canonical JSON is itself a valid spec (JSON is YAML) with the same digest.
  auto again = parse_spec(a.to_json().dump(2), "canonical.json");
  CHECK(again.digest == a.digest);
  CHECK(again.to_json() == a.to_json());

  // Same meaning, other spelling: same digest.
  auto spelled = parse_spec(with_line(14, "    - {name: broad, size: \"30%\", bake: {min: 720m, max: 48h}}"), "c.yaml");
  CHECK(spelled.digest == a.digest);
  CHECK(parse_spec(with_line(14, "    - {name: broad, size: {percent: 30%}, bake: {min: 12h, max: 2d}}"), "c.yaml").digest ==
        a.digest);

  // Any change of content: another digest.
  CHECK(parse_spec(with_line(14, "    - {name: broad, size: 31%, bake: {min: 12h, max: 48h}}"), "d.yaml").digest != a.digest);
  CHECK(parse_spec(with_line(4, "  name: vision-8"), "d.yaml").digest != a.digest);
  CHECK(parse_spec(with_line(16, "  rate: {maxInFlight: 201, perMinute: 100}"), "d.yaml").digest != a.digest);
}

TEST_CASE("rollout spec: planned looks for the Bonferroni split") {
  auto s = parse_spec(full(), "r.yaml");  // interval 30m
  CHECK(aiot::rollout::planned_looks(s, s.waves[0]) == 48);  // 24h max
  CHECK(aiot::rollout::planned_looks(s, s.waves[3]) == 48);  // no max: 1d min
  s.analysis.bonferroni = false;
  CHECK(aiot::rollout::planned_looks(s, s.waves[0]) == 1);
  s.analysis.bonferroni = true;
  s.waves[0].bake_max = 89min;
  CHECK(aiot::rollout::planned_looks(s, s.waves[0]) == 2);  // whole intervals
  s.waves[0].bake_max = 0ms;
  s.waves[0].bake_min = 0ms;
  CHECK(aiot::rollout::planned_looks(s, s.waves[0]) == 1);
}

struct BadSpec {
  int line;               // line to replace (0: use `yaml` as the whole document)
  std::string text;       // the new line, or the whole document
  std::string where;      // expected "rollout.yaml:LINE: FIELD"
  std::string says;       // expected in the message
};

TEST_CASE("rollout spec: each bad field is named with its line") {
  const std::vector<BadSpec> cases = {
      {19, "    - {name: install, type: outcome, sucessAtLeast: 95%}", "rollout.yaml:19: spec.gates[0].sucessAtLeast",
       "unknown field (did you mean successAtLeast?)"},
      {14, "    - {name: broad, size: {percent: 3}, bake: {min: 12h}}", "rollout.yaml:14: spec.waves[2].size",
       "is smaller than wave 'early' (5%)"},
      {13, "    - {name: canary, size: 5%}", "rollout.yaml:13: spec.waves[1].name", "already used by spec.waves[0]"},
      {19, "    - {name: install, type: outcome, successAtLeast: 950%}", "rollout.yaml:19: spec.gates[0].successAtLeast",
       "between 0% and 100%"},
      {19, "    - {name: install, type: outcome, failureAbove: 2}", "rollout.yaml:19: spec.gates[0].failureAbove",
       "write '2%' for a percentage"},
      {20, "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.c > 0\", maxIncrease: 0.5%}",
       "rollout.yaml:20: spec.gates[1].maxIncrease", "percentage points ('0.5pp')"},
      {12, "    - {name: canary, size: {count: 50}, bake: {min: 4 hours}}", "rollout.yaml:12: spec.waves[0].bake.min",
       "expected a duration"},
      {8, "  targets: {query: \"tags.site = \"}", "rollout.yaml:8: spec.targets.query", "query:1:"},
      {19, "    - {name: install, type: outcomes}", "rollout.yaml:19: spec.gates[0].type", "expected one of outcome"},
      {7, "  artifact: {name: vision, version: 7.0.0, uri: \"https://x/v\", sha256: \"abc\"}",
       "rollout.yaml:7: spec.artifact.sha256", "expected 64 hex digits"},
      {1, "apiVersion: aiot.dev/v2", "rollout.yaml:1: apiVersion", "expected aiot.dev/v1"},
      {12, "    - {name: canary, size: {count: 0}}", "rollout.yaml:12: spec.waves[0].size.count", "at least 1"},
      {25, "  approvals: {required: [start, erly]}", "rollout.yaml:25: spec.approvals.required[1]",
       "neither 'start' nor a wave name"},
      {19, "    - {name: install, type: outcome, tolerance: 10%}", "rollout.yaml:19: spec.gates[0].tolerance",
       "not a parameter of a outcome gate (it belongs to distribution-vs-baseline)"},
      {20, "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.c > 0\", maxIncrease: 0.5pp, "
           "confidence: 95}",
       "rollout.yaml:20: spec.gates[1].confidence", "not a fraction between 0 and 1"},
      {10, "  baseline: {control: none}", "rollout.yaml:20: spec.gates[1].type", "baseline.control is none"},
      {4, "  nme: vision-7", "rollout.yaml:4: metadata.name", "required"},  // the mapping starts on line 4
      {12, "    - {name: Canary One, size: 5}", "rollout.yaml:12: spec.waves[0].name", "not a valid wave name"},
      {22, "    - {name: floor, type: threshold, metric: reported.c, successCondition: \"about 0.8\"}",
       "rollout.yaml:22: spec.gates[3].successCondition", "not a condition"},
      {24, "  onFailure: {action: explode}", "rollout.yaml:24: spec.onFailure.action", "rollback, pause, abort-keep"},
      {23, "  windows: [{cron: \"0 1 * * *\"}]", "rollout.yaml:23: spec.windows", "not supported"},
      {12, "    - {name: canary, size: 50, bake: {min: 4h, max: 1h}}", "rollout.yaml:12: spec.waves[0].bake.max",
       "shorter than bake.min"},
      {21, "    - {name: latency, type: distribution-vs-baseline, metric: tags.latency}",
       "rollout.yaml:21: spec.gates[2].metric", "not a reported metric"},
      {10, "  baseline: {stratifyBy: hw}", "rollout.yaml:10: spec.baseline.stratifyBy", "expected a list of tag names"},
      {20, "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.c >\", maxIncrease: 0.5pp}",
       "rollout.yaml:20: spec.gates[1].event", "expected '<metric> <op> <number>'"},
      {20, "    - {name: crash-free, type: proportion-vs-baseline, event: \"tags.c > 1\", maxIncrease: 0.5pp}",
       "rollout.yaml:20: spec.gates[1].event", "must test a reported value"},
      {21, "    - {name: install, type: threshold, metric: reported.c, failureCondition: \"< 1\"}",
       "rollout.yaml:21: spec.gates[2].name", "already used by spec.gates[0] (line 19)"},
      {16, "  rate: {maxInFlight: -1}", "rollout.yaml:16: spec.rate.maxInFlight", "at least 0"},
      {22, "    - {name: floor, type: threshold, metric: reported.c}", "rollout.yaml:22: spec.gates[3]",
       "needs successCondition, failureCondition or both"},
      {9, "  exclude:", "rollout.yaml:9: spec.exclude", "has no value"},
      {23, "  analysis: {interval: 15m, warmup: 3d}", "rollout.yaml:23: spec.analysis.warmup",
       "longer than wave 'canary' bakes at most (1d)"},
      {10, "  baseline: {version: 7.0.0}", "rollout.yaml:10: spec.baseline.version", "the version being rolled out"},
      {5, "  name: again", "rollout.yaml:5: metadata.name", "set twice (first on line 4)"},
      {17, "  timeouts: {install: 45m, firstReport: 2h}", "rollout.yaml:17: spec.timeouts.firstReport", "not supported"},
      {8, "  targets: [{query: \"tags.site = 'berlin'\"}]", "rollout.yaml:8: spec.targets", "one target per rollout"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto msg = error_of(with_line(c.line, c.text));
    CHECK_MESSAGE(msg.starts_with(c.where + ": "), msg);
    CHECK_MESSAGE(msg.find(c.says) != std::string::npos, msg);
  }
}

TEST_CASE("rollout spec: malformed YAML gives file:line:column") {
  auto msg = error_of(with_line(13, "    - {name: early, size: 5%, bake: {min: 12h, max: 48h}"));
  CHECK_MESSAGE(msg.starts_with("rollout.yaml:"), msg);
  // file:line:column, the line being where yaml-cpp noticed the missing brace.
  auto first = msg.find(':');
  auto second = msg.find(':', first + 1);
  auto third = msg.find(':', second + 1);
  REQUIRE(third != std::string::npos);
  CHECK(std::stoi(msg.substr(first + 1, second - first - 1)) >= 13);
  CHECK(std::stoi(msg.substr(second + 1, third - second - 1)) >= 1);

  CHECK(error_of("") == "rollout.yaml:1: the spec is empty");
  CHECK(error_of("- just\n- a list\n").starts_with("rollout.yaml:1: expected a rollout spec"));
}

TEST_CASE("rollout spec: unknown top-level and section fields are refused, with a hint") {
  auto msg = error_of(full() + "extra: 1\n");
  CHECK(msg == "rollout.yaml:26: extra: unknown field");
  try {
    parse_spec(with_line(16, "  rate: {maxInflight: 200}"), "rollout.yaml");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.message() == "rollout.yaml:16: spec.rate.maxInflight: unknown field (did you mean maxInFlight?)");
    CHECK(e.hint().find("maxInFlight, perMinute") != std::string::npos);
  }
}

TEST_CASE("rollout spec: every example under examples/rollouts parses") {
  auto dir = std::filesystem::path(AIOT_SOURCE_DIR) / "examples" / "rollouts";
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    CAPTURE(entry.path().string());
    CHECK_NOTHROW(parse_spec(text.str(), entry.path().filename().string()));
    ++parsed;
  }
  CHECK(parsed >= 3);
}
