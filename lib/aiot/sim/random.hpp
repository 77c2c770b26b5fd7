#pragma once
// Counter-based randomness for the simulator: every draw is a pure function of a key such as
// (seed, purpose, device id, version, attempt), never of the order in which devices are visited,
// so any split of `sim advance` and any processing order give the same fleet.
#include <cstdint>
#include <string_view>
#include <initializer_list>

namespace aiot::sim {

// A small stream generator (SplitMix64) started from a hashed key.
class Rng {
 public:
  explicit Rng(std::uint64_t state) : state_(state) {}

  // Hashes the seed and the parts (FNV-1a, with a separator so ("ab","c") != ("a","bc")).
  static Rng keyed(std::uint64_t seed, std::initializer_list<std::string_view> parts);

  std::uint64_t next();
  // Uniform in (0, 1): never exactly 0 or 1, so log() of it is finite.
  double uniform();
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller).
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }
  // Poisson counts: exact inversion below a mean of 30, the normal approximation (rounded,
  // never negative) above it, where its error is far below the noise of any gate.
  std::int64_t poisson(double mean);
  // True with probability p.
  bool bernoulli(double p) { return uniform() < p; }

 private:
  std::uint64_t state_;
};

}  // namespace aiot::sim
