// CarbonTable: the shipped grid intensities as lookup keys, plus user and policy overrides.
#include <cmath>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/report/carbon_table.hpp"
#include "aiot/report/metrics.hpp"
#include "aiot/report/metrics_csv.hpp"

namespace aiot::report {
namespace carbon_data {

double province_intensity(const ProvinceMix& mix) {
  return (mix.coal * k_coal_g_per_kwh + mix.petroleum * k_petroleum_g_per_kwh +
          mix.natural_gas * k_natural_gas_g_per_kwh) /
         mix.total;
}

}  // namespace carbon_data

namespace {

constexpr const char* k_source_owid =
    "Our World in Data, based on Ember and the Energy Institute Statistical Review of World Energy, via CodeCarbon";
constexpr const char* k_source_gcp = "Google Cloud region carbon data (grid carbon intensity), via CodeCarbon";
constexpr const char* k_source_egrid = "US EPA eGRID2016 state output emission rates, via CodeCarbon";
constexpr const char* k_source_cer =
    "Canada Energy Regulator, Canada's Energy Future 2023 (generation shares; CodeCarbon fuel factors), via CodeCarbon";
constexpr const char* k_source_entsoe = "ENTSO-E based historical averages, via CodeCarbon";
constexpr const char* k_source_world = "IEA Global Energy & CO2 Status Report 2019 (world average), via CodeCarbon";

std::string normalise(std::string_view key) { return str::to_lower(str::trim(key)); }

}  // namespace

CarbonTable CarbonTable::builtin() {
  using namespace carbon_data;
  CarbonTable table;
  for (const auto& f : countries()) {
    table.entries_[normalise(f.key)] = {f.value, f.key, k_source_owid, f.year, false};
  }
  for (const auto& f : gcp_regions()) {
    table.entries_[normalise(fmt::format("gcp:{}", f.key))] = {f.value, fmt::format("gcp:{}", f.key), k_source_gcp,
                                                                f.year, false};
  }
  for (const auto& f : us_states_lb_per_mwh()) {
    const std::string key = fmt::format("US-{}", f.key);
    table.entries_[normalise(key)] = {f.value * k_lb_per_mwh_to_g_per_kwh, key, k_source_egrid, f.year, false};
  }
  for (const auto& p : canada_provinces()) {
    const std::string key = fmt::format("CA-{}", p.code);
    table.entries_[normalise(key)] = {province_intensity(p), key, k_source_cer, 2023, false};
  }
  for (const auto& f : nordic_zones()) {
    table.entries_[normalise(f.key)] = {f.value, f.key, k_source_entsoe, f.year, false};
  }
  for (const auto& c : cloud_locations()) {
    auto it = table.entries_.find(normalise(c.location));
    if (it == table.entries_.end()) {
      continue;  // carbon_table.py refuses to generate such a row
    }
    GridIntensity g = it->second;
    const std::string key = fmt::format("{}:{}", c.provider, c.region);
    g.key = fmt::format("{} ({})", key, it->second.key);
    g.source = fmt::format("{}; region located in {} (aiot region map)", it->second.source, it->second.key);
    table.entries_[normalise(key)] = std::move(g);
  }
  table.entries_["world"] = {world_average(), "world", k_source_world, 2019, false};
  return table;
}

void CarbonTable::set(std::string key, double g_per_kwh, int year, std::string source) {
  if (!(g_per_kwh >= 0.0) || !std::isfinite(g_per_kwh)) {
    throw Error::usage(fmt::format("grid intensity for '{}' must be a non-negative number of gCO2e/kWh", key));
  }
  const std::string k = normalise(key);
  if (k.empty()) {
    throw Error::usage("grid intensity override without a key");
  }
  entries_[k] = {g_per_kwh, std::string(str::trim(key)), std::move(source), year, false};
}

void CarbonTable::load_csv(const std::string& path) {
  const std::string text = fs::read_file(path);
  const auto table = detail::parse_csv(text, path);
  const auto key = table.require("key", path);
  const auto value = table.require("g_per_kwh", path);
  const auto year = table.column("year");
  const auto source = table.column("source");
  for (const auto& row : table.rows) {
    const std::string_view k = detail::field(row, key);
    if (k.empty()) {
      throw Error::usage(fmt::format("{}:{}: key is empty", path, row.line));
    }
    const double v = detail::parse_number(detail::field(row, value), path, row.line, "g_per_kwh");
    int y = 0;
    if (!detail::field(row, year).empty()) {
      y = static_cast<int>(detail::parse_number(detail::field(row, year), path, row.line, "year"));
    }
    std::string s(detail::field(row, source));
    try {
      set(std::string(k), v, y, s.empty() ? fmt::format("intensity file {}", path) : s);
    } catch (const Error& e) {
      throw e.with_prefix(fmt::format("{}:{}: ", path, row.line));
    }
  }
}

std::optional<GridIntensity> CarbonTable::find(std::string_view key) const {
  auto it = entries_.find(normalise(key));
  if (it == entries_.end()) {
    return std::nullopt;
  }
  return it->second;
}

GridIntensity CarbonTable::lookup(std::string_view key) const {
  if (auto found = find(key)) {
    return *found;
  }
  GridIntensity world = find("world").value_or(
      GridIntensity{k_world_average_g_per_kwh, "world", k_source_world, 2019, false});
  world.key = key.empty() ? std::string("world (no location given)")
                          : fmt::format("world (no figure for '{}')", key);
  world.fallback = true;
  return world;
}

}  // namespace aiot::report
