#pragma once
// One-pass, bounded-memory, mergeable summaries (lineage-governance.md §3.3): the building blocks of
// profile.json. Every sketch here is deterministic (the same updates in the same order give the
// same state and the same JSON bytes), mergeable (merge(a, b) summarises a ∪ b within the sketch's
// error bound) and serialisable to JSON that reads back to an identical sketch.
// Written in-house because Apache DataSketches is not packaged for Debian (§0).
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace aiot::lineage {

// 64-bit hash of bytes for sketches and dedupe keys: MurmurHash64A with a murmur3 finaliser.
// Not cryptographic; chosen over OpenSSL (SHA-256 is ~20x slower per short key, and the audit
// hashes every device id and text value) and over xxHash (not among our dependencies). Stable
// across platforms and versions: profile.json HLL registers depend on it.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

// Count, mean, variance, min, max in one pass (Welford); merge by Chan et al.'s parallel formula.
struct Moments {
  std::uint64_t n = 0;
  double mean = 0;
  double m2 = 0;  // sum of squared deviations from the mean
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();

  void update(double x);  // NaN and infinities are ignored (callers count them elsewhere)
  void merge(const Moments& other);
  double variance() const;         // population (m2 / n), 0 when n < 1: what drift's σ_ref uses
  double sample_variance() const;  // m2 / (n - 1), 0 when n < 2
  double stddev() const;           // sqrt(variance())

  nlohmann::json to_json() const;  // {"n","mean","m2","min","max"}; min/max null when empty
  static Moments from_json(const nlohmann::json& j);  // throws Error::usage when malformed
};

// KLL quantile sketch (Karnin, Lang, Liberty 2016) over doubles. Levels of compactors with
// capacities shrinking by 2/3 per level below the top; a full level sorts and keeps every other
// item (odd or even half chosen by a seeded generator kept in the sketch, so results are
// reproducible). Normalised rank error ≈ 1.65 % at k = 200 (99 % confidence, DataSketches' table).
class KllSketch {
 public:
  static constexpr std::uint16_t k_default_k = 200;
  static constexpr std::uint64_t k_default_seed = 0x6a09e667f3bcc909ULL;

  explicit KllSketch(std::uint16_t k = k_default_k, std::uint64_t seed = k_default_seed);

  void update(double x);  // NaN ignored
  // Merges another sketch of the same k (Error::usage otherwise: mixed ks would make the
  // stated error bound wrong). The other sketch's seed does not matter.
  void merge(const KllSketch& other);

  std::uint64_t n() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::uint16_t k() const { return k_; }
  double min() const { return min_; }  // exact; NaN when empty
  double max() const { return max_; }  // exact; NaN when empty
  std::size_t retained() const { return retained_; }  // items held: O(k) + O(log n)

  // The smallest retained x whose inclusive normalised rank is ≥ q; q in [0, 1]
  // (0 gives min, 1 gives max). NaN when empty; Error::usage when q is outside [0, 1].
  double quantile(double q) const;
  std::vector<double> quantiles(std::span<const double> qs) const;
  // Inclusive normalised rank: estimated fraction of items ≤ x. 0 when empty.
  double rank(double x) const;
  // For strictly increasing split points s_1..s_m: m + 1 values, the estimated fraction ≤ s_i
  // and finally 1.0. Error::usage when the points are not increasing or contain NaN.
  std::vector<double> cdf(std::span<const double> split_points) const;
  // Differences of cdf: fractions in (-inf, s_1], (s_1, s_2], ..., (s_m, +inf).
  std::vector<double> pmf(std::span<const double> split_points) const;
  // The retained items with their weights, sorted by value: the sketch's approximation of the
  // distribution (drift metrics work on this). Weights add up to n().
  std::vector<std::pair<double, std::uint64_t>> weighted_items() const;

  // A priori bound on the normalised rank error for this k (99 % confidence, single-sided):
  // 2.296 / k^0.9723, DataSketches' fitted formula (≈ 1.65 % at k = 200).
  double normalized_rank_error() const;

  nlohmann::json to_json() const;
  static KllSketch from_json(const nlohmann::json& j);  // throws Error::usage when malformed

 private:
  void compress();
  std::uint32_t level_capacity(std::size_t level) const;
  std::size_t capacity_total() const;
  bool next_bit();

  std::uint16_t k_;
  std::uint64_t rng_;  // splitmix64 state: which half a compaction keeps
  std::uint64_t n_ = 0;
  double min_;
  double max_;
  std::vector<std::vector<double>> levels_;  // level h holds items of weight 2^h
  std::size_t retained_ = 0;                 // items in all levels
  std::size_t capacity_ = 0;                 // sum of level capacities: compact when reached
};

// HyperLogLog distinct counter with 2^lg_k one-byte registers (lg_k 12: 4 KiB, standard error
// 1.04/sqrt(4096) ≈ 1.6 %). Estimation uses Ertl's improved raw estimator (2017), which corrects
// the small range the way HLL++ does with linear counting and bias tables, without tables; with
// 64-bit hashes no large-range correction is needed.
class HllSketch {
 public:
  static constexpr std::uint8_t k_default_lg_k = 12;

  explicit HllSketch(std::uint8_t lg_k = k_default_lg_k);  // lg_k in [4, 18], else Error::usage

  void update(std::string_view item) { update_hash(hash64(item)); }
  void update_hash(std::uint64_t hash);
  void merge(const HllSketch& other);  // Error::usage when lg_k differs
  double estimate() const;
  std::uint8_t lg_k() const { return lg_k_; }
  double standard_error() const;  // 1.04 / sqrt(2^lg_k)
  bool empty() const;

  nlohmann::json to_json() const;  // {"lg_k", "registers": base64}
  static HllSketch from_json(const nlohmann::json& j);

 private:
  std::uint8_t lg_k_;
  std::vector<std::uint8_t> registers_;
};

// Heavy hitters by Misra–Gries with at most k_max_entries counters (whylogs' fi_lg_max_k 10 cap).
// Every estimate is a lower bound; the true count is within [estimate, estimate + error()], and an
// item not listed occurred at most error() times.
class FrequentItems {
 public:
  static constexpr std::size_t k_max_entries = 128;

  struct Item {
    std::string value;
    std::uint64_t estimate = 0;     // lower bound of the true count
    std::uint64_t upper_bound = 0;  // estimate + error()
  };

  void update(std::string_view item, std::uint64_t weight = 1);
  void merge(const FrequentItems& other);
  // The k most frequent by estimate (ties: by value), each with its bounds.
  std::vector<Item> top(std::size_t k) const;
  std::uint64_t total_weight() const { return total_; }
  std::uint64_t error() const { return offset_; }  // total weight decremented so far
  std::size_t size() const { return counts_.size(); }

  nlohmann::json to_json() const;  // {"total","error","items":[[value,count]...]} sorted
  static FrequentItems from_json(const nlohmann::json& j);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return static_cast<std::size_t>(hash64(s)); }
  };
  void purge(std::uint64_t amount);  // subtract from all, drop non-positive, add to offset_

  std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t offset_ = 0;
};

}  // namespace aiot::lineage
