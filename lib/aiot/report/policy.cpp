#include "aiot/report/policy.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>

#include "aiot/core/error.hpp"

namespace aiot::report {

namespace {

// Walks the YAML tree naming file:line:column and the key path in every error.
class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& what) const {
    auto mark = node.Mark();
    std::string where = mark.is_null() ? source_ : fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
    throw Error::usage(fmt::format("{}: {}: {}", where, path, what), "See examples/policy.yaml for every key.");
  }

  void expect_map(const YAML::Node& node, const std::string& path, std::initializer_list<std::string_view> keys) const {
    if (!node.IsMap()) fail(node, path, "expected a mapping");
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.as<std::string>();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string known;
        for (auto k : keys) known += (known.empty() ? "" : ", ") + std::string(k);
        fail(it->first, path.empty() ? key : path + "." + key, fmt::format("unknown key (known: {})", known));
      }
    }
  }

  double number(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "expected a number");
    std::string s = node.Scalar();
    bool percent = !s.empty() && s.back() == '%';
    if (percent) s.pop_back();
    try {
      std::size_t used = 0;
      double v = std::stod(s, &used);
      if (used != s.size()) fail(node, path, fmt::format("'{}' is not a number", node.Scalar()));
      return percent ? v / 100.0 : v;
    } catch (const std::logic_error&) {
      fail(node, path, fmt::format("'{}' is not a number", node.Scalar()));
    }
  }

  double fraction(const YAML::Node& node, const std::string& path) const {
    double v = number(node, path);
    if (v < 0 || v > 1) fail(node, path, "expected a fraction in [0, 1] (or a percentage)");
    return v;
  }

  std::string text(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "expected a string");
    return node.Scalar();
  }

  bool boolean(const YAML::Node& node, const std::string& path) const {
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      fail(node, path, "expected true or false");
    }
  }

  std::vector<std::string> texts(const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence()) fail(node, path, "expected a list");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) out.push_back(text(node[i], fmt::format("{}[{}]", path, i)));
    return out;
  }

  nlohmann::json to_json(const YAML::Node& node) const {
    if (node.IsMap()) {
      auto o = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it) o[it->first.as<std::string>()] = to_json(it->second);
      return o;
    }
    if (node.IsSequence()) {
      auto a = nlohmann::json::array();
      for (const auto& n : node) a.push_back(to_json(n));
      return a;
    }
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      if (node.Tag() != "!") {  // plain scalars may be numbers or booleans; quoted ones stay text
        try {
          std::size_t used = 0;
          double v = std::stod(s, &used);
          if (used == s.size()) return v;
        } catch (const std::logic_error&) {
        }
        if (s == "true") return true;
        if (s == "false") return false;
      }
      return s;
    }
    return nullptr;
  }

  Policy parse(const YAML::Node& root) const {
    Policy p;
    p.source = source_;
    p.rules = Policy::default_rules();
    if (!root || root.IsNull()) return p;
    expect_map(root, "", {"apiVersion", "kind", "models", "adoption", "dataHealth", "performance", "drift", "bias",
                          "cost", "carbon", "security", "useCases", "rules"});
    if (auto n = root["kind"]; n && text(n, "kind") != "GovernancePolicy") fail(n, "kind", "expected GovernancePolicy");
    if (auto models = root["models"]) {
      if (!models.IsMap()) fail(models, "models", "expected a mapping of model name to {approved, modelCards, favourable}");
      for (auto it = models.begin(); it != models.end(); ++it) {
        std::string name = it->first.as<std::string>();
        std::string path = "models." + name;
        YAML::Node m = it->second;  // a copy: it->second is a temporary of the iterator proxy
        expect_map(m, path, {"approved", "modelCards", "favourable"});
        ModelPolicy mp;
        if (auto n = m["approved"]) mp.approved = text(n, path + ".approved");
        if (auto n = m["modelCards"]) mp.model_cards = texts(n, path + ".modelCards");
        if (auto n = m["favourable"]) mp.favourable = text(n, path + ".favourable");
        p.models[name] = mp;
      }
    }
    if (auto a = root["adoption"]) {
      expect_map(a, "adoption", {"warn", "error", "maxDaysToAdopt"});
      if (auto n = a["warn"]) p.adoption_warn = fraction(n, "adoption.warn");
      if (auto n = a["error"]) p.adoption_error = fraction(n, "adoption.error");
      if (auto n = a["maxDaysToAdopt"]) p.max_days_to_adopt = number(n, "adoption.maxDaysToAdopt");
    }
    if (auto d = root["dataHealth"]) {
      expect_map(d, "dataHealth", {"freshnessWarn", "freshnessError"});
      if (auto n = d["freshnessWarn"]) p.freshness_warn = fraction(n, "dataHealth.freshnessWarn");
      if (auto n = d["freshnessError"]) p.freshness_error = fraction(n, "dataHealth.freshnessError");
    }
    if (auto d = root["performance"]) {
      expect_map(d, "performance", {"metric", "maxRelativeDrop", "reference"});
      if (auto n = d["metric"]) {
        p.performance_metric = text(n, "performance.metric");
        static const std::vector<std::string> k_metrics{"accuracy", "precision", "recall", "f1"};
        if (std::find(k_metrics.begin(), k_metrics.end(), p.performance_metric) == k_metrics.end())
          fail(n, "performance.metric", "expected accuracy, precision, recall or f1");
      }
      if (auto n = d["maxRelativeDrop"]) p.max_relative_drop = fraction(n, "performance.maxRelativeDrop");
      if (auto n = d["reference"]) p.performance_reference = fraction(n, "performance.reference");
    }
    if (auto d = root["drift"]) {
      expect_map(d, "drift", {"reference", "psiWarn", "psiError", "jsWarn", "jsError", "ksAlpha", "minCount", "fields"});
      if (auto n = d["reference"]) p.drift_reference = text(n, "drift.reference");
      if (auto n = d["psiWarn"]) p.psi_warn = number(n, "drift.psiWarn");
      if (auto n = d["psiError"]) p.psi_error = number(n, "drift.psiError");
      if (auto n = d["jsWarn"]) p.js_warn = fraction(n, "drift.jsWarn");
      if (auto n = d["jsError"]) p.js_error = fraction(n, "drift.jsError");
      if (auto n = d["ksAlpha"]) p.ks_alpha = fraction(n, "drift.ksAlpha");
      if (auto n = d["minCount"]) p.drift_min_count = static_cast<std::uint64_t>(number(n, "drift.minCount"));
      if (auto n = d["fields"]) p.drift_fields = texts(n, "drift.fields");
    }
    if (auto b = root["bias"]) {
      expect_map(b, "bias", {"segments", "minGroup", "disparateImpact", "parityDifference", "equalizedOdds", "bootstrap", "seed"});
      if (auto n = b["segments"]) p.bias_segments = texts(n, "bias.segments");
      if (auto n = b["minGroup"]) p.bias_min_group = static_cast<std::uint64_t>(number(n, "bias.minGroup"));
      if (auto n = b["disparateImpact"]) p.disparate_impact = fraction(n, "bias.disparateImpact");
      if (auto n = b["parityDifference"]) p.parity_difference = fraction(n, "bias.parityDifference");
      if (auto n = b["equalizedOdds"]) p.equalized_odds = fraction(n, "bias.equalizedOdds");
      if (auto n = b["bootstrap"]) p.bootstrap = static_cast<int>(number(n, "bias.bootstrap"));
      if (auto n = b["seed"]) p.bootstrap_seed = static_cast<std::uint64_t>(number(n, "bias.seed"));
    }
    if (auto c = root["cost"]) {
      expect_map(c, "cost", {"currency", "messagingPerMillionUnits", "unitBytes", "bytesPerMessage", "computePerDeviceHour",
                             "storagePerGbMonth", "budgetPerSite", "budgets", "maxPer1000Inferences"});
      if (auto n = c["currency"]) p.currency = text(n, "cost.currency");
      if (auto n = c["messagingPerMillionUnits"]) p.messaging_per_million_units = number(n, "cost.messagingPerMillionUnits");
      if (auto n = c["unitBytes"]) p.unit_bytes = number(n, "cost.unitBytes");
      if (auto n = c["bytesPerMessage"]) p.bytes_per_message = number(n, "cost.bytesPerMessage");
      if (auto n = c["computePerDeviceHour"]) p.compute_per_device_hour = number(n, "cost.computePerDeviceHour");
      if (auto n = c["storagePerGbMonth"]) p.storage_per_gb_month = number(n, "cost.storagePerGbMonth");
      if (auto n = c["budgetPerSite"]) p.budget_per_site = number(n, "cost.budgetPerSite");
      if (auto n = c["budgets"]) {
        if (!n.IsMap()) fail(n, "cost.budgets", "expected a mapping of site to amount per period");
        for (auto it = n.begin(); it != n.end(); ++it)
          p.site_budgets[it->first.as<std::string>()] = number(it->second, "cost.budgets." + it->first.as<std::string>());
      }
      if (auto n = c["maxPer1000Inferences"]) p.max_per_1000_inferences = number(n, "cost.maxPer1000Inferences");
      if (p.unit_bytes <= 0) fail(c["unitBytes"], "cost.unitBytes", "must be > 0");
    }
    if (auto c = root["carbon"]) {
      expect_map(c, "carbon", {"devicePowerW", "joulesPerInference", "pue", "regions", "maxKgPerDeployment"});
      if (auto n = c["devicePowerW"]) {
        if (n.IsScalar()) {
          p.device_power_w["default"] = number(n, "carbon.devicePowerW");
        } else {
          if (!n.IsMap()) fail(n, "carbon.devicePowerW", "expected watts, or a mapping of hw class to watts");
          for (auto it = n.begin(); it != n.end(); ++it)
            p.device_power_w[it->first.as<std::string>()] = number(it->second, "carbon.devicePowerW." + it->first.as<std::string>());
        }
      }
      if (auto n = c["joulesPerInference"]) p.joules_per_inference = number(n, "carbon.joulesPerInference");
      if (auto n = c["pue"]) {
        p.pue = number(n, "carbon.pue");
        if (p.pue < 1) fail(n, "carbon.pue", "PUE is at least 1.0");
      }
      if (auto n = c["maxKgPerDeployment"]) p.max_kg_per_deployment = number(n, "carbon.maxKgPerDeployment");
      if (auto regions = c["regions"]) {
        if (!regions.IsMap()) fail(regions, "carbon.regions", "expected a mapping of region to ISO3 country or {intensity, source, year}");
        for (auto it = regions.begin(); it != regions.end(); ++it) {
          std::string region = it->first.as<std::string>();
          std::string path = "carbon.regions." + region;
          GridEntry g;
          if (it->second.IsScalar()) {
            g.country = text(it->second, path);
          } else {
            expect_map(it->second, path, {"country", "intensity", "source", "year"});
            if (auto v = it->second["country"]) g.country = text(v, path + ".country");
            if (auto v = it->second["intensity"]) g.intensity_g_per_kwh = number(v, path + ".intensity");
            if (auto v = it->second["source"]) g.source = text(v, path + ".source");
            if (auto v = it->second["year"]) g.year = text(v, path + ".year");
            if (g.country.empty() && !g.intensity_g_per_kwh) fail(it->second, path, "give a country or an intensity");
          }
          p.grid[region] = g;
        }
      }
    }
    if (auto s = root["security"]) {
      expect_map(s, "security", {"certExpiryDays", "requireX509"});
      if (auto n = s["certExpiryDays"]) p.cert_expiry_days = number(n, "security.certExpiryDays");
      if (auto n = s["requireX509"]) p.require_x509 = boolean(n, "security.requireX509");
    }
    if (auto u = root["useCases"]) {
      if (!u.IsSequence()) fail(u, "useCases", "expected a list");
      for (std::size_t i = 0; i < u.size(); ++i) {
        std::string path = fmt::format("useCases[{}]", i);
        const YAML::Node& n = u[i];
        expect_map(n, path, {"name", "kpi", "field", "aggregate", "unit", "baseline", "target", "successCriteria",
                             "riskThresholds", "exitConditions"});
        UseCase c;
        if (!n["name"]) fail(n, path, "name is required");
        c.name = text(n["name"], path + ".name");
        if (auto v = n["kpi"]) c.kpi = text(v, path + ".kpi");
        if (auto v = n["field"]) c.field = text(v, path + ".field");
        if (auto v = n["aggregate"]) {
          c.aggregate = text(v, path + ".aggregate");
          if (c.aggregate != "mean" && c.aggregate != "median" && c.aggregate != "p95" && c.aggregate != "sum")
            fail(v, path + ".aggregate", "expected mean, median, p95 or sum");
        }
        if (auto v = n["unit"]) c.unit = text(v, path + ".unit");
        if (auto v = n["baseline"]) c.baseline = number(v, path + ".baseline");
        if (auto v = n["target"]) c.target = text(v, path + ".target");
        if (auto v = n["successCriteria"]) c.success_criteria = text(v, path + ".successCriteria");
        if (auto v = n["riskThresholds"]) c.risk_thresholds = text(v, path + ".riskThresholds");
        if (auto v = n["exitConditions"]) c.exit_conditions = text(v, path + ".exitConditions");
        p.use_cases.push_back(c);
      }
    }
    if (auto r = root["rules"]) {
      if (!r.IsSequence()) fail(r, "rules", "expected a list");
      p.rules.clear();
      static const std::vector<std::string> k_known{"canary-before-full",     "model-card-required", "drift-error-blocks-promotion",
                                                    "approved-version-adoption", "journal-verified", "bias-four-fifths",
                                                    "cost-within-budget",     "data-freshness",      "performance-no-decay",
                                                    "x509-required",          "no-shared-credentials", "carbon-within-budget"};
      for (std::size_t i = 0; i < r.size(); ++i) {
        std::string path = fmt::format("rules[{}]", i);
        const YAML::Node& n = r[i];
        if (!n.IsMap() || !n["id"]) fail(n, path, "each rule is a mapping with an id");
        Rule rule;
        rule.id = text(n["id"], path + ".id");
        if (std::find(k_known.begin(), k_known.end(), rule.id) == k_known.end())
          fail(n["id"], path + ".id", fmt::format("unknown rule '{}' (known: {})", rule.id, fmt::join(k_known, ", ")));
        for (auto it = n.begin(); it != n.end(); ++it) {
          std::string key = it->first.as<std::string>();
          if (key == "id") continue;
          if (key == "severity") {
            rule.severity = text(it->second, path + ".severity");
            if (rule.severity != "error" && rule.severity != "warn") fail(it->second, path + ".severity", "expected error or warn");
          } else if (key == "minHours") {
            rule.params[key] = number(it->second, path + "." + key);
          } else {
            fail(it->first, path + "." + key, "unknown key (known: id, severity, minHours)");
          }
        }
        p.rules.push_back(rule);
      }
    }
    return p;
  }

 private:
  std::string source_;
};

}  // namespace

std::vector<Rule> Policy::default_rules() {
  return {
      {"journal-verified", "error", nlohmann::json::object()},
      {"canary-before-full", "error", {{"minHours", 24}}},
      {"model-card-required", "warn", nlohmann::json::object()},
      {"drift-error-blocks-promotion", "error", nlohmann::json::object()},
      {"approved-version-adoption", "warn", nlohmann::json::object()},
      {"bias-four-fifths", "error", nlohmann::json::object()},
      {"performance-no-decay", "warn", nlohmann::json::object()},
      {"data-freshness", "warn", nlohmann::json::object()},
      {"cost-within-budget", "warn", nlohmann::json::object()},
      {"carbon-within-budget", "warn", nlohmann::json::object()},
      {"no-shared-credentials", "error", nlohmann::json::object()},
  };
}

Policy Policy::parse(std::string_view yaml, std::string_view source) {
  Parser parser(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  return parser.parse(root);
}

nlohmann::json Policy::to_json() const {
  using nlohmann::json;
  json models_j = json::object();
  for (const auto& [name, m] : models)
    models_j[name] = {{"approved", m.approved}, {"modelCards", m.model_cards}, {"favourable", m.favourable}};
  json rules_j = json::array();
  for (const auto& r : rules) rules_j.push_back({{"id", r.id}, {"severity", r.severity}, {"params", r.params}});
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json grid_j = json::object();
  for (const auto& [region, g] : grid)
    grid_j[region] = {{"country", g.country}, {"intensity", opt(g.intensity_g_per_kwh)}, {"source", g.source}, {"year", g.year}};
  return {
      {"source", source},
      {"models", models_j},
      {"adoption", {{"warn", adoption_warn}, {"error", adoption_error}, {"maxDaysToAdopt", max_days_to_adopt}}},
      {"dataHealth", {{"freshnessWarn", freshness_warn}, {"freshnessError", freshness_error}}},
      {"performance", {{"metric", performance_metric}, {"maxRelativeDrop", max_relative_drop}, {"reference", opt(performance_reference)}}},
      {"drift", {{"reference", drift_reference}, {"psiWarn", psi_warn}, {"psiError", psi_error}, {"jsWarn", js_warn},
                 {"jsError", js_error}, {"ksAlpha", ks_alpha}, {"minCount", drift_min_count}, {"fields", drift_fields}}},
      {"bias", {{"segments", bias_segments}, {"minGroup", bias_min_group}, {"disparateImpact", disparate_impact},
                {"parityDifference", parity_difference}, {"equalizedOdds", equalized_odds}, {"bootstrap", bootstrap},
                {"seed", bootstrap_seed}}},
      {"cost", {{"currency", currency}, {"messagingPerMillionUnits", opt(messaging_per_million_units)}, {"unitBytes", unit_bytes},
                {"bytesPerMessage", bytes_per_message}, {"computePerDeviceHour", opt(compute_per_device_hour)},
                {"storagePerGbMonth", opt(storage_per_gb_month)}, {"budgetPerSite", opt(budget_per_site)},
                {"budgets", site_budgets}, {"maxPer1000Inferences", opt(max_per_1000_inferences)}}},
      {"carbon", {{"devicePowerW", device_power_w}, {"joulesPerInference", joules_per_inference}, {"pue", pue},
                  {"regions", grid_j}, {"maxKgPerDeployment", opt(max_kg_per_deployment)}}},
      {"security", {{"certExpiryDays", cert_expiry_days}, {"requireX509", require_x509}}},
      {"rules", rules_j},
  };
}

}  // namespace aiot::report
