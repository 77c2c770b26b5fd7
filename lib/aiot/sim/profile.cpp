#include "aiot/sim/profile.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>

#include "aiot/core/error.hpp"
#include "aiot/core/time.hpp"

namespace aiot::sim {

namespace {

const char* const k_builtin_yaml = R"yaml(# The built-in profile of the aiot fleet simulator. Copy it, edit it, and pass it with
# `aiot sim fleet --profile FILE`. Weights are relative; durations are 90s/15m/4h/7d or seconds.
fleet:
  sites:            # site: weight
    berlin: 4
    paris: 3
    madrid: 2
    austin: 3
    toronto: 2
    tokyo: 2
  regions:          # site: region (every site needs one)
    berlin: eu-central
    paris: eu-west
    madrid: eu-west
    austin: us-central
    toronto: us-east
    tokyo: ap-northeast
  hw:               # hardware class: weight
    pi4: 5
    pi5: 3
    jetson-nano: 2
  model:            # what every simulated device runs at first
    name: detector
    version: "2.0"

# For versions not listed below, and for the fields a listed version leaves out.
default:
  install:
    failureRate: 0.0                    # probability that an install fails
    delay: {median: 3m, p95: 10m}       # desired change seen -> final report (lognormal)
  health:
    crashRate: 0.02                     # expected crashes per device-hour (Poisson)
    latencyP95Ms: {mean: 85, sd: 9}     # normal, never below 0
    meanConfidence: {mean: 0.9, sd: 0.02}   # normal, clamped to [0, 1]
    inferencesPerHour: 3600             # Poisson mean per hourly report

versions:
  "2.0": {}                             # the starting version: all defaults
  "2.1":                                # fails 15% of installs, everywhere
    install:
      failureRate: 0.15
  "2.2":                                # installs fine, but crashes often on pi5 only
    overrides:
      - when: {hw: pi5}
        health:
          crashRate: 0.5
)yaml";

std::string yaml_path_key(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// Walks the YAML tree, naming the field and its file:line:column in every error.
class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& message) const {
    auto mark = node.Mark();
    std::string where = mark.is_null() ? std::string(source_)
                                       : fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
    throw Error::usage(fmt::format("{}: {}: {}", where, path, message),
                       "See the built-in profile: aiot sim fleet --print-default-profile");
  }

  // Checks that `node` is a map whose keys are all in `allowed` (and none repeats).
  void expect_map(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) const {
    if (!node.IsMap()) fail(node, path, "expected a map of 'key: value'");
    std::set<std::string> seen;
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      bool known = allowed.size() == 0;
      for (const char* a : allowed) {
        known = known || key == a;
      }
      if (!known) {
        std::string names;
        for (const char* a : allowed) {
          names += names.empty() ? a : std::string(", ") + a;
        }
        fail(kv.first, yaml_path_key(path, key), fmt::format("unknown field (expected one of: {})", names));
      }
      if (!seen.insert(key).second) fail(kv.first, yaml_path_key(path, key), "is set twice");
    }
  }

  void expect_unique_keys(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) fail(node, path, "expected a map of 'key: value'");
    std::set<std::string> seen;
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      if (!seen.insert(key).second) fail(kv.first, yaml_path_key(path, key), "is set twice");
    }
  }

  std::string text(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar() || node.Scalar().empty()) fail(node, path, "expected a non-empty text value");
    return node.Scalar();
  }

  double number(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "expected a number");
    double v = 0;
    try {
      v = node.as<double>();
    } catch (const YAML::Exception&) {
      fail(node, path, fmt::format("expected a number, got '{}'", node.Scalar()));
    }
    if (!std::isfinite(v)) fail(node, path, fmt::format("expected a finite number, got '{}'", node.Scalar()));
    return v;
  }

  double non_negative(const YAML::Node& node, const std::string& path) const {
    double v = number(node, path);
    if (v < 0) fail(node, path, fmt::format("must not be negative, got {}", node.Scalar()));
    return v;
  }

  double probability(const YAML::Node& node, const std::string& path) const {
    double v = number(node, path);
    if (v < 0 || v > 1) fail(node, path, fmt::format("must be a probability between 0 and 1, got {}", node.Scalar()));
    return v;
  }

  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "expected a duration such as 90s, 15m, 4h or 7d");
    if (auto d = parse_duration(node.Scalar())) return *d;
    double seconds = 0;
    try {
      seconds = node.as<double>();
    } catch (const YAML::Exception&) {
      fail(node, path, fmt::format("expected a duration such as 90s, 15m, 4h or 7d, got '{}'", node.Scalar()));
    }
    if (!std::isfinite(seconds) || seconds < 0)
      fail(node, path, fmt::format("a duration must not be negative, got '{}'", node.Scalar()));
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
  }

  std::vector<std::pair<std::string, double>> weights(const YAML::Node& node, const std::string& path) const {
    expect_unique_keys(node, path);
    std::vector<std::pair<std::string, double>> out;
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      auto field = yaml_path_key(path, key);
      if (key.empty()) fail(kv.first, field, "a name must not be empty");
      double w = number(kv.second, field);
      if (w <= 0) fail(kv.second, field, fmt::format("a weight must be greater than 0, got {}", kv.second.Scalar()));
      out.emplace_back(key, w);
    }
    if (out.empty()) fail(node, path, "needs at least one entry");
    return out;
  }

  Delay delay(const YAML::Node& node, const std::string& path) const {
    expect_map(node, path, {"min", "max", "median", "p95"});
    bool uniform = node["min"] || node["max"];
    bool lognormal = node["median"] || node["p95"];
    if (uniform && lognormal)
      fail(node, path, "give either {min, max} (uniform) or {median, p95} (lognormal), not both");
    Delay d;
    if (uniform) {
      if (!node["min"] || !node["max"]) fail(node, path, "a uniform delay needs both min and max");
      d.kind = Delay::Kind::uniform;
      d.a = duration(node["min"], path + ".min");
      d.b = duration(node["max"], path + ".max");
      if (d.b < d.a) fail(node["max"], path + ".max", "must not be less than min");
      return d;
    }
    if (!node["median"] || !node["p95"]) fail(node, path, "a delay needs {median, p95} or {min, max}");
    d.kind = Delay::Kind::lognormal;
    d.a = duration(node["median"], path + ".median");
    d.b = duration(node["p95"], path + ".p95");
    if (d.a.count() <= 0) fail(node["median"], path + ".median", "must be greater than 0");
    if (d.b < d.a) fail(node["p95"], path + ".p95", "must not be less than the median");
    return d;
  }

  void normal(const YAML::Node& node, const std::string& path, std::optional<double>& mean,
              std::optional<double>& sd, bool unit_interval) const {
    expect_map(node, path, {"mean", "sd"});
    if (auto m = node["mean"]) {
      mean = unit_interval ? probability(m, path + ".mean") : non_negative(m, path + ".mean");
    }
    if (auto s = node["sd"]) sd = non_negative(s, path + ".sd");
  }

  void install(const YAML::Node& node, const std::string& path, BehaviourPatch& p) const {
    expect_map(node, path, {"failureRate", "delay"});
    if (auto n = node["failureRate"]) p.failure_rate = probability(n, path + ".failureRate");
    if (auto n = node["delay"]) p.delay = delay(n, path + ".delay");
  }

  void health(const YAML::Node& node, const std::string& path, BehaviourPatch& p) const {
    expect_map(node, path, {"crashRate", "latencyP95Ms", "meanConfidence", "inferencesPerHour"});
    if (auto n = node["crashRate"]) p.crash_rate = non_negative(n, path + ".crashRate");
    if (auto n = node["latencyP95Ms"]) normal(n, path + ".latencyP95Ms", p.latency_mean, p.latency_sd, false);
    if (auto n = node["meanConfidence"])
      normal(n, path + ".meanConfidence", p.confidence_mean, p.confidence_sd, true);
    if (auto n = node["inferencesPerHour"]) p.inferences_per_hour = non_negative(n, path + ".inferencesPerHour");
  }

  Override override_entry(const YAML::Node& node, const std::string& path) const {
    expect_map(node, path, {"when", "install", "health"});
    Override o;
    auto when = node["when"];
    if (!when) fail(node, path, "needs 'when: {hw: X}' (or site, region)");
    expect_map(when, path + ".when", {"hw", "site", "region"});
    if (when.size() == 0) fail(when, path + ".when", "needs at least one of hw, site, region");
    if (auto n = when["hw"]) o.hw = text(n, path + ".when.hw");
    if (auto n = when["site"]) o.site = text(n, path + ".when.site");
    if (auto n = when["region"]) o.region = text(n, path + ".when.region");
    if (auto n = node["install"]) install(n, path + ".install", o.patch);
    if (auto n = node["health"]) health(n, path + ".health", o.patch);
    return o;
  }

  VersionProfile version(const YAML::Node& node, const std::string& path) const {
    VersionProfile v;
    if (node.IsNull()) return v;  // `"2.0":` with nothing after it: all defaults
    expect_map(node, path, {"install", "health", "overrides"});
    if (auto n = node["install"]) install(n, path + ".install", v.patch);
    if (auto n = node["health"]) health(n, path + ".health", v.patch);
    if (auto n = node["overrides"]) {
      if (!n.IsSequence()) fail(n, path + ".overrides", "expected a list of {when, install, health}");
      for (std::size_t i = 0; i < n.size(); ++i) {
        v.overrides.push_back(override_entry(n[i], fmt::format("{}.overrides[{}]", path, i)));
      }
    }
    return v;
  }

  void fleet(const YAML::Node& node, Profile& p) const {
    expect_map(node, "fleet", {"sites", "regions", "hw", "model"});
    for (const char* required : {"sites", "regions", "hw", "model"}) {
      if (!node[required]) fail(node, fmt::format("fleet.{}", required), "is required");
    }
    p.sites = weights(node["sites"], "fleet.sites");
    auto regions = node["regions"];
    expect_unique_keys(regions, "fleet.regions");
    for (const auto& kv : regions) {
      auto site = kv.first.as<std::string>();
      p.regions[site] = text(kv.second, "fleet.regions." + site);
    }
    for (const auto& [site, w] : p.sites) {
      if (!p.regions.count(site)) fail(regions, "fleet.regions", fmt::format("has no region for site '{}'", site));
    }
    for (const auto& kv : regions) {
      auto site = kv.first.as<std::string>();
      bool known = false;
      for (const auto& s : p.sites) known = known || s.first == site;
      if (!known) fail(kv.first, "fleet.regions." + site, "is not one of fleet.sites");
    }
    p.hw = weights(node["hw"], "fleet.hw");
    auto model = node["model"];
    expect_map(model, "fleet.model", {"name", "version"});
    if (!model["name"]) fail(model, "fleet.model.name", "is required");
    if (!model["version"]) fail(model, "fleet.model.version", "is required");
    p.model_name = text(model["name"], "fleet.model.name");
    p.start_version = text(model["version"], "fleet.model.version");
  }

 private:
  std::string_view source_;
};

}  // namespace

void BehaviourPatch::apply_to(Behaviour& b) const {
  if (failure_rate) b.failure_rate = *failure_rate;
  if (delay) b.delay = *delay;
  if (crash_rate) b.crash_rate = *crash_rate;
  if (latency_mean) b.latency_p95_ms.mean = *latency_mean;
  if (latency_sd) b.latency_p95_ms.sd = *latency_sd;
  if (confidence_mean) b.mean_confidence.mean = *confidence_mean;
  if (confidence_sd) b.mean_confidence.sd = *confidence_sd;
  if (inferences_per_hour) b.inferences_per_hour = *inferences_per_hour;
}

bool Override::matches(std::string_view hw_, std::string_view site_, std::string_view region_) const {
  return (!hw || *hw == hw_) && (!site || *site == site_) && (!region || *region == region_);
}

Profile Profile::parse(std::string_view yaml, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  Parser parser(source);
  if (!root.IsMap()) {
    throw Error::usage(fmt::format("{}: expected a simulator profile with 'fleet:' and 'versions:'", source),
                       "See the built-in profile: aiot sim fleet --print-default-profile");
  }
  parser.expect_map(root, "", {"fleet", "default", "versions"});
  if (!root["fleet"]) parser.fail(root, "fleet", "is required");
  Profile p;
  parser.fleet(root["fleet"], p);
  if (auto n = root["default"]) p.fallback = parser.version(n, "default");
  if (auto n = root["versions"]) {
    parser.expect_unique_keys(n, "versions");
    for (const auto& kv : n) {
      auto name = kv.first.as<std::string>();
      if (name.empty()) parser.fail(kv.first, "versions", "a version must not be empty");
      p.versions[name] = parser.version(kv.second, fmt::format("versions.\"{}\"", name));
    }
  }
  return p;
}

std::string_view Profile::builtin_yaml() { return k_builtin_yaml; }

Profile Profile::builtin() {
  static const Profile p = parse(k_builtin_yaml, "<built-in profile>");
  return p;
}

Behaviour Profile::resolve(std::string_view version, std::string_view hw_, std::string_view site,
                           std::string_view region) const {
  Behaviour b;
  fallback.patch.apply_to(b);
  auto it = versions.find(std::string(version));
  if (it != versions.end()) it->second.patch.apply_to(b);
  for (const auto& o : fallback.overrides) {
    if (o.matches(hw_, site, region)) o.patch.apply_to(b);
  }
  if (it != versions.end()) {
    for (const auto& o : it->second.overrides) {
      if (o.matches(hw_, site, region)) o.patch.apply_to(b);
    }
  }
  return b;
}

}  // namespace aiot::sim
