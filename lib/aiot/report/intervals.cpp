// Stat, ISO weeks and the interval estimators of the report (docs/report-metrics.md §1).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/report/metrics.hpp"
#include "aiot/rollout/stats.hpp"

namespace aiot::report {

Stat Stat::of(double v, std::optional<Interval> ci) {
  if (!std::isfinite(v)) {
    return none("not computable (not a finite number)");
  }
  Stat s;
  s.value = v;
  if (ci && std::isfinite(ci->lower) && std::isfinite(ci->upper)) {
    s.ci = ci;
  }
  return s;
}

Stat Stat::none(std::string reason) {
  Stat s;
  s.missing = reason.empty() ? std::string("insufficient data") : std::move(reason);
  return s;
}

std::string iso_week(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  // ISO weeks run Monday..Sunday and belong to the year that holds their Thursday.
  const weekday wd{day};
  const int monday_based = static_cast<int>(wd.iso_encoding()) - 1;  // Mon = 0 … Sun = 6
  const sys_days thursday = day - days{monday_based} + days{3};
  const year_month_day thursday_date{thursday};
  const sys_days jan1 = sys_days{thursday_date.year() / January / 1};
  const int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  return fmt::format("{:04d}-W{:02d}", static_cast<int>(thursday_date.year()), week);
}

Interval wilson(std::int64_t x, std::int64_t n, double z) {
  if (x < 0 || n < 0 || x > n) {
    throw Error::usage(fmt::format("Wilson interval needs 0 <= x <= n, got x = {}, n = {}", x, n));
  }
  const auto r = rollout::wilson_interval(x, n, z);
  return {r.lower, r.upper};
}

Difference newcombe(std::int64_t x1, std::int64_t n1, std::int64_t x2, std::int64_t n2, double z) {
  if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2) {
    throw Error::usage(fmt::format("Newcombe interval needs 0 <= x <= n and n > 0, got {}/{} and {}/{}",
                                   x1, n1, x2, n2));
  }
  const auto r = rollout::newcombe_interval(x1, n1, x2, n2, z);
  return {r.estimate, {r.lower, r.upper}};
}

namespace {

// Uniform index in [0, n) from a 64-bit engine without modulo bias: reject the low
// 2⁶⁴ mod n values so every residue is equally likely. Unlike std::uniform_int_distribution
// this is the same on every standard library.
std::size_t draw_index(std::mt19937_64& engine, std::size_t n) {
  const std::uint64_t bound = static_cast<std::uint64_t>(n);
  const std::uint64_t threshold = (0 - bound) % bound;  // 2⁶⁴ mod n
  for (;;) {
    const std::uint64_t r = engine();
    if (r >= threshold) {
      return static_cast<std::size_t>(r % bound);
    }
  }
}

// Type-7 quantile of sorted values.
double quantile_sorted(const std::vector<double>& sorted, double q) {
  const double h = (static_cast<double>(sorted.size()) - 1.0) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

BootstrapResult bootstrap_ci(const Groups& groups, const GroupStatistic& statistic,
                             const BootstrapOptions& options) {
  if (options.resamples < 1) {
    throw Error::usage("bootstrap needs at least one resample");
  }
  if (!(options.confidence > 0.0 && options.confidence < 1.0)) {
    throw Error::usage(fmt::format("bootstrap confidence must be in (0, 1), got {}", options.confidence));
  }
  BootstrapResult result;
  result.resamples = options.resamples;
  result.seed = options.seed;
  std::mt19937_64 engine(options.seed);
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(options.resamples));
  Groups resample(groups.size());
  for (int b = 0; b < options.resamples; ++b) {
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto& source = groups[g];
      auto& target = resample[g];
      target.resize(source.size());
      for (std::size_t i = 0; i < source.size(); ++i) {
        target[i] = source[draw_index(engine, source.size())];
      }
    }
    const auto value = statistic(resample);
    if (value && std::isfinite(*value)) {
      values.push_back(*value);
    }
  }
  result.used = static_cast<int>(values.size());
  // With most resamples not computable the percentiles would describe a biased subset.
  if (values.empty() || 2 * result.used < result.resamples) {
    return result;
  }
  std::sort(values.begin(), values.end());
  const double tail = (1.0 - options.confidence) / 2.0;
  result.ci = Interval{quantile_sorted(values, tail), quantile_sorted(values, 1.0 - tail)};
  return result;
}

BootstrapResult bootstrap_ci_counts(const GroupCounts& counts, const CountStatistic& statistic,
                                    const BootstrapOptions& options) {
  if (options.resamples < 1) {
    throw Error::usage("bootstrap needs at least one resample");
  }
  if (!(options.confidence > 0.0 && options.confidence < 1.0)) {
    throw Error::usage(fmt::format("bootstrap confidence must be in (0, 1), got {}", options.confidence));
  }
  for (const auto& group : counts) {
    for (auto c : group) {
      if (c < 0) {
        throw Error::usage("bootstrap counts must be non-negative");
      }
    }
  }
  BootstrapResult result;
  result.resamples = options.resamples;
  result.seed = options.seed;
  std::mt19937_64 engine(options.seed);
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(options.resamples));
  GroupCounts resample(counts.size());
  for (int b = 0; b < options.resamples; ++b) {
    for (std::size_t g = 0; g < counts.size(); ++g) {
      const auto& source = counts[g];
      auto& target = resample[g];
      target.assign(source.size(), 0);
      std::int64_t remaining_mass = 0;
      for (auto c : source) {
        remaining_mass += c;
      }
      std::int64_t remaining_draws = remaining_mass;  // the resample keeps the group's size
      // Multinomial(n, c_k/n) as binomials: x_k ~ Bin(draws left, c_k / mass left).
      for (std::size_t k = 0; k < source.size() && remaining_draws > 0; ++k) {
        if (source[k] == 0) {
          continue;
        }
        if (source[k] == remaining_mass) {
          target[k] = remaining_draws;
          remaining_draws = 0;
          break;
        }
        const double p = static_cast<double>(source[k]) / static_cast<double>(remaining_mass);
        std::binomial_distribution<std::int64_t> binomial(remaining_draws, p);
        target[k] = binomial(engine);
        remaining_draws -= target[k];
        remaining_mass -= source[k];
      }
    }
    const auto value = statistic(resample);
    if (value && std::isfinite(*value)) {
      values.push_back(*value);
    }
  }
  result.used = static_cast<int>(values.size());
  if (values.empty() || 2 * result.used < result.resamples) {
    return result;
  }
  std::sort(values.begin(), values.end());
  const double tail = (1.0 - options.confidence) / 2.0;
  result.ci = Interval{quantile_sorted(values, tail), quantile_sorted(values, 1.0 - tail)};
  return result;
}

}  // namespace aiot::report
