#pragma once
// The rollout spec (rollout.yaml) as parsed and validated, and the plan made from it.
// ../shared/reference/rollouts.md §4.2 is the design; what aiot implements is documented in
// docs/rollouts.md. Every field keeps the line it came from so errors can say file:line.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::rollout {

using json = nlohmann::json;
using std::chrono::milliseconds;

struct Artifact {
  std::string kind = "model";  // model | firmware
  std::string name;
  std::string version;
  std::string uri;
  std::string sha256;     // 64 lower-case hex digits
  std::string signature;  // base64 detached signature, optional
  // `artifact: {model: NAME, version: V}` (or `{firmware: NAME, ...}`): resolved from the artifact
  // registry (lib/aiot/artifact/rollout_link.hpp) by plan and apply, which fill uri, sha256,
  // signature and registry_fields. make_plan and to_desired refuse it until it is resolved.
  std::string registry_model;
  bool require_signature = false;  // registry form `requireSignature: true`: refuse an unsigned artifact
  std::string signed_by;           // registry form `signedBy: sha256:<hex>`: the signer's key id must be this
  json registry_fields = json::object();  // set on resolution: kind, size, metadataSha256, signatureAlgorithm, keyId
  bool from_registry() const { return !registry_model.empty(); }
  bool resolved() const { return !from_registry() || !sha256.empty(); }
  // The value written to properties.desired.aiot.model (Azure/local) or the AWS job document:
  // {name, version, uri, sha256} plus signature when set, plus registry_fields.
  // Error::usage for a registry artifact that was not resolved.
  json to_desired() const;
};

struct WaveSpec {
  std::string name;
  enum class Size { count, percent } size_kind = Size::percent;
  double size = 100;  // devices (count) or percent of the cohort, cumulative
  milliseconds bake_min{0};
  milliseconds bake_max{0};  // 0 = no limit: evaluate until a verdict
  bool approval_before = false;
  std::size_t line = 0;
};

enum class GateType { outcome, threshold, proportion_vs_baseline, distribution_vs_baseline };

struct GateSpec {
  std::string name;
  GateType type = GateType::outcome;
  bool critical = true;
  bool dry_run = false;
  // The type's parameters, validated and normalised, every default filled in (docs/rollouts.md):
  // fractions as numbers ("95%" -> 0.95, "0.5pp" -> 0.005), metric paths as twin paths
  // ("properties.reported.aiot.health.latency_p95_ms"), the proportion gate's `event` as
  // "<twin path> <op> <number>" with op one of >=, >, <=, <, ==, != (gates.hpp parse_condition),
  // conditions as "<op> <number>". Keys are the spec's (successAtLeast, minSamples, ...).
  json params = json::object();
  std::size_t line = 0;
};

enum class FailureAction { rollback, pause, abort_keep };
enum class InconclusiveAction { pause, fail, promote };

struct RolloutSpec {
  std::string source;  // file name, for messages
  std::string name;
  json labels = json::object();
  Artifact artifact;
  std::string target_query;   // hub query condition; empty = whole fleet
  std::string exclude_query;  // devices matching it are never chosen
  struct Baseline {
    std::string version = "auto";  // "auto": the single version the cohort reports running now
    bool matched_control = true;   // a control group per wave that stays on the baseline
    std::vector<std::string> stratify_by;  // tag names, e.g. hw, region
  } baseline;
  std::vector<WaveSpec> waves;
  struct Rate {
    std::size_t max_in_flight = 0;  // 0 = no limit
    double per_minute = 0;          // 0 = no limit
  } rate;
  milliseconds install_timeout{std::chrono::minutes(45)};
  std::vector<GateSpec> gates;
  struct Analysis {
    milliseconds interval{std::chrono::minutes(15)};
    milliseconds warmup{std::chrono::minutes(30)};
    bool bonferroni = true;
    InconclusiveAction on_inconclusive = InconclusiveAction::pause;
  } analysis;
  struct OnFailure {
    FailureAction action = FailureAction::rollback;
    bool scope_all = true;  // all: every device that got the new version; wave: only the failing wave's devices
  } on_failure;
  bool approval_start = false;
  std::string digest;  // sha256 of the canonical JSON of the spec (what apply compares)
  json to_json() const;
};

// Parses and validates; throws aiot::Error::usage "rollout.yaml:12: waves[1].size: ..." naming the field and line.
RolloutSpec parse_spec(const std::string& yaml_text, const std::string& source);

// Planned looks L of a wave, for the Bonferroni split α' = α / L: 1 with `looks: none`, else
// floor(span / interval), at least 1, with span = bake.max, or max(bake.min, interval) when
// bake.max is unlimited. The plan's power check and the controller's gates must use the same L.
std::int64_t planned_looks(const RolloutSpec& spec, const WaveSpec& wave);

std::string_view to_string(GateType type);  // "outcome", "threshold", "proportion-vs-baseline", ...

// The plan (lib/aiot/rollout/planner.hpp makes it; docs/rollouts.md describes its JSON).
struct WavePlan {
  std::string name;
  std::size_t cumulative = 0;        // devices treated once this wave is dispatched (all waves so far)
  std::vector<std::string> devices;  // canary devices of this wave (new in this wave), hash order
  std::vector<std::string> control;  // matched control devices that stay on the baseline, hash order
  json strata = json::object();          // stratum key -> new devices, e.g. {"hw=pi5,region=eu": 12}
  json control_strata = json::object();  // stratum key -> control devices
  std::int64_t looks = 1;            // planned looks (Bonferroni divisor)
  json power = json::object();       // per gate: what this wave can detect, and whether it is underpowered
};

struct Plan {
  std::string rollout;
  std::string spec_digest;
  std::string artifact_version;
  std::string baseline_version;
  json baseline_model;           // the desired aiot.model most baseline devices hold (what a rollback
                                 // writes back); null when none holds one with the baseline version
  std::size_t cohort_size = 0;   // devices in the plan's cohort (after every exclusion below)
  std::size_t excluded = 0;      // matched targets but also `exclude` (counted by the caller)
  std::size_t off_baseline = 0;  // left out: reporting another version than a named baseline
  std::size_t disabled = 0;      // left out: disabled in the registry (they could never report)
  json strata = json::object();  // stratum key -> devices in the cohort
  std::vector<WavePlan> waves;
  milliseconds eta_min{0};  // sum of bake minimums + dispatch time at the rate limit
  milliseconds eta_max{0};  // sum of bake maximums + dispatch time; meaningless when eta_max_unbounded
  bool eta_max_unbounded = false;  // some wave has no bake.max
  std::vector<std::string> warnings;     // everything worth a look, underpowered gates included
  std::vector<std::string> underpowered;  // the subset about critical, non-dry-run gates: `plan` exits 2
  std::string digest;  // sha256 hex over the canonical plan JSON (without the digest itself)
  json to_json() const;
};

}  // namespace aiot::rollout
