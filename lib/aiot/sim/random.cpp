#include "aiot/sim/random.hpp"

#include <cmath>
#include <numbers>

namespace aiot::sim {

Rng Rng::keyed(std::uint64_t seed, std::initializer_list<std::string_view> parts) {
  constexpr std::uint64_t k_fnv_offset = 0xcbf29ce484222325ULL;
  constexpr std::uint64_t k_fnv_prime = 0x100000001b3ULL;
  std::uint64_t h = k_fnv_offset;
  auto mix_byte = [&](unsigned char c) {
    h ^= c;
    h *= k_fnv_prime;
  };
  for (int i = 0; i < 8; ++i) {
    mix_byte(static_cast<unsigned char>(seed >> (8 * i)));
  }
  for (auto part : parts) {
    mix_byte(0x1f);  // unit separator: the parts stay distinguishable
    for (char c : part) {
      mix_byte(static_cast<unsigned char>(c));
    }
  }
  Rng rng(h);
  rng.next();  // one round of SplitMix64 spreads FNV's weak low bits
  return rng;
}

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Rng::uniform() {
  // 53 random bits, centred in their cell: (0, 1) open at both ends.
  return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53;
}

double Rng::normal() {
  double u1 = uniform();
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::int64_t Rng::poisson(double mean) {
  if (mean <= 0) {
    return 0;
  }
  if (mean < 30) {
    // Knuth's multiplication method: exact, and cheap for small means.
    double limit = std::exp(-mean);
    double product = uniform();
    std::int64_t k = 0;
    while (product > limit) {
      ++k;
      product *= uniform();
    }
    return k;
  }
  double x = std::round(mean + std::sqrt(mean) * normal());
  return x < 0 ? 0 : static_cast<std::int64_t>(x);
}

}  // namespace aiot::sim
