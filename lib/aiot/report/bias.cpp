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

// Decision codes for the bootstrap: bit 0 = ŷ, bit 1 = y (labelled decisions only).
double code(bool predicted, bool actual) { return (predicted ? 1.0 : 0.0) + (actual ? 2.0 : 0.0); }

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

// Statistics over bootstrap groups of decision codes (all decisions for DPD; labelled ones for EOD).
std::optional<double> parity_difference_of(const Groups& groups) {
  Spread s;
  for (const auto& g : groups) {
    if (g.empty()) {
      return std::nullopt;
    }
    double selected = 0.0;
    for (double c : g) {
      selected += (static_cast<int>(c) & 1) ? 1.0 : 0.0;
    }
    widen(s, selected / static_cast<double>(g.size()));
  }
  if (s.count < 2) {
    return std::nullopt;
  }
  return s.max - s.min;
}

std::optional<double> equalized_odds_of(const Groups& groups) {
  Spread tpr;
  Spread fpr;
  for (const auto& g : groups) {
    double tp = 0, pos = 0, fp = 0, neg = 0;
    for (double c : g) {
      const int k = static_cast<int>(c);
      if (k & 2) {
        ++pos;
        tp += (k & 1) ? 1 : 0;
      } else {
        ++neg;
        fp += (k & 1) ? 1 : 0;
      }
    }
    if (pos == 0 || neg == 0) {
      return std::nullopt;  // a resample without positives or negatives has no TPR/FPR
    }
    widen(tpr, tp / pos);
    widen(fpr, fp / neg);
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
  Groups selection_groups;
  Groups odds_groups;
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
    std::vector<double> codes;
    std::vector<double> labelled_codes;
    for (const Decision* d : by_group[g.group]) {
      codes.push_back(code(d->predicted, false));
      if (d->actual) {
        labelled_codes.push_back(code(d->predicted, *d->actual));
      }
    }
    selection_groups.push_back(std::move(codes));
    if (g.tpr.has_value() && g.fpr.has_value()) {
      widen(tpr, *g.tpr.value);
      widen(fpr, *g.fpr.value);
      odds_groups.push_back(std::move(labelled_codes));
    }
  }

  const std::string two_groups =
      fmt::format("insufficient data: needs two groups with n >= {}", options.min_group_size);
  if (selection.count >= 2) {
    const auto boot = bootstrap_ci(selection_groups, parity_difference_of, options.bootstrap);
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
    const auto boot = bootstrap_ci(odds_groups, equalized_odds_of, options.bootstrap);
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
