#pragma once
// Drift between a reference window and a current window (lineage-governance.md §3.2), with the
// details the anchors disagree on pinned to aiot's defaults:
// - PSI over 10 bins cut at the reference deciles (lower quantiles: the smallest x with F_ref(x) ≥
//   i/10, duplicates merged), bins (-inf, c1], (c1, c2], ..., (c9, +inf); empty bin fractions
//   replaced by epsilon 1e-4 (Evidently's convention, no renormalisation).
// - Jensen–Shannon *distance* with log base 2 (range 0..1), on the same bins (no epsilon).
// - Hellinger distance (1/√2)·‖√p − √q‖₂ on the same bins.
// - Wasserstein-1 = ∫|F_ref − F_cur| dx, divided by max(σ_ref, 0.001), σ_ref the population σ.
// - Kolmogorov–Smirnov D = sup|F_ref − F_cur| and the asymptotic p-value Q_KS(λ),
//   λ = (√n_e + 0.12 + 0.11/√n_e)·D, n_e = n·m/(n + m).
// - Categorical fields: PSI, JS and Hellinger over the union of categories, and Pearson's χ² test
//   of homogeneity (2 × C contingency table).
// Status: numeric fields follow PSI (≥ 0.1 moderate, ≥ 0.25 major); categorical fields follow JS
// (≥ 0.1 moderate, ≥ 0.25 major: aiot's choice, no anchor has a second JS band); either window
// with fewer than 100 values gives "insufficient data" (metrics still computed when both are
// non-empty).
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "aiot/lineage/sketch.hpp"

namespace aiot::lineage {

struct DriftThresholds {
  double psi_moderate = 0.1;
  double psi_major = 0.25;
  double js_moderate = 0.1;
  double js_major = 0.25;
  double ks_alpha = 0.05;        // reported as ks_drift (p < alpha); callers apply Bonferroni by
                                 // passing alpha / K for K fields
  std::uint64_t min_n = 100;     // per window
  int psi_bins = 10;             // reference-quantile bins
  double psi_epsilon = 1e-4;     // replaces empty bin fractions
  double w1_sigma_floor = 0.001; // W1 is divided by max(σ_ref, this)

  nlohmann::json to_json() const;
};

enum class DriftKind { numeric, categorical };

struct DriftResult {
  DriftKind kind = DriftKind::numeric;
  // NaN when not computable (an empty window; for categorical: w1_normed, ks_d, ks_p).
  double psi = 0;
  double js = 0;          // Jensen–Shannon distance, base 2
  double w1_normed = 0;
  double ks_d = 0;
  double ks_p = 1;
  double hellinger = 0;
  double chi2 = 0;        // categorical only (NaN for numeric)
  double chi2_p = 1;      // categorical only (NaN for numeric)
  int chi2_dof = 0;
  std::uint64_t n_ref = 0;
  std::uint64_t n_cur = 0;
  std::string status;     // "stable" | "moderate" | "major" | "insufficient data"
  DriftThresholds thresholds;

  bool ks_drift() const;  // ks_p < thresholds.ks_alpha
  // {"kind","psi","js","w1_normed","ks_d","ks_p","hellinger","chi2","chi2_p","chi2_dof",
  //  "n_ref","n_cur","status","thresholds":{...}}; NaN as null.
  nlohmann::json to_json() const;
};

// Exact versions over all values (NaN values are ignored). Used by the governance report on small
// windows and by the tests that check the sketch versions.
DriftResult drift_exact(std::span<const double> reference, std::span<const double> current,
                        const DriftThresholds& thresholds = {});
// Sketch versions: the same metrics on the KLL approximations (F from weighted_items(); bins cut at
// reference.quantile(i/10)). σ_ref from reference_stddev when given (the profile's Moments: exact),
// else from the sketch's weighted items. Used by DRF001 against a --baseline profile.
DriftResult drift_sketch(const KllSketch& reference, const KllSketch& current,
                         const DriftThresholds& thresholds = {}, double reference_stddev = -1);
// Categorical: counts per category (e.g. from FrequentItems::top or exact maps).
DriftResult drift_categorical(const std::map<std::string, std::uint64_t>& reference,
                              const std::map<std::string, std::uint64_t>& current,
                              const DriftThresholds& thresholds = {});

// The pieces, exposed for tests and for the report's own tables.
// PSI of two distributions given as fractions per bin (same length); zeros become epsilon.
double psi(std::span<const double> ref_fractions, std::span<const double> cur_fractions, double epsilon = 1e-4);
// Jensen–Shannon distance base 2 of two probability vectors (each renormalised to sum 1).
double js_distance(std::span<const double> p, std::span<const double> q);
double hellinger(std::span<const double> p, std::span<const double> q);
// Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}, clamped to [0, 1] (1 for λ < 0.2 where the series
// is useless and the true value is 1 to 7 digits).
double kolmogorov_q(double lambda);
// Asymptotic two-sample KS p-value with the effective-n correction above.
double ks_p_value(double d, std::uint64_t n_ref, std::uint64_t n_cur);
// Upper tail of the χ² distribution with dof degrees of freedom (Boost.Math gamma_q).
double chi2_sf(double statistic, int dof);

}  // namespace aiot::lineage
