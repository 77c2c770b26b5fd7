#pragma once
// Numerics behind the rollout gates and the power check of `plan` (rollouts.md §4.4).
// Plain functions over numbers and samples: no I/O, no clock, no state. Invalid arguments
// (a probability outside its range, x > n, an empty sample where one is needed) throw
// aiot::Error::usage, because they come from a spec or from reported data.
#include <cstdint>
#include <span>

namespace aiot::rollout {

// ---- normal distribution -------------------------------------------------------------

// Φ(x) = P(Z ≤ x), through std::erfc so the tails keep their relative accuracy.
double normal_cdf(double x);
// Upper tail 1 − Φ(x), without the cancellation of 1 − normal_cdf(x).
double normal_sf(double x);
// Φ⁻¹(p), Wichura's AS241 (PPND16), relative error about 1e-16. p = 0 gives −inf, p = 1
// gives +inf; p outside [0, 1] or NaN is a usage error.
double normal_quantile(double p);

// ---- descriptive statistics ----------------------------------------------------------

double mean(std::span<const double> values);
// Sample quantile, R/NumPy "type 7": h = (n−1)·q, linear interpolation between the order
// statistics x[floor h] and x[floor h + 1] (0-based). q in [0, 1]; empty input is an error.
double percentile(std::span<const double> values, double q);
inline double median(std::span<const double> values) { return percentile(values, 0.5); }

// ---- proportions ---------------------------------------------------------------------

struct Interval {
  double lower = 0.0;
  double upper = 1.0;
};

// Wilson score interval for x successes in n trials at normal quantile z:
//   p̂ = x/n, c = (p̂ + z²/2n)/(1 + z²/n), h = z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²), [c − h, c + h],
// clamped to [0, 1] (the bounds at x = 0 and x = n are exactly 0 and 1 in exact arithmetic).
// n = 0 gives [0, 1]: no information.
Interval wilson_interval(std::int64_t x, std::int64_t n, double z);

struct DifferenceInterval {
  double estimate = 0.0;  // Δ = p_c − p_b
  double lower = -1.0;
  double upper = 1.0;
  Interval canary;    // the two Wilson intervals it is built from
  Interval baseline;
};

// Newcombe's hybrid score interval (Newcombe 1998, method 10) for Δ = p_c − p_b, from the
// Wilson intervals [l_c, u_c] and [l_b, u_b] at the same z:
//   L = Δ − √((p_c − l_c)² + (u_b − p_b)²),  U = Δ + √((u_c − p_c)² + (p_b − l_b)²).
// For a two-sided 1 − a interval pass z = z_{1−a/2}. Both n must be > 0.
DifferenceInterval newcombe_interval(std::int64_t x_canary, std::int64_t n_canary,
                                     std::int64_t x_baseline, std::int64_t n_baseline, double z);

// ---- two-sample location (canary c_i vs baseline b_j) --------------------------------

struct MannWhitney {
  std::int64_t m = 0;       // canary sample size
  std::int64_t n = 0;       // baseline sample size
  double u = 0.0;           // U_c = R_c − m(m+1)/2 = #{c_i > b_j} + ½·#{c_i = b_j}
  double mean = 0.0;        // m·n/2
  double sd = 0.0;          // √(m·n/12 · ((N+1) − Σ(t³−t)/(N(N−1)))), N = m+n, t = tie group sizes
  double tie_term = 0.0;    // Σ(t³ − t)
  double z = 0.0;           // signed; continuity-corrected towards 0 when that option is on
  double p_two_sided = 1.0;
  double p_greater = 1.0;   // H1: canary tends to be larger
  double p_less = 1.0;      // H1: canary tends to be smaller
};

// Mann-Whitney U with mid-ranks for ties and the tie-corrected normal approximation.
// With `continuity` (the default of R's wilcox.test and SciPy) the numerator moves 0.5 towards
// the mean: z = sign(U−μ)·max(|U−μ| − ½, 0)/σ for the two-sided test, (U − μ − ½)/σ for
// "greater", (U − μ + ½)/σ for "less". When σ = 0 (an empty side, or all values tied) z = 0
// and every p-value is 1.
MannWhitney mann_whitney(std::span<const double> canary, std::span<const double> baseline,
                         bool continuity = true);

struct ShiftEstimate {
  double estimate = 0.0;      // median of the m·n differences c_i − b_j
  double lower = 0.0;         // D(k+1), 1-based order statistic; −inf when not attainable
  double upper = 0.0;         // D(mn−k), 1-based order statistic; +inf when not attainable
  std::int64_t k = 0;         // ⌊mn/2 − z·√(mn(m+n+1)/12)⌋
  bool attainable = true;     // false when k < 0: the samples are too small for this confidence
  std::int64_t pairs = 0;     // m·n
};

// Hodges–Lehmann shift estimate and its distribution-free interval (normal approximation
// for k, no tie correction). With D(1) ≤ … ≤ D(mn) the sorted differences (1-based), the
// interval is [D(k+1), D(mn−k)]; in 0-based vector terms [D[k], D[mn−k−1]]. For a two-sided
// 1 − a interval pass z = z_{1−a/2}. Both samples must be non-empty.
//
// Exact at any size: each order statistic is selected among the m·n differences without forming
// them, in O((m + n) log) time and O(m + n) memory (5,500 × 4,000 devices: 22·10⁶ pairs, ~1 ms).
ShiftEstimate hodges_lehmann(std::span<const double> canary, std::span<const double> baseline, double z);

// ---- repeated looks ------------------------------------------------------------------

// Bonferroni: α' = α / L for L ≥ 1 planned looks.
double bonferroni_alpha(double alpha, std::int64_t looks);

// ---- power helpers for `plan` --------------------------------------------------------

// Zero-failure demonstration: with 0 failures in n devices the one-sided 1 − α upper bound on
// the failure rate is below p when (1−p)ⁿ ≤ α, i.e. n ≥ ln α / ln(1 − p). Returns the smallest
// such n (ceil, with 1e-9 slack so an exact integer ratio is not pushed up by rounding).
std::int64_t zero_failure_sample_size(double p, double alpha);

// Inverse of the above: the smallest failure rate a wave of n devices with 0 failures can
// demonstrate at α, p = 1 − α^(1/n). Also "a rate at or above p would show at least one
// failure with probability 1 − α".
double min_detectable_failure_rate(std::int64_t n, double alpha);

// Variance model of the two-proportion sample size (all normal approximation, no continuity
// correction; z_α one-sided, z_β = z_{power}, Δ = p2 − p1, p̄ = (p1+p2)/2, q = 1 − p):
//   pooled:   n = (z_α + z_β)² · 2·p̄·q̄ / Δ²
//   unpooled: n = (z_α + z_β)² · (p1·q1 + p2·q2) / Δ²
//   fleiss:   n = (z_α·√(2·p̄·q̄) + z_β·√(p1·q1 + p2·q2))² / Δ²   (Fleiss, pooled under H0)
enum class VarianceModel { pooled, unpooled, fleiss };

// Devices per arm to detect a rate moving from p1 to p2 with a one-sided test at α and
// power `power` (ceil of the formula above).
std::int64_t two_proportion_sample_size(double p1, double p2, double alpha, double power,
                                        VarianceModel model = VarianceModel::pooled);

// Asymptotic relative efficiency of Mann-Whitney vs the t-test under normality: 3/π ≈ 0.955.
inline constexpr double k_mann_whitney_efficiency = 0.954929658551372;

// Devices per arm for Mann-Whitney to detect a shift of d standard deviations, one-sided α,
// power `power`: n = ⌈2·(z_α + z_β)² / d² / (3/π)⌉.
std::int64_t mann_whitney_sample_size(double shift_sd, double alpha, double power);

}  // namespace aiot::rollout
