#pragma once
// The fleet simulator's profile: what the simulated fleet looks like (sites, regions, hardware,
// starting model) and how each model version behaves (install failures and delays, health after
// the update), optionally per hardware class, site or region, so a version can be bad on one
// stratum only. Parsed from YAML; `aiot sim fleet --print-default-profile` shows the built-in one.
//
//   fleet:
//     sites: {berlin: 4, paris: 3}          # weights (> 0), drawn per device
//     regions: {berlin: eu-central, paris: eu-west}   # a region for every site
//     hw: {pi4: 5, pi5: 3}                  # weights (> 0)
//     model: {name: detector, version: "2.0"}         # what every device runs at first
//   default:                                # for versions not listed; fields a version leaves out
//     install:
//       failureRate: 0.0                    # probability in [0, 1]
//       delay: {median: 3m, p95: 10m}       # lognormal, or {min: 1m, max: 5m} uniform;
//                                           # durations as 90s/15m/4h/7d or plain seconds
//     health:
//       crashRate: 0.02                     # expected crashes per device-hour (Poisson)
//       latencyP95Ms: {mean: 85, sd: 9}     # normal, never below 0
//       meanConfidence: {mean: 0.9, sd: 0.02}   # normal, clamped to [0, 1]
//       inferencesPerHour: 3600             # Poisson mean
//     overrides: []                         # as below, for every version
//   versions:
//     "2.1": {install: {failureRate: 0.15}}
//     "2.2":
//       overrides:                          # applied in order; `when` keys must all match
//         - when: {hw: pi5}                 # hw, site and/or region
//           health: {crashRate: 0.5}
//
// Layering, lowest first: built-in values < `default` < the version's entry < `default`'s
// overrides < the version's overrides. Unknown keys are errors (a typo must not be ignored).
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aiot::sim {

struct Delay {
  enum class Kind { uniform, lognormal };
  Kind kind = Kind::lognormal;
  std::chrono::milliseconds a{};  // uniform: min; lognormal: median
  std::chrono::milliseconds b{};  // uniform: max; lognormal: p95
  bool operator==(const Delay&) const = default;
};

struct Normal {
  double mean = 0;
  double sd = 0;
  bool operator==(const Normal&) const = default;
};

// Fully resolved behaviour of one version on one device.
struct Behaviour {
  double failure_rate = 0.0;
  Delay delay{Delay::Kind::lognormal, std::chrono::minutes(3), std::chrono::minutes(10)};
  double crash_rate = 0.02;
  Normal latency_p95_ms{85, 9};
  Normal mean_confidence{0.9, 0.02};
  double inferences_per_hour = 3600;
  bool operator==(const Behaviour&) const = default;
};

// The fields one layer sets; unset fields come from the layers below.
struct BehaviourPatch {
  std::optional<double> failure_rate;
  std::optional<Delay> delay;
  std::optional<double> crash_rate;
  std::optional<double> latency_mean, latency_sd;
  std::optional<double> confidence_mean, confidence_sd;
  std::optional<double> inferences_per_hour;
  void apply_to(Behaviour& b) const;
  bool operator==(const BehaviourPatch&) const = default;
};

struct Override {
  std::optional<std::string> hw, site, region;  // all given ones must match
  BehaviourPatch patch;
  bool matches(std::string_view hw, std::string_view site, std::string_view region) const;
  bool operator==(const Override&) const = default;
};

struct VersionProfile {
  BehaviourPatch patch;
  std::vector<Override> overrides;
  bool operator==(const VersionProfile&) const = default;
};

struct Profile {
  std::vector<std::pair<std::string, double>> sites;  // in file order: draws depend on it
  std::map<std::string, std::string> regions;
  std::vector<std::pair<std::string, double>> hw;
  std::string model_name;
  std::string start_version;
  VersionProfile fallback;  // `default:`
  std::map<std::string, VersionProfile> versions;

  // Throws Error::usage "SOURCE:LINE:COL: field.path: what is wrong" (exit 2).
  static Profile parse(std::string_view yaml, std::string_view source);
  // The built-in profile's YAML, with comments: a good "2.0" (the start), a "2.1" that fails 15% of
  // installs, and a "2.2" that crashes often on hw "pi5" only.
  static std::string_view builtin_yaml();
  static Profile builtin();

  Behaviour resolve(std::string_view version, std::string_view hw, std::string_view site,
                    std::string_view region) const;
  // The region of a site (parse guarantees every site has one).
  const std::string& region_of(const std::string& site) const { return regions.at(site); }

  bool operator==(const Profile&) const = default;
};

}  // namespace aiot::sim
