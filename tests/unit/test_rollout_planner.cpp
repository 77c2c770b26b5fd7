// The planner on hand-made cohorts: hash-ordered membership, cumulative waves, rounding,
// stratified allocation, matched controls, refusals, ETA, power numbers and the plan JSON.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/rollout/planner.hpp"
#include "aiot/rollout/stats.hpp"

using aiot::Error;
using aiot::hub::Device;
using aiot::rollout::make_plan;
using aiot::rollout::parse_spec;
using aiot::rollout::Plan;
using aiot::rollout::RolloutSpec;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

Device device(const std::string& id, const std::string& version, json tags = json::object(), json health = nullptr) {
  Device d;
  d.id = id;
  d.tags = std::move(tags);
  if (!version.empty()) {
    d.reported["aiot"]["ota"]["version"] = version;
  }
  if (!health.is_null()) {
    d.reported["aiot"]["health"] = std::move(health);
  }
  return d;
}

std::vector<Device> fleet(std::size_t n, const std::string& version = "6.0.0", const std::string& prefix = "dev-") {
  std::vector<Device> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(device(prefix + std::to_string(i), version));
  }
  return out;
}

const std::string k_artifact =
    "{name: vision, version: 7.0.0, uri: \"https://cdn.example/v7\", "
    "sha256: \"f4b0a273b07025e13c88153c683dfc56a89d5cd3ffe88f8ff3bd6b450bacf322\"}";

std::string spec_text(const std::string& waves, const std::string& extra = {}, const std::string& baseline = {},
                      const std::string& name = "vision-7", const std::string& artifact = k_artifact) {
  return "apiVersion: aiot.dev/v1\n"
         "kind: Rollout\n"
         "metadata: {name: " + name + "}\n"
         "spec:\n"
         "  artifact: " + artifact + "\n" +
         (baseline.empty() ? std::string() : "  baseline: " + baseline + "\n") + "  waves:\n" + waves + extra;
}

RolloutSpec spec_of(const std::string& waves, const std::string& extra = {}, const std::string& baseline = {}) {
  return parse_spec(spec_text(waves, extra, baseline), "rollout.yaml");
}

const std::string k_three_waves =
    "    - {name: canary, size: 10, bake: {min: 1h, max: 4h}}\n"
    "    - {name: early, size: 25%, bake: {min: 2h, max: 8h}}\n"
    "    - {name: all, size: 100%, bake: {min: 3h, max: 12h}}\n";

// The ids in the rollout's hash order, computed here independently of the planner.
std::vector<std::string> hash_order(const std::string& rollout, const std::vector<Device>& devices) {
  std::vector<std::pair<std::string, std::string>> keyed;
  for (const auto& d : devices) {
    keyed.emplace_back(aiot::crypto::sha256_hex(rollout + "/" + d.id), d.id);
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> ids;
  for (const auto& [h, id] : keyed) {
    ids.push_back(id);
  }
  return ids;
}

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::string error_of(const RolloutSpec& spec, const std::vector<Device>& cohort) {
  try {
    make_plan(spec, cohort);
  } catch (const Error& e) {
    CHECK(e.code() == aiot::ExitCode::usage);
    return e.message();
  }
  FAIL("expected Error::usage");
  return {};
}

}  // namespace

TEST_CASE("planner: membership is the hash order, deterministic and independent of input order") {
  auto spec = spec_of(k_three_waves, {}, "{control: none}");
  auto cohort = fleet(80);
  auto plan = make_plan(spec, cohort);
  auto order = hash_order("vision-7", cohort);
  REQUIRE(plan.waves.size() == 3);
  CHECK(plan.waves[0].devices == std::vector<std::string>(order.begin(), order.begin() + 10));
  CHECK(plan.waves[1].devices == std::vector<std::string>(order.begin() + 10, order.begin() + 20));  // 25% of 80 = 20
  CHECK(aiot::rollout::membership_hash("vision-7", "dev-3") == aiot::crypto::sha256_hex("vision-7/dev-3"));

  std::mt19937 rng(7);
  auto shuffled = cohort;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  auto again = make_plan(spec, shuffled);
  CHECK(again.digest == plan.digest);
  CHECK(again.to_json() == plan.to_json());

  // Another rollout name orders the same fleet differently.
  auto other = parse_spec(spec_text(k_three_waves, {}, "{control: none}", "vision-8"), "rollout.yaml");
  CHECK(make_plan(other, cohort).waves[0].devices != plan.waves[0].devices);
}

TEST_CASE("planner: waves are cumulative and raising a size only adds devices") {
  auto cohort = fleet(200);
  auto small = make_plan(spec_of("    - {name: canary, size: 5%}\n    - {name: early, size: 20%}\n    - {name: all, size: 100%}\n"),
                         cohort);
  auto large = make_plan(spec_of("    - {name: canary, size: 8%}\n    - {name: early, size: 30%}\n    - {name: all, size: 100%}\n"),
                         cohort);
  CHECK(small.waves[0].devices.size() == 10);
  CHECK(small.waves[1].devices.size() == 30);  // 40 in total, 10 already in the canary
  CHECK(small.waves[1].cumulative == 40);
  CHECK(small.waves[2].devices.size() == 160);
  CHECK(small.waves[2].cumulative == 200);
  auto small_canary = as_set(small.waves[0].devices);
  auto large_canary = as_set(large.waves[0].devices);
  CHECK(std::includes(large_canary.begin(), large_canary.end(), small_canary.begin(), small_canary.end()));
  // Every device in exactly one wave.
  std::set<std::string> all;
  std::size_t total = 0;
  for (const auto& w : small.waves) {
    total += w.devices.size();
    all.insert(w.devices.begin(), w.devices.end());
  }
  CHECK(total == 200);
  CHECK(all.size() == 200);
}

TEST_CASE("planner: percent sizes round up, counts are capped by the cohort") {
  SUBCASE("33% of 10 is 4, 5% of 1000 is exactly 50") {
    auto p10 = make_plan(spec_of("    - {name: a, size: 33%}\n    - {name: b, size: 100%}\n"), fleet(10));
    CHECK(p10.waves[0].devices.size() == 4);
    auto p1000 = make_plan(spec_of("    - {name: a, size: 5%}\n    - {name: b, size: 100%}\n"), fleet(1000));
    CHECK(p1000.waves[0].devices.size() == 50);
    auto p7 = make_plan(spec_of("    - {name: a, size: 0.1%}\n    - {name: b, size: 100%}\n"), fleet(7));
    CHECK(p7.waves[0].devices.size() == 1);  // any positive percent is at least one device
  }
  SUBCASE("a canary bigger than the cohort takes it all, with a warning") {
    auto p = make_plan(spec_of("    - {name: a, size: 50}\n"), fleet(30));
    CHECK(p.waves[0].devices.size() == 30);
    CHECK(std::any_of(p.warnings.begin(), p.warnings.end(),
                      [](const std::string& w) { return w == "wave a asks for 50 devices but the cohort has 30"; }));
  }
  SUBCASE("a last wave below 100% leaves the rest on the baseline, said in a warning") {
    auto p = make_plan(spec_of("    - {name: a, size: 5}\n    - {name: b, size: 50%}\n"), fleet(30));
    CHECK(p.waves[1].cumulative == 15);
    CHECK(std::find(p.warnings.begin(), p.warnings.end(),
                    "the last wave 'b' reaches 15 of 30 devices: the other 15 stay on the baseline 6.0.0 when the "
                    "rollout succeeds") != p.warnings.end());
  }
}

TEST_CASE("planner: a wave that adds no device is refused, naming the wave") {
  auto spec = spec_of("    - {name: canary, size: 5}\n    - {name: early, size: 40%}\n    - {name: all, size: 100%}\n");
  auto msg = error_of(spec, fleet(10));
  CHECK(msg ==
        "rollout.yaml:8: spec.waves[1].size: wave 'early' adds no devices: 40% of a 10-device cohort is 4, and the "
        "waves before it already reach 5");
  // With a larger cohort the same spec is fine.
  CHECK(make_plan(spec, fleet(100)).waves[1].devices.size() == 35);
}

TEST_CASE("planner: stratified allocation, exact counts on a hand-made cohort") {
  std::vector<Device> cohort;
  for (int i = 0; i < 50; ++i) cohort.push_back(device("a" + std::to_string(i), "6.0.0", {{"hw", "rev1"}}));
  for (int i = 0; i < 30; ++i) cohort.push_back(device("b" + std::to_string(i), "6.0.0", {{"hw", "rev2"}}));
  for (int i = 0; i < 20; ++i) cohort.push_back(device("c" + std::to_string(i), "6.0.0", {{"hw", "rev3"}}));
  auto spec = spec_of(k_three_waves, {}, "{stratifyBy: [hw]}");
  auto plan = make_plan(spec, cohort);
  CHECK(plan.strata == json{{"hw=rev1", 50}, {"hw=rev2", 30}, {"hw=rev3", 20}});
  // canary 10: quotas 5, 3, 2.
  CHECK(plan.waves[0].strata == json{{"hw=rev1", 5}, {"hw=rev2", 3}, {"hw=rev3", 2}});
  // early 25: quotas 12.5, 7.5, 5 -> floors 12, 7, 5; one seat left, the tied remainders go in stratum order.
  CHECK(plan.waves[1].cumulative == 25);
  CHECK(plan.waves[1].strata == json{{"hw=rev1", 8}, {"hw=rev2", 4}, {"hw=rev3", 3}});
  CHECK(plan.waves[2].strata == json{{"hw=rev1", 37}, {"hw=rev2", 23}, {"hw=rev3", 15}});

  // Inside a stratum, hash order: the canary's rev3 devices are the first two rev3 ids in hash order.
  std::vector<Device> rev3(cohort.begin() + 80, cohort.end());
  auto rev3_order = hash_order("vision-7", rev3);
  std::vector<std::string> canary_rev3;
  for (const auto& id : plan.waves[0].devices) {
    if (id[0] == 'c') canary_rev3.push_back(id);
  }
  CHECK(canary_rev3 == std::vector<std::string>(rev3_order.begin(), rev3_order.begin() + 2));

  SUBCASE("largest remainder with integer remainders: 3 seats over strata of 3, 2, 2") {
    std::vector<Device> small;
    for (int i = 0; i < 3; ++i) small.push_back(device("x" + std::to_string(i), "6.0.0", {{"region", "eu"}}));
    for (int i = 0; i < 2; ++i) small.push_back(device("y" + std::to_string(i), "6.0.0", {{"region", "us"}}));
    for (int i = 0; i < 2; ++i) small.push_back(device("z" + std::to_string(i), "6.0.0"));  // no region tag
    auto p = make_plan(spec_of("    - {name: a, size: 3}\n    - {name: b, size: 100%}\n", {}, "{stratifyBy: [region]}"),
                       small);
    // quotas 9/7, 6/7, 6/7: floors 1, 0, 0; remainders 2/7, 6/7, 6/7 -> the two 6/7 get a seat.
    CHECK(p.waves[0].strata == json{{"region=(none)", 1}, {"region=eu", 1}, {"region=us", 1}});
  }
}

TEST_CASE("planner: stratified cumulative allocation never takes a device back") {
  // Many small strata and many waves: the per-stratum cumulative counts must never decrease.
  std::vector<Device> cohort;
  std::mt19937 rng(11);
  for (int i = 0; i < 997; ++i) {
    cohort.push_back(device("d" + std::to_string(i), "6.0.0", {{"site", "s" + std::to_string(rng() % 13)}}));
  }
  std::string waves;
  for (int k = 1; k <= 20; ++k) {
    waves += "    - {name: w" + std::to_string(k) + ", size: " + std::to_string(k * 5) + "%}\n";
  }
  auto plan = make_plan(spec_of(waves, {}, "{stratifyBy: [site], control: none}"), cohort);
  std::map<std::string, std::int64_t> so_far;
  std::set<std::string> seen;
  for (std::size_t k = 0; k < plan.waves.size(); ++k) {
    const auto& w = plan.waves[k];
    CHECK(w.cumulative == static_cast<std::size_t>(std::ceil(997.0 * (k + 1) * 5 / 100 - 1e-9)));
    for (const auto& id : w.devices) {
      CHECK(seen.insert(id).second);
    }
    for (auto& [stratum, n] : w.strata.items()) {
      CHECK(n.get<std::int64_t>() > 0);
      so_far[stratum] += n.get<std::int64_t>();
    }
  }
  CHECK(seen.size() == 997);
  for (auto& [stratum, n] : plan.strata.items()) {
    CHECK(so_far[stratum] == n.get<std::int64_t>());
  }
}

TEST_CASE("planner: matched controls are disjoint from treated devices and matched per stratum") {
  std::vector<Device> cohort;
  for (int i = 0; i < 60; ++i) cohort.push_back(device("a" + std::to_string(i), "6.0.0", {{"hw", "rev1"}}));
  for (int i = 0; i < 40; ++i) cohort.push_back(device("b" + std::to_string(i), "6.0.0", {{"hw", "rev2"}}));
  auto plan = make_plan(spec_of(k_three_waves, {}, "{stratifyBy: [hw]}"), cohort);
  std::set<std::string> treated;
  for (std::size_t k = 0; k < plan.waves.size(); ++k) {
    const auto& w = plan.waves[k];
    treated.insert(w.devices.begin(), w.devices.end());
    for (const auto& id : w.control) {
      CHECK_MESSAGE(treated.count(id) == 0, id);  // never a device of this or an earlier wave
    }
    CHECK(as_set(w.control).size() == w.control.size());
    if (k + 1 < plan.waves.size()) {
      CHECK(w.control_strata == w.strata);  // as many per stratum as the wave adds there
      CHECK(w.control.size() == w.devices.size());
    }
  }
  CHECK(plan.waves[0].control_strata == json{{"hw=rev1", 6}, {"hw=rev2", 4}});
  CHECK(plan.waves[2].control.empty());  // 100%: nobody left to hold back
  CHECK(plan.waves[2].control_strata == json::object());

  // Control devices of a stratum are the next ones in that stratum's hash order.
  std::vector<Device> rev2(cohort.begin() + 60, cohort.end());
  auto order = hash_order("vision-7", rev2);
  std::vector<std::string> control_rev2;
  for (const auto& id : plan.waves[0].control) {
    if (id[0] == 'b') control_rev2.push_back(id);
  }
  CHECK(control_rev2 == std::vector<std::string>(order.begin() + 4, order.begin() + 8));

  SUBCASE("control: none plans no control") {
    auto none = make_plan(spec_of(k_three_waves, {}, "{stratifyBy: [hw], control: none}"), cohort);
    for (const auto& w : none.waves) {
      CHECK(w.control.empty());
    }
  }
  SUBCASE("a short stratum is warned about") {
    auto big = make_plan(spec_of("    - {name: half, size: 60%}\n    - {name: all, size: 100%}\n"), fleet(10));
    CHECK(big.waves[0].control.size() == 4);
    CHECK(std::find(big.warnings.begin(), big.warnings.end(), "wave half: control in stratum all is short: 4 of 6 devices") !=
          big.warnings.end());
  }
}

TEST_CASE("planner: baseline auto, mixed versions, named baseline") {
  auto cohort = fleet(5, "6.0.0");
  for (const auto& d : fleet(2, "5.9.0", "old-")) cohort.push_back(d);
  cohort.push_back(device("blank", ""));
  SUBCASE("auto with mixed versions is refused, listing the counts") {
    auto msg = error_of(spec_of(k_three_waves), cohort);
    CHECK(msg ==
          "rollout.yaml: spec.baseline.version: auto needs the cohort to run one version, it runs several (6.0.0: 5, "
          "5.9.0: 2, (none reported): 1)");
  }
  SUBCASE("a named baseline leaves the others out, counted and warned about") {
    auto plan = make_plan(spec_of("    - {name: a, size: 2}\n    - {name: b, size: 100%}\n", {}, "{version: 6.0.0}"), cohort);
    CHECK(plan.baseline_version == "6.0.0");
    CHECK(plan.cohort_size == 5);
    CHECK(plan.off_baseline == 3);
    CHECK(std::find(plan.warnings.begin(), plan.warnings.end(),
                    "3 devices left out: they are not on the baseline 6.0.0 (5.9.0: 2, (none reported): 1)") !=
          plan.warnings.end());
  }
  SUBCASE("auto on one version") {
    auto plan = make_plan(spec_of(k_three_waves), fleet(80, "6.1.0"));
    CHECK(plan.baseline_version == "6.1.0");
    CHECK(plan.off_baseline == 0);
  }
  SUBCASE("a cohort already on the new version, an empty cohort, a registry artifact") {
    CHECK(error_of(spec_of(k_three_waves), fleet(80, "7.0.0")) == "rollout.yaml: the whole cohort (80 devices) already runs 7.0.0");
    CHECK(error_of(spec_of(k_three_waves), {}).starts_with("rollout.yaml: the cohort is empty"));
    auto reg = parse_spec(spec_text(k_three_waves, {}, {}, "vision-7", "{model: vision, version: 7.0.0}"), "rollout.yaml");
    CHECK(error_of(reg, fleet(80)).find("has not been resolved") != std::string::npos);
  }
  SUBCASE("disabled devices are left out") {
    auto f = fleet(80);
    f[3].enabled = false;
    auto plan = make_plan(spec_of(k_three_waves), f);
    CHECK(plan.disabled == 1);
    CHECK(plan.cohort_size == 79);
    CHECK(std::find(plan.warnings.begin(), plan.warnings.end(), "1 disabled device left out: they could never report") !=
          plan.warnings.end());
  }
}

TEST_CASE("planner: the baseline model is what most baseline devices were given") {
  auto cohort = fleet(4);
  json model = {{"name", "vision"}, {"version", "6.0.0"}, {"uri", "https://cdn.example/v6"}, {"sha256", "ab"}};
  for (int i = 0; i < 3; ++i) cohort[i].desired["aiot"]["model"] = model;
  auto plan = make_plan(spec_of("    - {name: a, size: 1}\n    - {name: b, size: 100%}\n"), cohort);
  CHECK(plan.baseline_model == model);
  CHECK(make_plan(spec_of("    - {name: a, size: 1}\n    - {name: b, size: 100%}\n"), fleet(4)).baseline_model.is_null());
}

TEST_CASE("planner: ETA sums bakes and dispatch time at the rate") {
  auto plan = make_plan(spec_of(k_three_waves, "  rate: {perMinute: 10}\n"), fleet(100));
  // dispatch: 10, 15, 75 devices at 10/min = 1m, 1m30s, 7m30s = 10m.
  CHECK(plan.eta_min == 6h + 10min);
  CHECK(plan.eta_max == 24h + 10min);
  CHECK_FALSE(plan.eta_max_unbounded);
  auto open = make_plan(spec_of("    - {name: a, size: 10, bake: {min: 1h}}\n    - {name: b, size: 100%}\n"), fleet(100));
  CHECK(open.eta_min == 1h);
  CHECK(open.eta_max_unbounded);
  CHECK(open.to_json()["eta"]["max"].is_null());
}

TEST_CASE("planner: power numbers are the stats helpers' and underpowered gates are flagged") {
  // 50 canary devices, bake.max 4h at a 1h interval: 4 looks.
  const std::string waves =
      "    - {name: canary, size: 50, bake: {min: 1h, max: 4h}}\n"
      "    - {name: all, size: 100%, bake: {min: 1h, max: 4h}}\n";
  const std::string gates =
      "  analysis: {interval: 1h, warmup: 0s}\n"
      "  gates:\n"
      "    - {name: install, type: outcome, failureAbove: 2%, minSamples: 30}\n"
      "    - {name: crash-free, type: proportion-vs-baseline, event: \"reported.aiot.health.crashes_1h > 0\", "
      "maxIncrease: 5pp, minSamples: 20}\n"
      "    - {name: latency, type: distribution-vs-baseline, metric: reported.aiot.health.latency_p95_ms, "
      "tolerance: 10%, minSamples: 10}\n"
      "    - {name: conf, type: threshold, metric: reported.aiot.health.mean_confidence, successCondition: \">= 0.8\", "
      "minSamples: 60, dryRun: true}\n";
  std::vector<Device> cohort;
  for (int i = 0; i < 1000; ++i) {
    // 20 of 1000 devices crash (2%); latency 100 ± a spread.
    cohort.push_back(device("d" + std::to_string(i), "6.0.0", json::object(),
                            {{"crashes_1h", i % 50 == 0 ? 1 : 0}, {"latency_p95_ms", 80 + (i % 41)}}));
  }
  auto plan = make_plan(spec_of(waves, gates), cohort);
  const auto& canary = plan.waves[0];
  CHECK(canary.looks == 4);
  double alpha = aiot::rollout::bonferroni_alpha(1 - 0.95, 4);  // α' = α / looks
  CHECK(alpha == doctest::Approx(0.0125));

  const auto& install = canary.power["install"];
  CHECK(install["alpha"].get<double>() == alpha);
  CHECK(install["detectableRate"].get<double>() == aiot::rollout::min_detectable_failure_rate(50, alpha));
  CHECK(install["devicesNeeded"] == aiot::rollout::zero_failure_sample_size(0.02, alpha));
  CHECK(install["underpowered"] == true);
  auto expected_warning = fmt::format("gate install is underpowered in wave canary: it detects failure rates ≥ {:.3g}% but "
                                      "failureAbove is 2% (needs {} devices)",
                                      aiot::rollout::min_detectable_failure_rate(50, alpha) * 100,
                                      aiot::rollout::zero_failure_sample_size(0.02, alpha));
  CHECK(std::find(plan.underpowered.begin(), plan.underpowered.end(), expected_warning) != plan.underpowered.end());

  const auto& crash = canary.power["crash-free"];
  CHECK(crash["baselineRate"].get<double>() == doctest::Approx(0.02));
  CHECK(crash["devicesPerArmNeeded"] == aiot::rollout::two_proportion_sample_size(0.02, 0.07, alpha / 2, 0.8));
  CHECK(crash["canary"] == 50);
  CHECK(crash["control"] == 50);
  CHECK(crash["underpowered"] == (50 < crash["devicesPerArmNeeded"].get<std::int64_t>()));

  const auto& latency = canary.power["latency"];
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) values.push_back(80 + (i % 41));
  double m = aiot::rollout::mean(values);
  double ss = 0;
  for (double v : values) ss += (v - m) * (v - m);
  double sd = std::sqrt(ss / 999);
  double shift = 0.10 * aiot::rollout::median(values) / sd;
  CHECK(latency["shiftSd"].get<double>() == doctest::Approx(shift));
  CHECK(latency["devicesPerArmNeeded"] == aiot::rollout::mann_whitney_sample_size(shift, alpha / 2, 0.8));

  // The dry-run threshold gate is underpowered (50 < 60) but only warned about.
  CHECK(canary.power["conf"]["underpowered"] == true);
  CHECK(std::none_of(plan.underpowered.begin(), plan.underpowered.end(),
                     [](const std::string& s) { return s.starts_with("gate conf "); }));
  CHECK(std::any_of(plan.warnings.begin(), plan.warnings.end(),
                    [](const std::string& s) { return s.starts_with("gate conf is underpowered in wave canary"); }));

  // The last wave (100%) has no control: the baseline gates are not applicable there, not underpowered.
  CHECK(plan.waves[1].power["crash-free"]["applicable"] == false);
  CHECK(plan.waves[1].power["crash-free"]["underpowered"] == false);

  SUBCASE("a wave big enough for the outcome gate is not flagged") {
    auto big = make_plan(spec_of("    - {name: canary, size: 600, bake: {min: 1h, max: 4h}}\n"
                                 "    - {name: all, size: 100%}\n",
                                 "  analysis: {interval: 1h}\n  gates: [{name: install, type: outcome, failureAbove: 2%}]\n"),
                         fleet(1000));
    CHECK(big.waves[0].power["install"]["underpowered"] == false);
    CHECK(big.underpowered.empty());
  }
  SUBCASE("without reports of the metric the distribution gate's power is unknown, and said so") {
    auto blank = make_plan(spec_of(waves, gates), fleet(1000));
    CHECK(blank.waves[0].power["latency"]["known"] == false);
    CHECK(blank.waves[0].power["crash-free"]["known"] == false);
    CHECK(blank.waves[0].power["crash-free"]["baselineReporting"] == 0);
    CHECK(std::any_of(blank.warnings.begin(), blank.warnings.end(),
                      [](const std::string& s) { return s.starts_with("gate latency: power unknown in wave canary"); }));
  }
}

TEST_CASE("planner: the plan JSON round-trips and its digest detects edits") {
  auto plan = make_plan(spec_of(k_three_waves, "  gates: [{name: install, type: outcome}]\n", "{stratifyBy: [hw]}"), fleet(80));
  auto j = plan.to_json();
  CHECK(j["digest"] == plan.digest);
  CHECK(j["kind"] == "RolloutPlan");
  CHECK(j["waves"][0]["size"] == 10);
  auto back = aiot::rollout::plan_from_json(json::parse(j.dump()));
  CHECK(back.to_json() == j);
  CHECK(back.waves[1].devices == plan.waves[1].devices);
  CHECK(back.eta_min == plan.eta_min);

  auto edited = j;
  edited["waves"][0]["devices"][0] = "intruder";
  CHECK_THROWS_WITH_AS(aiot::rollout::plan_from_json(edited), doctest::Contains("digest does not match"), Error);
  CHECK_THROWS_AS(aiot::rollout::plan_from_json(json{{"kind", "Rollout"}}), Error);
}

TEST_CASE("planner: the cohort conditions") {
  auto spec = spec_of(k_three_waves, "  targets: {query: \"tags.site = 'berlin'\"}\n  exclude: \"tags.freeze = true\"\n");
  CHECK(aiot::rollout::cohort_condition(spec) ==
        "(tags.site = 'berlin') AND NOT IS_DEFINED(tags.aiotController) AND NOT (tags.freeze = true)");
  CHECK(aiot::rollout::excluded_condition(spec) ==
        "(tags.site = 'berlin') AND (tags.freeze = true) AND NOT IS_DEFINED(tags.aiotController)");
  auto plain = spec_of(k_three_waves);
  CHECK(aiot::rollout::cohort_condition(plain) == "NOT IS_DEFINED(tags.aiotController)");
  CHECK(aiot::rollout::excluded_condition(plain).empty());
}

TEST_CASE("planner: a 10,000-device cohort") {
  std::vector<Device> cohort;
  const char* hw[] = {"rev1", "rev2", "rev3"};
  for (int i = 0; i < 10000; ++i) {
    cohort.push_back(device("dev-" + std::to_string(i), "6.0.0", {{"hw", hw[i % 3]}}, {{"crashes_1h", 0}}));
  }
  auto plan = make_plan(spec_of(k_three_waves,
                                "  gates: [{name: c, type: proportion-vs-baseline, event: \"reported.aiot.health.crashes_1h "
                                "> 0\", maxIncrease: 1pp}]\n",
                                "{stratifyBy: [hw]}"),
                        cohort);
  CHECK(plan.cohort_size == 10000);
  CHECK(plan.waves[0].devices.size() == 10);
  CHECK(plan.waves[1].cumulative == 2500);
  CHECK(plan.waves[2].cumulative == 10000);
  CHECK(plan.waves[0].power["c"]["baselineRate"] == 0.0);
  CHECK(plan.waves[0].power["c"]["baselineReporting"] == 10000);
}
