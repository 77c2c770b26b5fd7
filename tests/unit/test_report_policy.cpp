#include <doctest/doctest.h>

#include <string>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/report/policy.hpp"

using namespace aiot;
using namespace aiot::report;

TEST_CASE("report policy: defaults, every section, errors with file:line:column") {
  SUBCASE("empty policy: anchor defaults and the default rules") {
    auto p = Policy::parse("", "p.yaml");
    CHECK(p.adoption_warn == doctest::Approx(0.95));
    CHECK(p.psi_error == doctest::Approx(0.25));
    CHECK(p.bias_min_group == 30);
    CHECK(p.disparate_impact == doctest::Approx(0.8));
    CHECK_FALSE(p.rules.empty());
    CHECK(p.rules.front().id == "journal-verified");
  }
  SUBCASE("a full policy") {
    auto p = Policy::parse(R"(
apiVersion: aiot.dev/v1
kind: GovernancePolicy
models:
  detector: {approved: "2.0", modelCards: ["2.0", "2.1"], favourable: "1"}
adoption: {warn: 90%, error: 0.5}
drift: {psiWarn: 0.2, fields: [temperature]}
bias: {segments: [site], minGroup: 50}
cost: {currency: EUR, messagingPerMillionUnits: 1.0, budgetPerSite: 10, budgets: {tokyo: 2}}
carbon: {devicePowerW: {default: 5, pi5: 8}, regions: {eu-central: DEU, tokyo: {intensity: 450, source: utility, year: 2025}}}
useCases:
  - {name: Predictive maintenance, kpi: unplanned downtime, field: downtime_min, baseline: 120, target: "-20%"}
rules:
  - {id: canary-before-full, minHours: 12, severity: warn}
)",
                           "p.yaml");
    CHECK(p.models.at("detector").approved == "2.0");
    CHECK(p.models.at("detector").model_cards.size() == 2);
    CHECK(p.adoption_warn == doctest::Approx(0.9));
    CHECK(p.adoption_error == doctest::Approx(0.5));
    CHECK(p.psi_warn == doctest::Approx(0.2));
    CHECK(p.drift_fields == std::vector<std::string>{"temperature"});
    CHECK(p.bias_segments == std::vector<std::string>{"site"});
    CHECK(p.currency == "EUR");
    CHECK(p.site_budgets.at("tokyo") == doctest::Approx(2));
    CHECK(p.device_power_w.at("pi5") == doctest::Approx(8));
    CHECK(p.grid.at("eu-central").country == "DEU");
    CHECK(*p.grid.at("tokyo").intensity_g_per_kwh == doctest::Approx(450));
    REQUIRE(p.use_cases.size() == 1);
    CHECK(p.use_cases[0].target == "-20%");
    REQUIRE(p.rules.size() == 1);
    CHECK(p.rules[0].severity == "warn");
    CHECK(p.rules[0].params["minHours"] == 12);
    CHECK(p.to_json()["cost"]["budgets"]["tokyo"] == 2);
  }
  SUBCASE("unknown keys and bad values name file:line:column") {
    auto message = [](const char* yaml) {
      try {
        Policy::parse(yaml, "p.yaml");
      } catch (const Error& e) {
        CHECK(e.code() == ExitCode::usage);
        return e.message();
      }
      return std::string("no error");
    };
    CHECK(message("adoption: {warm: 0.9}").find("p.yaml:1:") == 0);
    CHECK(message("adoption: {warm: 0.9}").find("adoption.warm: unknown key") != std::string::npos);
    CHECK(message("drift:\n  psiWarn: high\n").find("p.yaml:2:12: drift.psiWarn: 'high' is not a number") == 0);
    CHECK(message("adoption: {warn: 1.5}").find("fraction") != std::string::npos);
    CHECK(message("rules: [{id: no-such-rule}]").find("unknown rule 'no-such-rule'") != std::string::npos);
    CHECK(message("kind: Rollout").find("expected GovernancePolicy") != std::string::npos);
    CHECK(message("carbon: {pue: 0.9}").find("PUE is at least 1.0") != std::string::npos);
    CHECK(message("a: [").find("p.yaml:") == 0);
  }
}

TEST_CASE("report policy: examples/policy.yaml parses") {
  std::string text = fs::read_file(std::string(AIOT_SOURCE_DIR) + "/examples/policy.yaml");
  auto p = Policy::parse(text, "examples/policy.yaml");
  CHECK_FALSE(p.models.empty());
  CHECK_FALSE(p.use_cases.empty());
  CHECK_FALSE(p.rules.empty());
}
