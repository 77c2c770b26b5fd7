// Bias audit per model version and segment (lineage-governance.md §4; docs/report-metrics.md §2).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/report/metrics.hpp"

namespace aiot::report {
namespace {

constexpr const char* k_rule_most_favoured = "most favoured (highest selection rate)";
constexpr const char* k_rule_named = "named in policy";

std::string too_small(std::int64_t n, std::int64_t min) {
  return fmt::format("insufficient data: n = {} < {}", n, min);
}

GroupBias summarise(std::string name, std::span<const Decision* const> decisions, const BiasOptions& o) {
  GroupBias g;
  g.group = std::move(name);
  for (const Decision* d : decisions) {
    ++g.n;
    g.selected += d->predicted ? 1 : 0;
    if (d->actual) {
      ++g.labelled;
      if (*d->actual) {
        ++g.positives;
        g.true_positives += d->predicted ? 1 : 0;
      } else {
        ++g.negatives;
        g.false_positives += d->predicted ? 1 : 0;
      }
    }
  }
  g.sufficient = g.n >= o.min_group_size && g.n > 0;
  if (!g.sufficient) {
    const std::string why = too_small(g.n, o.min_group_size);
    g.selection_rate = g.tpr = g.fpr = g.disparate_impact = g.parity_difference = Stat::none(why);
    return g;
  }
  g.selection_rate = Stat::of(static_cast<double>(g.selected) / static_cast<double>(g.n),
                              wilson(g.selected, g.n, o.z));
  if (g.labelled == 0) {
    g.tpr = g.fpr = Stat::none("no labels");
  } else {
    g.tpr = g.positives >= std::max<std::int64_t>(o.min_label_count, 1)
                ? Stat::of(static_cast<double>(g.true_positives) / static_cast<double>(g.positives),
                           wilson(g.true_positives, g.positives, o.z))
                : Stat::none(fmt::format("insufficient data: {} labelled positives < {}", g.positives,
                                         std::max<std::int64_t>(o.min_label_count, 1)));
    g.fpr = g.negatives >= std::max<std::int64_t>(o.min_label_count, 1)
                ? Stat::of(static_cast<double>(g.false_positives) / static_cast<double>(g.negatives),
                           wilson(g.false_positives, g.negatives, o.z))
                : Stat::none(fmt::format("insufficient data: {} labelled negatives < {}", g.negatives,
                                         std::max<std::int64_t>(o.min_label_count, 1)));
  }
  return g;
}

struct Spread {
  double min = 0.0;
  double max = 0.0;
  int count = 0;
};

void widen(Spread& s, double v) {
  if (s.count == 0) {
    s.min = s.max = v;
  } else {
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  ++s.count;
}

// Statistics over bootstrap counts. Selection: {not selected, selected}. Odds: categories
// ŷ + 2y = {TN, FP, FN, TP} over labelled decisions.
std::optional<double> parity_difference_of(const GroupCounts& groups) {
  Spread s;
  for (const auto& g : groups) {
    const std::int64_t n = g[0] + g[1];
    if (n == 0) {
      return std::nullopt;
    }
    widen(s, static_cast<double>(g[1]) / static_cast<double>(n));
  }
  if (s.count < 2) {
    return std::nullopt;
  }
  return s.max - s.min;
}

std::optional<double> equalized_odds_of(const GroupCounts& groups) {
  Spread tpr;
  Spread fpr;
  for (const auto& g : groups) {
    const std::int64_t negatives = g[0] + g[1];
    const std::int64_t positives = g[2] + g[3];
    if (positives == 0 || negatives == 0) {
      return std::nullopt;  // a resample without positives or negatives has no TPR/FPR
    }
    widen(tpr, static_cast<double>(g[3]) / static_cast<double>(positives));
    widen(fpr, static_cast<double>(g[1]) / static_cast<double>(negatives));
  }
  if (tpr.count < 2) {
    return std::nullopt;
  }
  return std::max(tpr.max - tpr.min, fpr.max - fpr.min);
}

}  // namespace

BiasAudit audit_bias(std::string model_version, std::string dimension,
                     std::span<const Decision> decisions, const BiasOptions& options) {
  BiasAudit audit;
  audit.model_version = std::move(model_version);
  audit.dimension = std::move(dimension);
  audit.bootstrap_resamples = options.bootstrap.resamples;
  audit.bootstrap_seed = options.bootstrap.seed;

  std::map<std::string, std::vector<const Decision*>> by_group;  // sorted by group name
  std::vector<const Decision*> all;
  all.reserve(decisions.size());
  for (const auto& d : decisions) {
    by_group[d.group].push_back(&d);
    all.push_back(&d);
    audit.labelled = audit.labelled || d.actual.has_value();
  }
  audit.overall = summarise("(overall)", all, options);
  for (const auto& [name, members] : by_group) {
    audit.groups.push_back(summarise(name, members, options));
    audit.insufficient_groups += audit.groups.back().sufficient ? 0 : 1;
  }

  // Reference group: named, or the sufficient group with the highest selection rate (ties: first by name).
  const GroupBias* reference = nullptr;
  if (!options.reference_group.empty()) {
    for (const auto& g : audit.groups) {
      if (g.group == options.reference_group) {
        reference = &g;
      }
    }
    if (reference != nullptr && reference->sufficient) {
      audit.reference_rule = k_rule_named;
    } else {
      // A named group absent from this version's data, or too small, must not fail the report:
      // fall back to the most favoured group and say so.
      audit.reference_rule = fmt::format("most favoured (highest selection rate); named group '{}' {}",
                                         options.reference_group,
                                         reference == nullptr ? "has no decisions" : "is below the minimum size");
      reference = nullptr;
    }
  }
  if (reference == nullptr) {
    if (audit.reference_rule.empty()) {
      audit.reference_rule = k_rule_most_favoured;
    }
    for (const auto& g : audit.groups) {
      if (g.sufficient && (reference == nullptr || *g.selection_rate.value > *reference->selection_rate.value)) {
        reference = &g;
      }
    }
  }

  Spread selection;
  Spread tpr;
  Spread fpr;
  GroupCounts selection_groups;
  GroupCounts odds_groups;
  if (reference != nullptr) {
    audit.reference_group = reference->group;
  }
  for (auto& g : audit.groups) {
    if (!g.sufficient) {
      continue;
    }
    widen(selection, *g.selection_rate.value);
    if (reference != nullptr) {
      const double ref_rate = *reference->selection_rate.value;
      if (&g == reference) {
        g.disparate_impact = ref_rate > 0.0 ? Stat::of(1.0) : Stat::none("reference selection rate is 0");
        g.parity_difference = Stat::of(0.0);
      } else {
        g.disparate_impact =
            ref_rate > 0.0 ? Stat::of(*g.selection_rate.value / ref_rate)
                           : Stat::none(fmt::format("reference group '{}' has selection rate 0", reference->group));
        const auto diff = newcombe(g.selected, g.n, reference->selected, reference->n, options.z);
        g.parity_difference = Stat::of(diff.estimate, diff.ci);
      }
      g.adverse_impact = g.disparate_impact.has_value() && *g.disparate_impact.value < options.four_fifths;
      if (g.adverse_impact) {
        audit.adverse_impact_groups.push_back(g.group);
      }
    }
    selection_groups.push_back({g.n - g.selected, g.selected});
    if (g.tpr.has_value() && g.fpr.has_value()) {
      widen(tpr, *g.tpr.value);
      widen(fpr, *g.fpr.value);
      odds_groups.push_back({g.negatives - g.false_positives, g.false_positives, g.positives - g.true_positives,
                             g.true_positives});
    }
  }

  const std::string two_groups =
      fmt::format("insufficient data: needs two groups with n >= {}", options.min_group_size);
  if (selection.count >= 2) {
    const auto boot = bootstrap_ci_counts(selection_groups, parity_difference_of, options.bootstrap);
    audit.demographic_parity_difference = Stat::of(selection.max - selection.min, boot.ci);
    audit.demographic_parity_ratio = selection.max > 0.0
                                         ? Stat::of(selection.min / selection.max)
                                         : Stat::none("every selection rate is 0");
  } else {
    audit.demographic_parity_difference = audit.demographic_parity_ratio = Stat::none(two_groups);
  }
  if (!audit.labelled) {
    audit.equal_opportunity_difference = audit.equalized_odds_difference = Stat::none("no labels (label-free)");
  } else if (tpr.count >= 2) {
    const auto boot = bootstrap_ci_counts(odds_groups, equalized_odds_of, options.bootstrap);
    audit.equal_opportunity_difference = Stat::of(tpr.max - tpr.min);
    audit.equalized_odds_difference = Stat::of(std::max(tpr.max - tpr.min, fpr.max - fpr.min), boot.ci);
  } else {
    audit.equal_opportunity_difference = audit.equalized_odds_difference = Stat::none(fmt::format(
        "insufficient data: needs two groups with n >= {} and >= {} labelled positives and negatives",
        options.min_group_size, std::max<std::int64_t>(options.min_label_count, 1)));
  }
  return audit;
}

std::vector<BiasAudit> audit_bias_by_segment(std::span<const SegmentedDecision> decisions,
                                             const std::vector<std::string>& dimensions,
                                             const BiasOptions& options) {
  std::map<std::string, std::vector<const SegmentedDecision*>> by_version;
  for (const auto& d : decisions) {
    by_version[d.model_version].push_back(&d);
  }
  std::vector<std::string> sorted_dimensions = dimensions;
  std::sort(sorted_dimensions.begin(), sorted_dimensions.end());
  sorted_dimensions.erase(std::unique(sorted_dimensions.begin(), sorted_dimensions.end()), sorted_dimensions.end());
  std::vector<BiasAudit> audits;
  for (const auto& [version, members] : by_version) {
    for (const auto& dimension : sorted_dimensions) {
      std::vector<Decision> flat;
      flat.reserve(members.size());
      for (const auto* d : members) {
        auto it = d->segments.find(dimension);
        flat.push_back({it == d->segments.end() || it->second.empty() ? std::string("(unknown)") : it->second,
                        d->predicted, d->actual});
      }
      BiasOptions per_dimension = options;
      auto named = options.reference_by_dimension.find(dimension);
      per_dimension.reference_group = named == options.reference_by_dimension.end() ? std::string() : named->second;
      audits.push_back(audit_bias(version, dimension, flat, per_dimension));
    }
  }
  return audits;
}

}  // namespace aiot::report
