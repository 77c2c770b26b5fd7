#include "aiot/lineage/sketch.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"

namespace aiot::lineage {

using nlohmann::json;

namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double k_inf = std::numeric_limits<double>::infinity();

std::uint64_t load_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

const json& member(const json& j, const char* key) {
  if (!j.is_object()) {
    throw Error::usage("expected an object");
  }
  const auto it = j.find(key);
  if (it == j.end()) {
    throw Error::usage(fmt::format("missing \"{}\"", key));
  }
  return *it;
}

std::uint64_t get_u64(const json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    throw Error::usage(fmt::format("\"{}\" must be a non-negative integer", key));
  }
  return v.get<std::uint64_t>();
}

double get_double(const json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_number()) {
    throw Error::usage(fmt::format("\"{}\" must be a number", key));
  }
  return v.get<double>();
}

// A number, or null for an absent bound (written for empty sketches).
double get_double_or(const json& j, const char* key, double if_null) {
  const auto& v = member(j, key);
  if (v.is_null()) {
    return if_null;
  }
  if (!v.is_number()) {
    throw Error::usage(fmt::format("\"{}\" must be a number or null", key));
  }
  return v.get<double>();
}

json finite_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// hash64: MurmurHash64A (Austin Appleby, public domain) + murmur3's fmix64, bytes read
// little-endian so the value does not depend on the host.

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
  constexpr std::uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t len = bytes.size();
  // The golden-ratio offset keeps hash64("") away from 0 (which would max out an HLL register).
  std::uint64_t h = (seed + 0x9e3779b97f4a7c15ULL) ^ (static_cast<std::uint64_t>(len) * m);
  const std::size_t blocks = len / 8;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint64_t k = load_le64(data + i * 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const unsigned char* tail = data + blocks * 8;
  switch (len & 7) {
    case 7: h ^= static_cast<std::uint64_t>(tail[6]) << 48; [[fallthrough]];
    case 6: h ^= static_cast<std::uint64_t>(tail[5]) << 40; [[fallthrough]];
    case 5: h ^= static_cast<std::uint64_t>(tail[4]) << 32; [[fallthrough]];
    case 4: h ^= static_cast<std::uint64_t>(tail[3]) << 24; [[fallthrough]];
    case 3: h ^= static_cast<std::uint64_t>(tail[2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<std::uint64_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint64_t>(tail[0]);
      h *= m;
      break;
    default: break;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  // fmix64: MurmurHash64A's last rounds leave the top bits (HLL's register index) less mixed.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// ---------------------------------------------------------------------------------------------
// Moments

void Moments::update(double x) {
  if (!std::isfinite(x)) {
    return;
  }
  ++n;
  const double delta = x - mean;
  mean += delta / static_cast<double>(n);
  m2 += delta * (x - mean);
  min = std::min(min, x);
  max = std::max(max, x);
}

void Moments::merge(const Moments& other) {
  if (other.n == 0) {
    return;
  }
  if (n == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(n);
  const double nb = static_cast<double>(other.n);
  const double total = na + nb;
  const double delta = other.mean - mean;
  mean += delta * nb / total;
  m2 += other.m2 + delta * delta * na * nb / total;
  n += other.n;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
}

double Moments::variance() const { return n < 1 ? 0.0 : std::max(0.0, m2 / static_cast<double>(n)); }
double Moments::sample_variance() const {
  return n < 2 ? 0.0 : std::max(0.0, m2 / static_cast<double>(n - 1));
}
double Moments::stddev() const { return std::sqrt(variance()); }

json Moments::to_json() const {
  return json{{"n", n}, {"mean", mean}, {"m2", m2}, {"min", finite_or_null(min)}, {"max", finite_or_null(max)}};
}

Moments Moments::from_json(const json& j) {
  Moments m;
  m.n = get_u64(j, "n");
  m.mean = get_double(j, "mean");
  m.m2 = get_double(j, "m2");
  m.min = get_double_or(j, "min", k_inf);
  m.max = get_double_or(j, "max", -k_inf);
  if (m.m2 < 0) {
    throw Error::usage("\"m2\" must not be negative");
  }
  if (m.n > 0 && !(m.min <= m.max)) {
    throw Error::usage("\"min\" must not exceed \"max\"");
  }
  if (m.n == 0 && (m.mean != 0 || m.m2 != 0 || std::isfinite(m.min) || std::isfinite(m.max))) {
    throw Error::usage("an empty summary (n 0) must have mean 0, m2 0 and null min/max");
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// KllSketch

namespace {
constexpr std::uint32_t k_kll_min_capacity = 8;  // the paper's m: the lowest levels never shrink below it
constexpr std::uint16_t k_kll_min_k = 8;
}  // namespace

KllSketch::KllSketch(std::uint16_t k, std::uint64_t seed) : k_(k), rng_(seed), min_(k_nan), max_(k_nan) {
  if (k_ < k_kll_min_k) {
    throw Error::usage(fmt::format("KLL k must be at least {}, got {}", k_kll_min_k, k_));
  }
  levels_.emplace_back();
  capacity_ = capacity_total();
}

std::uint32_t KllSketch::level_capacity(std::size_t level) const {
  // Levels below the top shrink by c = 2/3 per step down: k·c^(depth), depth = top - level.
  const std::size_t depth = levels_.size() - 1 - level;
  const double cap = std::ceil(static_cast<double>(k_) * std::pow(2.0 / 3.0, static_cast<double>(depth)));
  return std::max(k_kll_min_capacity, static_cast<std::uint32_t>(cap));
}

bool KllSketch::next_bit() { return (splitmix64(rng_) >> 63) != 0; }

std::size_t KllSketch::capacity_total() const {
  std::size_t total = 0;
  for (std::size_t h = 0; h < levels_.size(); ++h) {
    total += level_capacity(h);
  }
  return total;
}

void KllSketch::update(double x) {
  if (std::isnan(x)) {
    return;
  }
  if (n_ == 0) {
    min_ = x;
    max_ = x;
  } else {
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
  }
  ++n_;
  levels_[0].push_back(x);
  ++retained_;
  if (retained_ >= capacity_) {
    compress();
  }
}

// Lazy KLL (as in Karnin–Lang–Liberty's reference code): only when the whole sketch is full,
// compact the lowest level at or over its capacity: sort, keep the odd or the even positions (a
// fair coin from the seeded generator), promote them one level up with double weight. With an odd
// count the smallest item stays behind, so weights always add up to n exactly.
void KllSketch::compress() {
  while (retained_ >= capacity_) {
    std::size_t h = 0;
    while (h < levels_.size() && levels_[h].size() < level_capacity(h)) {
      ++h;
    }
    if (h == levels_.size()) {
      return;  // cannot happen: a full sketch has a full level
    }
    if (h + 1 == levels_.size()) {
      levels_.emplace_back();
      capacity_ = capacity_total();
    }
    auto& level = levels_[h];
    std::sort(level.begin(), level.end());
    const std::size_t keep_one = level.size() % 2;  // the smallest stays when odd
    const std::size_t offset = next_bit() ? 1 : 0;
    auto& up = levels_[h + 1];
    for (std::size_t i = keep_one + offset; i < level.size(); i += 2) {
      up.push_back(level[i]);
    }
    retained_ -= (level.size() - keep_one) / 2;
    level.resize(keep_one);
  }
}

void KllSketch::merge(const KllSketch& other) {
  if (other.k_ != k_) {
    throw Error::usage(fmt::format("cannot merge KLL sketches with different k ({} and {})", k_, other.k_));
  }
  if (other.n_ == 0) {
    return;
  }
  if (n_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  n_ += other.n_;
  if (levels_.size() < other.levels_.size()) {
    levels_.resize(other.levels_.size());
    capacity_ = capacity_total();
  }
  for (std::size_t h = 0; h < other.levels_.size(); ++h) {
    levels_[h].insert(levels_[h].end(), other.levels_[h].begin(), other.levels_[h].end());
  }
  retained_ += other.retained_;
  compress();
}

std::vector<std::pair<double, std::uint64_t>> KllSketch::weighted_items() const {
  std::vector<std::pair<double, std::uint64_t>> items;
  items.reserve(retained());
  for (std::size_t h = 0; h < levels_.size(); ++h) {
    const std::uint64_t weight = std::uint64_t{1} << h;
    for (double x : levels_[h]) {
      items.emplace_back(x, weight);
    }
  }
  std::sort(items.begin(), items.end());
  // Equal values merge into one entry so that ranks are well defined.
  std::vector<std::pair<double, std::uint64_t>> merged;
  merged.reserve(items.size());
  for (const auto& item : items) {
    if (!merged.empty() && merged.back().first == item.first) {
      merged.back().second += item.second;
    } else {
      merged.push_back(item);
    }
  }
  return merged;
}

double KllSketch::rank(double x) const {
  if (n_ == 0) {
    return 0;
  }
  std::uint64_t below = 0;
  for (std::size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) {
      if (v <= x) {
        below += std::uint64_t{1} << h;
      }
    }
  }
  return static_cast<double>(below) / static_cast<double>(n_);
}

double KllSketch::quantile(double q) const {
  const double qs[] = {q};
  return quantiles(qs).front();
}

std::vector<double> KllSketch::quantiles(std::span<const double> qs) const {
  for (double q : qs) {
    if (!(q >= 0.0 && q <= 1.0)) {
      throw Error::usage(fmt::format("quantile rank must be in [0, 1], got {}", q));
    }
  }
  std::vector<double> out;
  out.reserve(qs.size());
  if (n_ == 0) {
    out.assign(qs.size(), k_nan);
    return out;
  }
  const auto items = weighted_items();
  const double total = static_cast<double>(n_);
  for (double q : qs) {
    if (q <= 0.0) {
      out.push_back(min_);
      continue;
    }
    if (q >= 1.0) {
      out.push_back(max_);
      continue;
    }
    const double target = q * total;
    double cumulative = 0;
    double answer = max_;
    for (const auto& [value, weight] : items) {
      cumulative += static_cast<double>(weight);
      if (cumulative >= target - 1e-9 * total) {
        answer = value;
        break;
      }
    }
    out.push_back(answer);
  }
  return out;
}

std::vector<double> KllSketch::cdf(std::span<const double> split_points) const {
  for (std::size_t i = 0; i < split_points.size(); ++i) {
    if (std::isnan(split_points[i]) || (i > 0 && !(split_points[i - 1] < split_points[i]))) {
      throw Error::usage("cdf split points must be strictly increasing numbers");
    }
  }
  std::vector<double> out(split_points.size() + 1, 0.0);
  out.back() = 1.0;
  if (n_ == 0) {
    return out;
  }
  const auto items = weighted_items();
  const double total = static_cast<double>(n_);
  std::size_t at = 0;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < split_points.size(); ++i) {
    while (at < items.size() && items[at].first <= split_points[i]) {
      cumulative += items[at].second;
      ++at;
    }
    out[i] = static_cast<double>(cumulative) / total;
  }
  return out;
}

std::vector<double> KllSketch::pmf(std::span<const double> split_points) const {
  auto c = cdf(split_points);
  for (std::size_t i = c.size(); i-- > 1;) {
    c[i] -= c[i - 1];
  }
  return c;
}

double KllSketch::normalized_rank_error() const { return 2.296 / std::pow(static_cast<double>(k_), 0.9723); }

json KllSketch::to_json() const {
  json levels = json::array();
  for (const auto& level : levels_) {
    levels.push_back(level);
  }
  return json{{"k", k_},
              {"n", n_},
              {"min", finite_or_null(min_)},
              {"max", finite_or_null(max_)},
              {"rng", rng_},
              {"levels", std::move(levels)}};
}

KllSketch KllSketch::from_json(const json& j) {
  const auto k = get_u64(j, "k");
  if (k < k_kll_min_k || k > 65535) {
    throw Error::usage(fmt::format("\"k\" must be {}..65535, got {}", k_kll_min_k, k));
  }
  KllSketch s(static_cast<std::uint16_t>(k), get_u64(j, "rng"));
  s.n_ = get_u64(j, "n");
  const auto& levels = member(j, "levels");
  if (!levels.is_array() || levels.empty()) {
    throw Error::usage("\"levels\" must be a non-empty array of arrays of numbers");
  }
  if (levels.size() > 64) {
    throw Error::usage("\"levels\" has more than 64 levels");
  }
  s.levels_.assign(levels.size(), {});
  std::uint64_t weight_total = 0;
  for (std::size_t h = 0; h < levels.size(); ++h) {
    if (!levels[h].is_array()) {
      throw Error::usage(fmt::format("\"levels\"[{}] must be an array of numbers", h));
    }
    for (const auto& v : levels[h]) {
      if (!v.is_number()) {
        throw Error::usage(fmt::format("\"levels\"[{}] holds a value that is not a number", h));
      }
      s.levels_[h].push_back(v.get<double>());
      weight_total += std::uint64_t{1} << h;
      ++s.retained_;
    }
  }
  s.capacity_ = s.capacity_total();
  if (s.retained_ >= s.capacity_) {
    throw Error::usage("the levels hold more items than the sketch's capacity");
  }
  if (weight_total != s.n_) {
    throw Error::usage(fmt::format("\"n\" is {} but the levels hold a weight of {}", s.n_, weight_total));
  }
  if (s.n_ == 0) {
    if (!member(j, "min").is_null() || !member(j, "max").is_null()) {
      throw Error::usage("an empty sketch must have null min and max");
    }
  } else {
    s.min_ = get_double(j, "min");
    s.max_ = get_double(j, "max");
    if (!(s.min_ <= s.max_)) {
      throw Error::usage("\"min\" must not exceed \"max\"");
    }
    for (const auto& level : s.levels_) {
      for (double v : level) {
        if (v < s.min_ || v > s.max_) {
          throw Error::usage("a retained item lies outside [min, max]");
        }
      }
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// HllSketch

HllSketch::HllSketch(std::uint8_t lg_k) : lg_k_(lg_k) {
  if (lg_k_ < 4 || lg_k_ > 18) {
    throw Error::usage(fmt::format("HLL lg_k must be 4..18, got {}", lg_k_));
  }
  registers_.assign(std::size_t{1} << lg_k_, 0);
}

void HllSketch::update_hash(std::uint64_t hash) {
  const std::size_t index = static_cast<std::size_t>(hash >> (64 - lg_k_));
  const std::uint64_t rest = hash << lg_k_;
  // Rank = position of the first 1 bit in the remaining 64 - lg_k bits; all-zero gets q + 1.
  const int q = 64 - lg_k_;
  const auto rho = static_cast<std::uint8_t>(rest == 0 ? q + 1 : std::countl_zero(rest) + 1);
  if (rho > registers_[index]) {
    registers_[index] = rho;
  }
}

void HllSketch::merge(const HllSketch& other) {
  if (other.lg_k_ != lg_k_) {
    throw Error::usage(fmt::format("cannot merge HLL sketches with different lg_k ({} and {})", lg_k_, other.lg_k_));
  }
  for (std::size_t i = 0; i < registers_.size(); ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

bool HllSketch::empty() const {
  return std::all_of(registers_.begin(), registers_.end(), [](std::uint8_t r) { return r == 0; });
}

double HllSketch::standard_error() const { return 1.04 / std::sqrt(static_cast<double>(registers_.size())); }

namespace {

// Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017), algorithm 6.
double ertl_sigma(double x) {
  if (x == 1.0) {
    return k_inf;
  }
  double y = 1.0;
  double z = x;
  for (;;) {
    x *= x;
    const double before = z;
    z += x * y;
    y += y;
    if (z == before) {
      return z;
    }
  }
}

double ertl_tau(double x) {
  if (x == 0.0 || x == 1.0) {
    return 0.0;
  }
  double y = 1.0;
  double z = 1.0 - x;
  for (;;) {
    x = std::sqrt(x);
    const double before = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == before) {
      return z / 3.0;
    }
  }
}

}  // namespace

double HllSketch::estimate() const {
  const int q = 64 - lg_k_;
  std::vector<double> histogram(static_cast<std::size_t>(q) + 2, 0.0);
  for (std::uint8_t r : registers_) {
    histogram[r] += 1.0;
  }
  const double m = static_cast<double>(registers_.size());
  double z = m * ertl_tau(1.0 - histogram[static_cast<std::size_t>(q) + 1] / m);
  for (int k = q; k >= 1; --k) {
    z = 0.5 * (z + histogram[static_cast<std::size_t>(k)]);
  }
  z += m * ertl_sigma(histogram[0] / m);
  if (std::isinf(z)) {
    return 0.0;
  }
  const double alpha_inf = 1.0 / (2.0 * std::log(2.0));
  return alpha_inf * m * m / z;
}

json HllSketch::to_json() const {
  // All-zero registers (the common case for rarely-set fields) are written as "".
  const bool all_zero = empty();
  return json{{"lg_k", lg_k_},
              {"registers", all_zero ? std::string()
                                     : crypto::base64_encode(std::string_view(
                                           reinterpret_cast<const char*>(registers_.data()), registers_.size()))}};
}

HllSketch HllSketch::from_json(const json& j) {
  const auto lg_k = get_u64(j, "lg_k");
  if (lg_k < 4 || lg_k > 18) {
    throw Error::usage(fmt::format("\"lg_k\" must be 4..18, got {}", lg_k));
  }
  HllSketch s(static_cast<std::uint8_t>(lg_k));
  const auto& regs = member(j, "registers");
  if (!regs.is_string()) {
    throw Error::usage("\"registers\" must be a base64 string");
  }
  const auto& text = regs.get_ref<const std::string&>();
  if (text.empty()) {
    return s;
  }
  std::string raw;
  try {
    raw = crypto::base64_decode(text);
  } catch (const Error&) {
    throw Error::usage("\"registers\" is not valid base64");
  }
  if (raw.size() != s.registers_.size()) {
    throw Error::usage(fmt::format("\"registers\" holds {} bytes, expected {}", raw.size(), s.registers_.size()));
  }
  const int q = 64 - static_cast<int>(lg_k);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto r = static_cast<std::uint8_t>(raw[i]);
    if (r > q + 1) {
      throw Error::usage(fmt::format("\"registers\"[{}] is {}, above the maximum {}", i, r, q + 1));
    }
    s.registers_[i] = r;
  }
  if (s.empty()) {
    throw Error::usage("\"registers\" must be \"\" when all registers are zero");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// FrequentItems

void FrequentItems::purge(std::uint64_t amount) {
  if (amount == 0) {
    return;
  }
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (it->second <= amount) {
      it = counts_.erase(it);
    } else {
      it->second -= amount;
      ++it;
    }
  }
  offset_ += amount;
}

void FrequentItems::update(std::string_view item, std::uint64_t weight) {
  if (weight == 0) {
    return;
  }
  total_ += weight;
  if (const auto it = counts_.find(item); it != counts_.end()) {
    it->second += weight;
    return;
  }
  if (counts_.size() < k_max_entries) {
    counts_.emplace(std::string(item), weight);
    return;
  }
  // Full: the new item and every counter lose min(weight, smallest counter) (Misra–Gries). At least
  // one of them drops to zero, so a remaining weight always finds room.
  std::uint64_t smallest = weight;
  for (const auto& [value, count] : counts_) {
    smallest = std::min(smallest, count);
  }
  purge(smallest);
  weight -= smallest;
  if (weight > 0) {
    counts_.emplace(std::string(item), weight);
  }
}

void FrequentItems::merge(const FrequentItems& other) {
  for (const auto& [value, count] : other.counts_) {
    counts_[value] += count;
  }
  total_ += other.total_;
  offset_ += other.offset_;
  if (counts_.size() > k_max_entries) {
    // Subtract the (k+1)-th largest count from all: at most k counters survive (Agarwal et al.,
    // "Mergeable summaries", 2012).
    std::vector<std::uint64_t> values;
    values.reserve(counts_.size());
    for (const auto& [value, count] : counts_) {
      values.push_back(count);
    }
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k_max_entries), values.end(),
                     std::greater<>());
    purge(values[k_max_entries]);
  }
}

std::vector<FrequentItems::Item> FrequentItems::top(std::size_t k) const {
  std::vector<Item> items;
  items.reserve(counts_.size());
  for (const auto& [value, count] : counts_) {
    items.push_back({value, count, count + offset_});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.estimate != b.estimate ? a.estimate > b.estimate : a.value < b.value;
  });
  if (items.size() > k) {
    items.resize(k);
  }
  return items;
}

json FrequentItems::to_json() const {
  std::vector<std::pair<std::string, std::uint64_t>> sorted(counts_.begin(), counts_.end());
  std::sort(sorted.begin(), sorted.end());
  json items = json::array();
  for (const auto& [value, count] : sorted) {
    items.push_back(json::array({value, count}));
  }
  return json{{"total", total_}, {"error", offset_}, {"items", std::move(items)}};
}

FrequentItems FrequentItems::from_json(const json& j) {
  FrequentItems f;
  f.total_ = get_u64(j, "total");
  f.offset_ = get_u64(j, "error");
  const auto& items = member(j, "items");
  if (!items.is_array() || items.size() > k_max_entries) {
    throw Error::usage(fmt::format("\"items\" must be an array of at most {} [value, count] pairs", k_max_entries));
  }
  std::uint64_t sum = 0;
  for (const auto& item : items) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_string() || !item[1].is_number_unsigned() ||
        item[1].get<std::uint64_t>() == 0) {
      throw Error::usage("each of \"items\" must be [string, positive count]");
    }
    const auto& value = item[0].get_ref<const std::string&>();
    if (!f.counts_.emplace(value, item[1].get<std::uint64_t>()).second) {
      throw Error::usage(fmt::format("\"items\" lists \"{}\" twice", value));
    }
    sum += item[1].get<std::uint64_t>();
  }
  if (sum > f.total_) {
    throw Error::usage("\"items\" counts add up to more than \"total\"");
  }
  return f;
}

}  // namespace aiot::lineage
