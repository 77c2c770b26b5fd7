// The outlier windows' order statistics against exact answers: the sorting network sorts every 0/1
// input for small n (the 0-1 principle: then it sorts every input of that n) and random inputs up
// to the largest window; median and MAD equal nth_element's on the same values, ties and signed
// zeros included.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "aiot/lineage/window_stats.hpp"

using namespace aiot::lineage;

namespace {

void apply(std::vector<double>& v) {
  for (const auto& [a, b] : sorting_network(v.size()))
    if (v[b] < v[a]) std::swap(v[a], v[b]);
}

double nth_median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

TEST_CASE("sorting network: every 0/1 input of up to 16 values comes out sorted") {
  for (std::size_t n = 1; n <= 16; ++n) {
    for (std::uint32_t bits = 0; bits < (1u << n); ++bits) {
      std::vector<double> v(n);
      for (std::size_t i = 0; i < n; ++i) v[i] = (bits >> i) & 1u;
      apply(v);
      if (!std::is_sorted(v.begin(), v.end())) FAIL("n = " << n << " input bits " << bits);
    }
  }
}

TEST_CASE("sorting network: random inputs of every window size up to 101 values") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> small(-3, 3);  // many ties
  std::normal_distribution<double> normal(20, 5);
  for (std::size_t n = 1; n <= 101; ++n) {
    for (int round = 0; round < 40; ++round) {
      std::vector<double> v(n);
      for (auto& x : v) x = round % 2 ? normal(rng) : small(rng);
      auto expected = v;
      std::sort(expected.begin(), expected.end());
      apply(v);
      REQUIRE_MESSAGE(v == expected, "n = " << n);
    }
  }
}

TEST_CASE("median and MAD equal nth_element's for odd windows") {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_int_distribution<int> coarse(0, 4);
  std::vector<double> scratch(101);
  for (std::size_t n = 1; n <= 101; n += 2) {
    for (int round = 0; round < 60; ++round) {
      std::vector<double> x(n);
      for (auto& v : x) {
        switch (round % 3) {
          case 0: v = normal(rng); break;
          case 1: v = coarse(rng) * 0.5; break;                 // ties around the median
          default: v = coarse(rng) == 0 ? -0.0 : normal(rng);  // signed zeros
        }
      }
      const double med = nth_median(x);
      std::vector<double> dev(n);
      for (std::size_t i = 0; i < n; ++i) dev[i] = std::fabs(x[i] - med);
      const double mad = nth_median(dev);
      double got_med = -1, got_mad = -1;
      median_and_mad(x.data(), n, scratch.data(), got_med, got_mad);
      REQUIRE_MESSAGE(got_med == med, "n = " << n << " round " << round);
      REQUIRE_MESSAGE(got_mad == mad, "n = " << n << " round " << round);
    }
  }
}

TEST_CASE("median and MAD of a known window") {
  const std::vector<double> x{5, 1, 4, 1, 5, 9, 2, 6, 5};  // sorted 1 1 2 4 5 5 5 6 9: median 5
  std::vector<double> scratch(x.size());
  double med = 0, mad = 0;
  median_and_mad(x.data(), x.size(), scratch.data(), med, mad);
  CHECK(med == 5);
  CHECK(mad == 1);  // deviations 0 0 0 1 1 3 3 4 4
}
