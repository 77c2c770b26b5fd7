#pragma once
// The planner: spec + cohort -> Plan (spec.hpp). Pure: no hub, no clock, no I/O, so the same
// cohort and spec give the same plan, byte for byte, on any machine (rollouts.md §4.1-4.4).
//
// - Cohort: the devices the caller listed with cohort_condition(spec); disabled devices and, with
//   a named baseline, devices reporting another version are left out (counted and warned about).
// - Baseline "auto": the one properties.reported.aiot.ota.version the cohort runs; several -> Error::usage
//   listing the counts.
// - Order: devices sorted by sha256(rollout name + "/" + device id) (hex, then id), so raising a
//   wave's size only adds devices and a re-plan picks the same ones.
// - Waves are cumulative: wave k reaches target_k = min(count, N) or ceil(percent·N/100) devices
//   in total; its new devices are the ones beyond the earlier waves. Stratified (baseline.stratifyBy)
//   the cumulative target is split over strata by largest remainder (ties: stratum key order),
//   never below what a stratum already got, and filled in hash order inside each stratum.
//   A wave with no new device is Error::usage naming the wave.
// - Matched control of wave k: per stratum, as many devices as wave k adds there, the next ones in
//   hash order after waves <= k (so disjoint from every treated device so far); short strata warn.
//   No control with baseline.control: none, or when nothing is left (a 100% last wave).
// - ETA: Σ (bake.min + dispatch) .. Σ (bake.max + dispatch), dispatch = new devices / perMinute;
//   approvals and install time are not included.
// - Power, per wave and gate (stats.hpp helpers, α' = (1 − confidence) / planned_looks):
//   outcome: min_detectable_failure_rate(n, α') vs failureAbove, and n vs minSamples;
//   proportion-vs-baseline: two_proportion_sample_size(p_b, p_b + maxIncrease, α'/2, power) per arm,
//     p_b = the share of the cohort devices reporting the event's metric that have the event now
//     ("unknown" when none reports it; a p_b of 0 is taken as half an event, 0.5 / reporting);
//   distribution-vs-baseline: mann_whitney_sample_size(τ·|median| / sd, α'/2, power) per arm, median
//     and sd of the metric over the cohort now ("unknown" when fewer than 2 devices report it);
//   threshold: n vs minSamples. The two baseline gates judge with two-sided intervals at 1 − α',
//   so their sample sizes use α'/2.
//   An underpowered critical, non-dry-run gate goes to Plan::underpowered (`plan` exits 2 unless
//   --allow-underpowered); every underpowered gate is a warning.
#include <string>
#include <vector>

#include "aiot/hub/hub.hpp"
#include "aiot/rollout/spec.hpp"

namespace aiot::rollout {

struct PlanOptions {
  double power = 0.8;         // wanted probability of detecting the effect a gate is set to catch
  std::size_t excluded = 0;   // devices matching targets AND exclude (the caller counts them; reported only)
};

// The hub query condition of the cohort: (targets) AND NOT (exclude) AND not a controller device.
std::string cohort_condition(const RolloutSpec& spec);
// (targets) AND (exclude), for counting what `exclude` removed; empty when there is no exclude.
std::string excluded_condition(const RolloutSpec& spec);

// The device's place in the rollout's order: sha256 hex of rollout + "/" + device id.
std::string membership_hash(const std::string& rollout, const std::string& device_id);

// Devices that report properties.reported.aiot.ota.version; "" when absent.
std::string reported_version(const hub::Device& device);

// Throws Error::usage for: an artifact from the registry not resolved yet, an empty cohort,
// mixed baseline versions with `version: auto`, a cohort already on the new version, a wave
// with no new device.
Plan make_plan(const RolloutSpec& spec, const std::vector<hub::Device>& cohort, const PlanOptions& options = {});

// Plan::to_json's inverse (`apply --plan plan.json`). Error::usage when a field is missing or the
// digest does not match the content.
Plan plan_from_json(const json& j);

}  // namespace aiot::rollout
