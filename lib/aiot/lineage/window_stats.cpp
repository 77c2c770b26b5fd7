#include "aiot/lineage/window_stats.hpp"

#include <algorithm>
#include <array>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace aiot::lineage {

namespace {

// Knuth's / Batcher's merge exchange for arbitrary n (TAOCP 5.2.2, Algorithm M, as loops): calls
// pair(a, b) for each compare-exchange in order.
template <class Pair>
constexpr void merge_exchange(std::size_t n, Pair&& pair) {
  for (std::size_t p = 1; p < n; p += p) {
    for (std::size_t k = p; k >= 1; k /= 2) {
      for (std::size_t j = k % p; j + k < n; j += 2 * k) {
        for (std::size_t i = 0; i < k && i + j + k < n; ++i) {
          if ((i + j) / (p * 2) == (i + j + k) / (p * 2)) pair(i + j, i + j + k);
        }
      }
    }
  }
}

inline void compare_exchange(double* v, std::size_t a, std::size_t b) {
#if defined(__SSE2__)
  // minsd / maxsd: g++ turns the portable form below into a branch, which mispredicts here.
  // On equal values (-0.0 and 0.0 too) each keeps its own, so both stay.
  const __m128d lo = _mm_load_sd(&v[a]), hi = _mm_load_sd(&v[b]);
  _mm_store_sd(&v[a], _mm_min_sd(hi, lo));
  _mm_store_sd(&v[b], _mm_max_sd(lo, hi));
#else
  const double lo = v[a], hi = v[b];
  v[a] = hi < lo ? hi : lo;
  v[b] = hi < lo ? lo : hi;
#endif
}

// The default window (k = 15: 31 values) with its network unrolled at compile time: no pair table
// to load, and the compiler schedules the independent exchanges together.
constexpr std::size_t k_default_window = 31;

constexpr std::size_t network_size(std::size_t n) {
  std::size_t count = 0;
  merge_exchange(n, [&](std::size_t, std::size_t) { ++count; });
  return count;
}

template <std::size_t N>
constexpr auto network_pairs() {
  std::array<std::pair<std::size_t, std::size_t>, network_size(N)> out{};
  std::size_t at = 0;
  merge_exchange(N, [&](std::size_t a, std::size_t b) { out[at++] = {a, b}; });
  return out;
}

template <std::size_t N, std::size_t... I>
void sort_unrolled(double* v, std::index_sequence<I...>) {
  static constexpr auto pairs = network_pairs<N>();
  (compare_exchange(v, pairs[I].first, pairs[I].second), ...);
}

}  // namespace

const std::vector<std::pair<std::size_t, std::size_t>>& sorting_network(std::size_t n) {
  // Windows are at most 2 * 50 + 1 values (policy); larger n are built on each call.
  thread_local std::array<std::vector<std::pair<std::size_t, std::size_t>>, 128> cache;
  thread_local std::vector<std::pair<std::size_t, std::size_t>> large;
  auto& pairs = n < cache.size() ? cache[n] : large;
  if (!pairs.empty() || n < 2) return pairs;
  pairs.clear();
  merge_exchange(n, [&](std::size_t a, std::size_t b) { pairs.emplace_back(a, b); });
  return pairs;
}

void median_and_mad(const double* x, std::size_t n, double* scratch, double& med, double& mad) {
  std::copy(x, x + n, scratch);
  if (n == k_default_window) {
    sort_unrolled<k_default_window>(scratch, std::make_index_sequence<network_size(k_default_window)>{});
  } else {
    for (const auto& [a, b] : sorting_network(n)) compare_exchange(scratch, a, b);
  }
  const std::size_t m = n / 2;
  med = scratch[m];
  // After k < m steps left >= 1 and right <= n - 1: both candidates exist. The values are sorted,
  // so med - left and right - med are the deviations |v - med| exactly.
  std::size_t left = m, right = m + 1;  // next candidates: scratch[left - 1] and scratch[right]
  double kth = 0;                       // the 0th smallest deviation is the median's own
  for (std::size_t k = 0; k < m; ++k) {
    const double dl = med - scratch[left - 1];
    const double dr = scratch[right] - med;
    const bool take_left = dl <= dr;
    kth = take_left ? dl : dr;
    left -= take_left ? 1 : 0;
    right += take_left ? 0 : 1;
  }
  mad = kth;
}

}  // namespace aiot::lineage
