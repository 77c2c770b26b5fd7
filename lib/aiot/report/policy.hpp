#pragma once
// policy.yaml: what a governance report measures the fleet against. Every key is optional; the
// defaults are the anchors' (lineage-governance.md §3-§5). Unknown keys are errors with
// file:line:column (a typo must not silently switch a check off). See examples/policy.yaml.
//
//   apiVersion: aiot.dev/v1
//   kind: GovernancePolicy
//   models:                      # per model name
//     detector: {approved: "2.0", modelCards: ["2.0"], favourable: 1}
//   adoption: {warn: 0.95, error: 0.80, maxDaysToAdopt: 7}
//   dataHealth: {freshnessWarn: 0.99, freshnessError: 0.95}
//   performance: {metric: accuracy, maxRelativeDrop: 0.05, reference: 0.92}
//   drift: {reference: profiles/2026-W46.json, psiWarn: 0.1, psiError: 0.25, jsWarn: 0.1, jsError: 0.25,
//           ksAlpha: 0.05, minCount: 100, fields: [temperature, vibration]}
//   bias: {segments: [site, region, hw], minGroup: 30, disparateImpact: 0.8, parityDifference: 0.1,
//          equalizedOdds: 0.1, bootstrap: 200, seed: 1}
//   cost: {currency: USD, messagingPerMillionUnits: 1.0, unitBytes: 4096, bytesPerMessage: 512,
//          computePerDeviceHour: 0.0, storagePerGbMonth: 0.02, budgetPerSite: 50, budgets: {tokyo: 20},
//          maxPer1000Inferences: 0.05}
//   carbon: {devicePowerW: {default: 5, pi5: 8}, joulesPerInference: 0.0, pue: 1.0,
//            regions: {eu-central: DEU, us-east: {intensity: 390, source: "utility 2025", year: 2025}},
//            maxKgPerDeployment: 50}
//   security: {certExpiryDays: 30, requireX509: false}
//   useCases:
//     - {name: Predictive maintenance, kpi: unplanned downtime, field: downtime_min, aggregate: mean,
//        baseline: 120, target: "-20%", successCriteria: "...", riskThresholds: "...", exitConditions: "..."}
//   rules:                       # each: id, severity error|warn, and its parameters
//     - {id: canary-before-full, minHours: 24, severity: error}
//     - {id: model-card-required, severity: error}
//     - {id: drift-error-blocks-promotion, severity: error}
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace aiot::report {

struct ModelPolicy {
  std::string approved;                 // the approved version ("" = none declared)
  std::vector<std::string> model_cards; // versions that have a model card
  std::string favourable = "1";         // prediction/label value that is the favourable outcome
};

struct GridEntry {
  std::string country;       // ISO 3166-1 alpha-3, looked up in the shipped table
  std::optional<double> intensity_g_per_kwh;  // given directly
  std::string source;
  std::string year;
};

struct UseCase {
  std::string name, kpi, field, aggregate = "mean", unit;
  std::optional<double> baseline;
  std::string target;  // "-20%", "+5%", "<= 10", ">= 0.9"
  std::string success_criteria, risk_thresholds, exit_conditions;
};

struct Rule {
  std::string id;
  std::string severity = "error";  // error | warn
  nlohmann::json params = nlohmann::json::object();
};

struct Policy {
  std::string source = "<built-in defaults>";
  std::map<std::string, ModelPolicy> models;
  double adoption_warn = 0.95, adoption_error = 0.80, max_days_to_adopt = 7;
  double freshness_warn = 0.99, freshness_error = 0.95;
  std::string performance_metric = "accuracy";
  double max_relative_drop = 0.05;
  std::optional<double> performance_reference;
  std::string drift_reference;
  double psi_warn = 0.1, psi_error = 0.25, js_warn = 0.1, js_error = 0.25, ks_alpha = 0.05;
  std::uint64_t drift_min_count = 100;
  std::vector<std::string> drift_fields;  // empty = every field
  std::vector<std::string> bias_segments{"site", "region", "hw"};
  std::uint64_t bias_min_group = 30;
  double disparate_impact = 0.8, parity_difference = 0.1, equalized_odds = 0.1;
  int bootstrap = 200;
  std::uint64_t bootstrap_seed = 1;
  std::string currency = "USD";
  std::optional<double> messaging_per_million_units;
  double unit_bytes = 4096, bytes_per_message = 512;
  std::optional<double> compute_per_device_hour, storage_per_gb_month;
  std::optional<double> budget_per_site;
  std::map<std::string, double> site_budgets;
  std::optional<double> max_per_1000_inferences;
  std::map<std::string, double> device_power_w;  // by hw class; "default"
  double joules_per_inference = 0;
  double pue = 1.0;
  std::map<std::string, GridEntry> grid;  // by region
  std::optional<double> max_kg_per_deployment;
  double cert_expiry_days = 30;
  bool require_x509 = false;
  std::vector<UseCase> use_cases;
  std::vector<Rule> rules;

  // Throws Error::usage "SOURCE:LINE:COL: key: what is wrong".
  static Policy parse(std::string_view yaml, std::string_view source);
  // The rules every report checks when the policy names none.
  static std::vector<Rule> default_rules();
  // The policy as the report shows it (thresholds in force).
  nlohmann::json to_json() const;
};

}  // namespace aiot::report
