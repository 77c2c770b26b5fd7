// Hub data to gate inputs: per-device samples and the distribution gate's perDevice/minPerDevice.
#include <doctest/doctest.h>

#include "aiot/core/error.hpp"
#include "aiot/rollout/gate_inputs.hpp"

using namespace aiot;
using namespace aiot::rollout;
using nlohmann::json;

namespace {
hub::Device device_reporting(json latency) {
  hub::Device d;
  d.id = "cam-1";
  d.reported = {{"aiot", {{"health", {{"latency_p95_ms", std::move(latency)}}}}}};
  return d;
}
constexpr const char* k_metric = "reported.aiot.health.latency_p95_ms";
}  // namespace

TEST_CASE("metric samples: a number is one sample, an array of numbers is each of them") {
  CHECK(metric_samples(device_reporting(42), k_metric) == std::vector<double>{42});
  CHECK(metric_samples(device_reporting(json::array({10, "x", 30, nullptr, 20})), k_metric) ==
        std::vector<double>{10, 30, 20});
  CHECK(metric_samples(device_reporting("slow"), k_metric).empty());
  CHECK(metric_samples(device_reporting(1), "properties.reported.aiot.health.latency_p95_ms").size() == 1);
  CHECK_THROWS_AS(metric_samples(device_reporting(1), "aiot.health.latency_p95_ms"), Error);
}

TEST_CASE("perDevice makes one value per device; minPerDevice drops devices with fewer samples") {
  auto d = device_reporting(json::array({10, 40, 20, 30}));  // sorted: 10 20 30 40
  CHECK(per_device_value(d, k_metric, "median", 1) == doctest::Approx(25));  // (20 + 30) / 2
  CHECK(per_device_value(d, k_metric, "mean", 1) == doctest::Approx(25));
  CHECK(per_device_value(d, k_metric, "max", 1) == doctest::Approx(40));
  CHECK(per_device_value(d, k_metric, "min", 1) == doctest::Approx(10));
  CHECK(per_device_value(d, k_metric, "last", 1) == doctest::Approx(30));  // the last reported sample
  // p95, type 7: h = (4 - 1) * 0.95 = 2.85 -> 30 + 0.85 * (40 - 30) = 38.5
  CHECK(per_device_value(d, k_metric, "p95", 1) == doctest::Approx(38.5));
  CHECK(per_device_value(d, k_metric, "median", 4).has_value());
  CHECK_FALSE(per_device_value(d, k_metric, "median", 5).has_value());
  CHECK(per_device_value(device_reporting(7), k_metric, "p95", 1) == doctest::Approx(7));  // one sample is itself
  CHECK_FALSE(per_device_value(device_reporting(7), k_metric, "median", 2).has_value());
  CHECK_FALSE(per_device_value(hub::Device{}, k_metric, "median", 1).has_value());
}

TEST_CASE("GateReading: each gate type reads its per-device value") {
  GateSpec proportion;
  proportion.type = GateType::proportion_vs_baseline;
  proportion.params = {{"event", "properties.reported.aiot.health.latency_p95_ms > 30"}};
  const GateReading event(proportion);
  CHECK(event(device_reporting(31)) == 1.0);
  CHECK(event(device_reporting(30)) == 0.0);
  CHECK_FALSE(event(hub::Device{}).has_value());  // no such metric: the device does not count

  GateSpec distribution;
  distribution.type = GateType::distribution_vs_baseline;
  distribution.params = {{"metric", k_metric}, {"perDevice", "max"}, {"minPerDevice", 2}};
  const GateReading per_device(distribution);
  CHECK(per_device(device_reporting(json::array({10, 40, 20}))) == doctest::Approx(40));
  CHECK_FALSE(per_device(device_reporting(7)).has_value());  // one sample, two needed

  GateSpec threshold;
  threshold.type = GateType::threshold;
  threshold.params = {{"metric", k_metric}};
  CHECK(GateReading(threshold)(device_reporting(12.5)) == 12.5);
  CHECK_FALSE(GateReading(threshold)(device_reporting("slow")).has_value());

  GateSpec outcome;  // reads nothing
  CHECK_FALSE(GateReading(outcome)(device_reporting(1)).has_value());

  GateSpec malformed;
  malformed.type = GateType::proportion_vs_baseline;
  malformed.params = {{"event", "crashes"}};
  CHECK_THROWS_AS(GateReading{malformed}, Error);
}
