// Model performance per version and ISO week, and decay against reference weeks
// (lineage-governance.md §9.2 item 4; docs/report-metrics.md §3).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/report/metrics.hpp"

namespace aiot::report {
namespace {

constexpr const char* k_metric_labelled = "f1";
constexpr const char* k_metric_label_free = "mean_confidence";

Stat ratio(std::int64_t num, std::int64_t den, const char* what, bool with_ci) {
  if (den <= 0) {
    return Stat::none(fmt::format("not computable: no {}", what));
  }
  const double v = static_cast<double>(num) / static_cast<double>(den);
  return with_ci ? Stat::of(v, wilson(num, den)) : Stat::of(v);
}

WeekPerformance summarise_week(const WeekCounts& c, const DecayOptions& o) {
  WeekPerformance w;
  w.week = c.week;
  w.predictions = c.predictions;
  w.labelled = c.tp + c.fp + c.tn + c.fn;
  if (w.labelled == 0) {
    w.accuracy = w.precision = w.recall = w.f1 = Stat::none("no labels (label-free)");
  } else if (w.labelled < o.min_samples) {
    w.accuracy = w.precision = w.recall = w.f1 =
        Stat::none(fmt::format("insufficient data: {} labelled < {}", w.labelled, o.min_samples));
  } else {
    w.accuracy = ratio(c.tp + c.tn, w.labelled, "labelled predictions", true);
    w.precision = ratio(c.tp, c.tp + c.fp, "positive predictions", true);
    w.recall = ratio(c.tp, c.tp + c.fn, "labelled positives", true);
    // F1 = 2TP / (2TP + FP + FN): defined whenever anything was positive.
    w.f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, "positives", false);
  }
  if (c.confidence_count == 0) {
    w.mean_confidence = Stat::none("no confidence reported");
  } else if (c.confidence_count < o.min_samples) {
    w.mean_confidence =
        Stat::none(fmt::format("insufficient data: n = {} < {}", c.confidence_count, o.min_samples));
  } else {
    w.mean_confidence = Stat::of(c.confidence_sum / static_cast<double>(c.confidence_count));
  }
  if (c.predictions < o.min_samples) {
    w.prediction_rate = c.predictions == 0
                            ? Stat::none("no predictions")
                            : Stat::none(fmt::format("insufficient data: n = {} < {}", c.predictions, o.min_samples));
  } else {
    w.prediction_rate = ratio(c.predicted_positive, c.predictions, "predictions", true);
  }
  return w;
}

const Stat& metric_of(const WeekPerformance& w, bool labelled) { return labelled ? w.f1 : w.mean_confidence; }

std::string percent(double v) { return fmt::format("{:.1f} %", v * 100.0); }

}  // namespace

void add_prediction(WeekCounts& counts, bool predicted, std::optional<bool> actual,
                    std::optional<double> confidence) {
  ++counts.predictions;
  counts.predicted_positive += predicted ? 1 : 0;
  if (actual) {
    if (predicted) {
      ++(*actual ? counts.tp : counts.fp);
    } else {
      ++(*actual ? counts.fn : counts.tn);
    }
  }
  if (confidence && std::isfinite(*confidence)) {
    counts.confidence_sum += *confidence;
    ++counts.confidence_count;
  }
}

ModelPerformance evaluate_performance(std::string model_version, std::span<const WeekCounts> weeks,
                                      const std::vector<std::string>& reference_weeks,
                                      const DecayOptions& options) {
  ModelPerformance perf;
  perf.model_version = std::move(model_version);

  // Merge counts of the same week (callers may pass one entry per site or device class).
  std::map<std::string, WeekCounts> merged;
  for (const auto& c : weeks) {
    if (!c.model_version.empty() && c.model_version != perf.model_version) {
      continue;
    }
    auto& m = merged[c.week];
    m.week = c.week;
    m.predictions += c.predictions;
    m.predicted_positive += c.predicted_positive;
    m.tp += c.tp;
    m.fp += c.fp;
    m.tn += c.tn;
    m.fn += c.fn;
    m.confidence_sum += c.confidence_sum;
    m.confidence_count += c.confidence_count;
  }
  bool any_labels = false;
  for (const auto& [week, c] : merged) {
    perf.weeks.push_back(summarise_week(c, options));
    any_labels = any_labels || perf.weeks.back().labelled > 0;
  }
  perf.label_free = !any_labels;
  perf.metric = any_labels ? k_metric_labelled : k_metric_label_free;

  const std::set<std::string> reference(reference_weeks.begin(), reference_weeks.end());
  perf.reference_weeks.assign(reference.begin(), reference.end());
  std::vector<double> ref_values;
  for (const auto& w : perf.weeks) {
    if (reference.count(w.week) != 0 && metric_of(w, any_labels).has_value()) {
      ref_values.push_back(*metric_of(w, any_labels).value);
    }
  }
  Stat ref_mean = Stat::none("no reference week with enough data");
  Stat ref_sd = Stat::none(fmt::format("fewer than {} reference weeks", options.min_reference_weeks_for_sigma));
  if (!ref_values.empty()) {
    double sum = 0.0;
    for (double v : ref_values) {
      sum += v;
    }
    const double mean = sum / static_cast<double>(ref_values.size());
    ref_mean = Stat::of(mean);
    if (static_cast<int>(ref_values.size()) >= std::max(options.min_reference_weeks_for_sigma, 2)) {
      double ss = 0.0;
      for (double v : ref_values) {
        ss += (v - mean) * (v - mean);
      }
      ref_sd = Stat::of(std::sqrt(ss / static_cast<double>(ref_values.size() - 1)));  // sample sd
    }
  }

  for (const auto& w : perf.weeks) {
    if (reference.count(w.week) != 0) {
      continue;
    }
    DecayCheck check;
    check.week = w.week;
    check.metric = perf.metric;
    check.value = metric_of(w, any_labels);
    check.reference_mean = ref_mean;
    check.reference_sd = ref_sd;
    if (!check.value.has_value()) {
      check.relative_change = Stat::none(check.value.missing);
      check.reason = "not checked: " + check.value.missing;
      perf.checks.push_back(std::move(check));
      continue;
    }
    if (!ref_mean.has_value()) {
      check.relative_change = Stat::none(ref_mean.missing);
      check.reason = "not checked: " + ref_mean.missing;
      perf.checks.push_back(std::move(check));
      continue;
    }
    const double current = *check.value.value;
    const double mean = *ref_mean.value;
    std::vector<std::string> reasons;
    if (mean > 0.0) {
      const double change = (current - mean) / mean;
      check.relative_change = Stat::of(change);
      if (-change > options.relative_drop) {
        reasons.push_back(fmt::format("relative drop {} > {}", percent(-change), percent(options.relative_drop)));
      }
    } else {
      check.relative_change = Stat::none("reference value is 0");
    }
    if (ref_sd.has_value()) {
      const double sd = *ref_sd.value;
      if (sd > 0.0 && std::fabs(current - mean) > options.sigma * sd) {
        reasons.push_back(fmt::format("{} reference mean ± {:g}σ [{:.4f}, {:.4f}]",
                                      current < mean ? "below" : "above", options.sigma,
                                      mean - options.sigma * sd, mean + options.sigma * sd));
      }
    }
    check.alert = !reasons.empty();
    perf.alert = perf.alert || check.alert;
    if (check.alert) {
      std::string joined;
      for (const auto& r : reasons) {
        joined += (joined.empty() ? "" : "; ") + r;
      }
      check.reason = joined;
    } else {
      check.reason = ref_sd.has_value() && *ref_sd.value == 0.0
                         ? "within threshold (σ rule not applied: reference weeks have no spread)"
                         : ref_sd.has_value() ? "within thresholds" : "within threshold (σ rule not applied: " + ref_sd.missing + ")";
    }
    perf.checks.push_back(std::move(check));
  }
  return perf;
}

}  // namespace aiot::report
