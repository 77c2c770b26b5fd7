#pragma once
// The numbers of the governance report (issue 7; reference: lineage-governance.md §4, §5, §9.2):
// intervals, bias audit, model performance and decay, cost per inference, carbon per deployment,
// registry security posture. Drift lives in lib/aiot/lineage/drift.hpp.
//
// Plain data in, plain data out: no files, no clock, no printing (the only I/O is
// CarbonTable::load_csv for a user's --intensity file; the CSV parsers take text). Every
// metric that could be a division by zero or rest on too few observations is a `Stat` whose
// value is absent and whose `missing` says why ("insufficient data: n = 12 < 30"): no NaN or
// infinity ever leaves this library. Results are sorted (by model version, then group/site/
// week) so renderers produce byte-identical output. Formulas and sources: docs/report-metrics.md.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::report {

// ---- common ---------------------------------------------------------------------------

inline constexpr double k_z95 = 1.959963984540054;           // Φ⁻¹(0.975)
inline constexpr std::int64_t k_default_min_group_size = 30;  // §4: "n ≥ 30, else insufficient"
inline constexpr int k_default_bootstrap_resamples = 1000;
inline constexpr std::uint64_t k_default_bootstrap_seed = 0x61696f74626f6f74ULL;  // "aiotboot"

struct Interval {
  double lower = 0.0;
  double upper = 0.0;
};

// A number, or the reason there is none. `ci` is the confidence interval when one was computed.
struct Stat {
  std::optional<double> value;
  std::optional<Interval> ci;
  std::string missing;  // non-empty exactly when value is absent, e.g. "insufficient data: n = 12 < 30"

  bool has_value() const { return value.has_value(); }
  static Stat of(double v, std::optional<Interval> ci = std::nullopt);  // non-finite v -> missing
  static Stat none(std::string reason);
};

// "2026-W47" for a UTC time point (ISO 8601 week-numbering year and week).
std::string iso_week(std::chrono::system_clock::time_point t);

// ---- intervals (intervals.cpp) ----------------------------------------------------------

// Wilson score interval for x successes in n trials (z = 1.96 for 95 %):
//   p̂ = x/n, centre = (p̂ + z²/2n)/(1 + z²/n), half = z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²).
// n = 0 gives [0, 1]. x > n or negatives: Error::usage.
Interval wilson(std::int64_t x, std::int64_t n, double z = k_z95);

// Newcombe's hybrid score interval (method 10) for p1 − p2 from the two Wilson intervals.
struct Difference {
  double estimate = 0.0;  // p1 − p2
  Interval ci;
};
// Both n > 0, else Error::usage (callers check sizes first and report "insufficient data").
Difference newcombe(std::int64_t x1, std::int64_t n1, std::int64_t x2, std::int64_t n2, double z = k_z95);

struct BootstrapOptions {
  int resamples = k_default_bootstrap_resamples;
  std::uint64_t seed = k_default_bootstrap_seed;
  double confidence = 0.95;
};

// Groups of per-observation values (e.g. 0/1 outcomes per segment). The statistic may say
// "not computable" (nullopt) for a resample.
using Groups = std::vector<std::vector<double>>;
using GroupStatistic = std::function<std::optional<double>(const Groups&)>;

struct BootstrapResult {
  std::optional<Interval> ci;  // absent when fewer than half of the resamples were computable
  int resamples = 0;           // asked for
  int used = 0;                // computable resamples the percentiles came from
  std::uint64_t seed = 0;
};

// Stratified percentile bootstrap: each resample redraws every group with replacement at its own
// size (mt19937_64 seeded with `seed`, indices by rejection sampling, so the same inputs give the
// same interval on every platform), recomputes the statistic, and takes the (1−c)/2 and (1+c)/2
// type-7 quantiles of the computable values.
BootstrapResult bootstrap_ci(const Groups& groups, const GroupStatistic& statistic,
                             const BootstrapOptions& options = {});

// The same bootstrap for categorical observations given as counts: counts[g][k] = observations of
// group g in category k (e.g. k = ŷ + 2y). A resample of a group is a multinomial draw of its size
// over its observed category shares (sequential binomials), which is equal in distribution to
// redrawing the observations, but costs O(categories) instead of O(n): a week of hourly decisions
// from 10,000 devices resamples 1,000 times in milliseconds. Deterministic for a given seed and
// standard library (std::binomial_distribution).
using GroupCounts = std::vector<std::vector<std::int64_t>>;
using CountStatistic = std::function<std::optional<double>(const GroupCounts&)>;
BootstrapResult bootstrap_ci_counts(const GroupCounts& counts, const CountStatistic& statistic,
                                    const BootstrapOptions& options = {});

// ---- bias audit (bias.cpp) --------------------------------------------------------------

// One decision of the device-side logic: the segment it belongs to in the dimension being
// audited, whether the outcome was the favourable one, and the confirmed label when known.
struct Decision {
  std::string group;            // e.g. "berlin" when auditing the dimension "site"
  bool predicted = false;       // ŷ = favourable outcome (declared per model in the policy)
  std::optional<bool> actual;   // y, when a later-confirmed label exists
};

struct BiasOptions {
  std::int64_t min_group_size = k_default_min_group_size;
  std::int64_t min_label_count = 10;  // labelled positives (negatives) a group needs for TPR (FPR)
  // Empty: the most favoured sufficient group (highest selection rate; ties: first by name). A
  // named group that is absent or below min_group_size falls back to that, and reference_rule says so.
  std::string reference_group;
  std::map<std::string, std::string> reference_by_dimension;  // audit_bias_by_segment: dimension -> group
  double four_fifths = 0.8;     // DI below this flags adverse impact (29 CFR 1607.4(D))
  double z = k_z95;
  BootstrapOptions bootstrap;   // CIs of DPD and EOD
};

struct GroupBias {
  std::string group;
  std::int64_t n = 0;
  std::int64_t selected = 0;  // ŷ = 1
  std::int64_t labelled = 0;  // decisions with a label
  std::int64_t positives = 0, negatives = 0;  // labelled y = 1 / y = 0
  std::int64_t true_positives = 0, false_positives = 0;
  bool sufficient = false;    // n ≥ min_group_size
  Stat selection_rate;        // selected / n, Wilson CI
  Stat tpr;                   // TP / positives, Wilson CI; missing without labels or positives
  Stat fpr;                   // FP / negatives, Wilson CI
  Stat disparate_impact;      // SR_g / SR_ref
  Stat parity_difference;     // SR_g − SR_ref, Newcombe CI
  bool adverse_impact = false;  // DI < four_fifths (never for insufficient groups)
};

struct BiasAudit {
  std::string model_version;
  std::string dimension;      // "site", "region", "hw_class", …
  bool labelled = false;      // any labels at all: TPR/FPR/EOD only then
  std::vector<GroupBias> groups;  // sorted by group name; insufficient groups included, flagged
  GroupBias overall;
  std::string reference_group;    // empty when no group is sufficient
  std::string reference_rule;     // "most favoured (highest selection rate)", "named in policy", or the fallback
  // Between sufficient groups only (Fairlearn method='between_groups'):
  Stat demographic_parity_difference;  // max SR − min SR, bootstrap CI
  Stat demographic_parity_ratio;       // min SR / max SR
  Stat equal_opportunity_difference;   // TPR spread
  Stat equalized_odds_difference;      // max(TPR spread, FPR spread), bootstrap CI
  std::int64_t insufficient_groups = 0;
  std::vector<std::string> adverse_impact_groups;  // DI < 0.8, sorted
  int bootstrap_resamples = 0;
  std::uint64_t bootstrap_seed = 0;
};

BiasAudit audit_bias(std::string model_version, std::string dimension,
                     std::span<const Decision> decisions, const BiasOptions& options = {});

// Decisions with every segment at once (segments from the registry: site, region, hw class).
struct SegmentedDecision {
  std::string model_version;
  std::map<std::string, std::string> segments;  // dimension -> value; missing dimension -> "(unknown)"
  bool predicted = false;
  std::optional<bool> actual;
};
// One audit per (model version, dimension), sorted by model version then dimension.
std::vector<BiasAudit> audit_bias_by_segment(std::span<const SegmentedDecision> decisions,
                                             const std::vector<std::string>& dimensions,
                                             const BiasOptions& options = {});

// ---- model performance and decay (performance.cpp) ---------------------------------------

// Counts for one model version in one ISO week. Label counts stay 0 without labels.
struct WeekCounts {
  std::string model_version;
  std::string week;                   // "2026-W47"
  std::int64_t predictions = 0;
  std::int64_t predicted_positive = 0;
  std::int64_t tp = 0, fp = 0, tn = 0, fn = 0;  // labelled predictions only
  double confidence_sum = 0.0;        // Σ model confidence over `confidence_count` predictions
  std::int64_t confidence_count = 0;
};

// Adds one prediction to the counts (label and confidence optional).
void add_prediction(WeekCounts& counts, bool predicted, std::optional<bool> actual,
                    std::optional<double> confidence);

struct WeekPerformance {
  std::string week;
  std::int64_t predictions = 0;
  std::int64_t labelled = 0;
  Stat accuracy, precision, recall, f1;  // missing without labels (or with zero denominators)
  Stat mean_confidence;                  // label-free proxy
  Stat prediction_rate;                  // label-free proxy: predicted_positive / predictions
};

struct DecayOptions {
  double relative_drop = 0.05;        // policy threshold: alert when (ref − cur)/ref > this
  double sigma = 3.0;                 // alert when outside ref mean ± sigma·sd of reference weeks
  std::int64_t min_samples = k_default_min_group_size;  // per week, for a week to count
  int min_reference_weeks_for_sigma = 3;  // fewer: the σ rule is not applied (stated)
};

struct DecayCheck {
  std::string week;
  std::string metric;                 // "f1" with labels, "mean_confidence" without
  Stat value;
  Stat reference_mean;
  Stat reference_sd;
  Stat relative_change;               // (cur − ref)/ref
  bool alert = false;
  std::string reason;                 // why alerted ("relative drop 7.1 % > 5 %", "outside ±3σ"), or why not checked
};

struct ModelPerformance {
  std::string model_version;
  bool label_free = true;             // no week has labels: only proxies, stated as label-free
  std::string metric;                 // the metric decay is judged on
  std::vector<WeekPerformance> weeks; // sorted by week
  std::vector<std::string> reference_weeks;
  std::vector<DecayCheck> checks;     // one per non-reference week
  bool alert = false;
};

// Reference = `reference_weeks` (sufficient ones); every other week is checked against it. With
// labels anywhere the metric is F1 (weeks without labels: missing), else mean confidence.
ModelPerformance evaluate_performance(std::string model_version, std::span<const WeekCounts> weeks,
                                      const std::vector<std::string>& reference_weeks,
                                      const DecayOptions& options = {});

// ---- cost per inference (cost.cpp) -------------------------------------------------------

enum class CostCategory { messaging, compute, storage, other };
std::string_view to_string(CostCategory c);
CostCategory parse_cost_category(std::string_view text);  // Error::usage on anything else

// Billing CSV (RFC 4180, header row, columns in any order, extra columns ignored):
//   date (YYYY-MM-DD), service, category (messaging|compute|storage|other), site, model_version,
//   cost (decimal), currency (ISO 4217). site and model_version may be empty (shared cost).
struct BillingLine {
  std::string date;
  std::string service;
  CostCategory category = CostCategory::other;
  std::string site;
  std::string model_version;
  double cost = 0.0;
  std::string currency;
};
// Error::usage with "source:line: …" on a missing column, bad number or category.
std::vector<BillingLine> parse_billing_csv(std::string_view text, std::string_view source);

// Inferences (and messages) per site and model version in the period.
struct Usage {
  std::string site;
  std::string model_version;
  std::int64_t inferences = 0;
  std::int64_t messages = 0;
  std::int64_t message_blocks = 0;  // Σ billable_blocks(message size): 4 KB Azure, 5 KB AWS
  double compute_hours = 0.0;       // price-table mode only
  double storage_gb_months = 0.0;   // price-table mode only
};

inline constexpr std::int64_t k_azure_block_bytes = 4096;  // IoT Hub meters 4 KB blocks (0.5 KB Free)
inline constexpr std::int64_t k_aws_block_bytes = 5120;    // IoT Core meters 5 KB increments
// ceil(bytes / block); a 0-byte message still counts 1.
std::int64_t billable_blocks(std::int64_t message_bytes, std::int64_t block_bytes);

// The policy's price table, for when there is no billing CSV.
struct PriceTable {
  std::string currency = "USD";
  std::int64_t block_bytes = k_azure_block_bytes;
  double per_million_blocks = 0.0;         // AWS style (e.g. 1.00 per million 5 KB messages)
  // Azure style (used when > 0): units = ceil(peak daily blocks / blocks_per_unit_per_day),
  // cost = units × unit_price_per_day × days, shared over sites by blocks.
  std::int64_t blocks_per_unit_per_day = 0;  // S1 400 000, S2 6 000 000, S3 300 000 000
  double unit_price_per_day = 0.0;
  double compute_per_hour = 0.0;
  double storage_per_gb_month = 0.0;
};

struct CostOptions {
  // Shared lines (no model version, or no site) are allocated to (site, version) by inference
  // share within their site, or fleet-wide when the site is empty too. Stated in the output.
  bool allocate_shared = true;
  std::map<std::string, double> budget_per_site;  // site -> budget in the report currency
  int period_days = 7;                           // Azure unit model
  std::int64_t peak_day_blocks = 0;              // Azure unit model: the busiest day (0: total/days)
};

struct CostRow {
  std::string site;
  std::string model_version;
  std::int64_t inferences = 0;
  std::int64_t message_blocks = 0;
  double messaging = 0.0, compute = 0.0, storage = 0.0, other = 0.0, total = 0.0;
  double allocated_shared = 0.0;   // part of total that came from shared lines
  Stat per_1000_inferences;        // total / inferences × 1000; missing when inferences = 0
  Stat messaging_per_1000_inferences;
};

struct BudgetCheck {
  std::string site;
  double spent = 0.0;
  double budget = 0.0;
  Stat utilisation;                // spent / budget
  bool over = false;
};

struct CostReport {
  std::string source;              // "billing" or "price table"
  std::string currency;
  std::vector<CostRow> rows;       // sorted by site, then model version
  std::vector<CostRow> by_site;    // model_version empty
  std::vector<CostRow> by_model_version;  // site empty
  CostRow total;
  double unallocated = 0.0;        // shared cost that had no inferences to carry it
  std::vector<BudgetCheck> budgets;  // sorted by site
  std::string allocation_note;
};

// Error::usage when currencies differ.
CostReport cost_from_billing(std::span<const BillingLine> lines, std::span<const Usage> usage,
                             const CostOptions& options = {});
CostReport cost_from_prices(std::span<const Usage> usage, const PriceTable& prices,
                            const CostOptions& options = {});

// ---- carbon per deployment (carbon.cpp, carbon_table.cpp) --------------------------------

struct GridIntensity {
  double g_per_kwh = 0.0;
  std::string key;        // what matched: "DEU", "US-CA", "CA-ON", "SE3", "gcp:europe-west1", "world"
  std::string source;     // e.g. "Our World in Data (Ember, Energy Institute) via CodeCarbon"
  int year = 0;
  bool fallback = false;  // true when the world average was used
};

// Grid intensities shipped with aiot (figures carried over from CodeCarbon's data, see
// docs/report-metrics.md) plus overrides. Keys, case-insensitive:
//   ISO 3166-1 alpha-3 "DEU"; US state "US-CA"; Canadian province "CA-ON"; Nordic bidding zone
//   "SE1".."SE4", "NO1".."NO5", "FI"; cloud "gcp:<region>", "azure:<region>", "aws:<region>"
//   (Azure/AWS regions map to their location's figure); "world" (475 g/kWh, IEA 2019).
class CarbonTable {
 public:
  static CarbonTable builtin();
  // Override file: CSV with columns key,g_per_kwh[,year,source]; overrides win. Error::usage on
  // a bad row or an unreadable file.
  void load_csv(const std::string& path);
  void set(std::string key, double g_per_kwh, int year, std::string source);  // e.g. from policy
  // Exact key, else the world average with fallback = true.
  GridIntensity lookup(std::string_view key) const;
  std::optional<GridIntensity> find(std::string_view key) const;
  std::size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, GridIntensity> entries_;
};

inline constexpr double k_world_average_g_per_kwh = 475.0;

// Energy CSV rows (CodeCarbon emissions.csv: timestamp, project_name, run_id, duration (s),
// emissions (kg), energy_consumed (kWh), country_iso_code, region, cloud_provider,
// cloud_region, pue; or aiot's own: date, site, model_version, energy_kwh).
struct EnergyRow {
  std::string timestamp;
  std::string deployment;     // CodeCarbon project_name, or "site/model_version"
  std::string site;
  std::string model_version;
  double duration_s = 0.0;
  double energy_kwh = 0.0;
  std::optional<double> emissions_kg;  // as CodeCarbon computed it
  std::string country_iso_code;
  std::string region;
  std::string cloud_provider;
  std::string cloud_region;
  std::optional<double> pue;
};
// Detects the dialect from the header. Error::usage with "source:line: …".
std::vector<EnergyRow> parse_energy_csv(std::string_view text, std::string_view source);

// One deployment (model version at a site) in the period.
struct DeploymentEnergy {
  std::string site;
  std::string model_version;
  std::string grid_key;              // CarbonTable key of the site's location
  std::int64_t devices = 0;
  std::int64_t inferences = 0;
  double hours = 0.0;                // period hours each device ran
  std::optional<double> device_power_w;      // rated/measured device power (E = P × t)
  std::optional<double> inference_energy_j;  // per inference (E = e × inferences), used when no power
  std::optional<double> measured_kwh;        // from the energy file: wins over both
  // Cloud side (IoT Hub, storage, compute), with its own region and PUE:
  double cloud_kwh = 0.0;
  std::string cloud_grid_key;        // e.g. "azure:westeurope"
  std::optional<double> pue;         // default per provider prefix: aws 1.135, gcp 1.1, azure 1.185
  // Embodied (SCI M), optional: per device × hours / (lifetime years × 8760).
  std::optional<double> embodied_kg_per_device;
  double lifetime_years = 4.0;
};

struct CarbonOptions {
  std::optional<double> intensity_override_g_per_kwh;  // policy override for every site
  bool include_embodied = true;      // SCI M included when inputs give it
};

struct DeploymentCarbon {
  std::string site;
  std::string model_version;
  std::string energy_method;         // "measured", "device power × time", "energy per inference", "none"
  Stat device_kwh;
  double cloud_kwh_with_pue = 0.0;
  double pue = 1.0;
  GridIntensity device_intensity;
  GridIntensity cloud_intensity;
  Stat operational_kg;               // E·I
  Stat embodied_kg;                  // M; missing when not given or excluded
  bool embodied_included = false;
  Stat total_kg;                     // E·I + M
  Stat per_1000_inferences_kg;       // SCI with R = 1000 inferences
  Stat per_inference_g;              // SCI with R = 1 inference, grams
};

std::vector<DeploymentCarbon> carbon_per_deployment(std::span<const DeploymentEnergy> deployments,
                                                    const CarbonTable& table,
                                                    const CarbonOptions& options = {});
double default_pue(std::string_view cloud_grid_key);  // 1.0 when not a cloud key

// ---- security posture (security.cpp) ------------------------------------------------------

struct DeviceSecurity {
  std::string device_id;
  std::string auth_type;             // "sas", "x509-self-signed", "x509-ca"
  std::vector<std::string> thumbprints;  // certificate thumbprints (primary, secondary)
  std::vector<std::string> key_fingerprints;  // SAS key hashes, never the keys themselves
  std::optional<std::chrono::system_clock::time_point> not_after;
  bool enabled = true;
  std::optional<std::chrono::system_clock::time_point> last_seen;
};

struct SecurityOptions {
  int expiry_days = 30;
  bool require_x509 = false;         // policy demands X.509: SAS devices are findings
  std::chrono::system_clock::time_point now;      // the report period's end
  std::chrono::system_clock::time_point period_start;  // "disabled but sending" window
};

struct SecurityFinding {
  std::string check;  // "cert-expiring", "cert-expired", "shared-credential", "sas-not-allowed", "disabled-sending", "never-seen"
  std::string severity;              // "high", "medium", "low"
  std::string device_id;
  std::string detail;
};

struct SecurityPosture {
  std::int64_t devices = 0;
  std::int64_t x509 = 0, sas = 0;
  std::vector<SecurityFinding> findings;  // sorted by check, then device id
  std::map<std::string, std::int64_t> counts;  // check -> findings
};

SecurityPosture security_posture(std::span<const DeviceSecurity> devices, const SecurityOptions& options);

}  // namespace aiot::report
