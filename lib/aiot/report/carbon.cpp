// Carbon per deployment, SCI-style (lineage-governance.md §5; docs/report-metrics.md §5).
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/report/metrics.hpp"
#include "aiot/report/metrics_csv.hpp"

namespace aiot::report {
namespace {

constexpr double k_hours_per_year = 8760.0;

std::optional<double> optional_number(const detail::CsvRow& row, std::optional<std::size_t> column,
                                      std::string_view source, std::string_view name) {
  const std::string_view text = detail::field(row, column);
  if (text.empty()) {
    return std::nullopt;
  }
  return detail::parse_number(text, source, row.line, name);
}

}  // namespace

double default_pue(std::string_view cloud_grid_key) {
  const std::string key = str::to_lower(cloud_grid_key);
  // Cloud Carbon Footprint's provider averages (lineage-governance.md §5.2).
  if (key.rfind("aws:", 0) == 0) {
    return 1.135;
  }
  if (key.rfind("gcp:", 0) == 0) {
    return 1.1;
  }
  if (key.rfind("azure:", 0) == 0) {
    return 1.185;
  }
  return 1.0;
}

std::vector<EnergyRow> parse_energy_csv(std::string_view text, std::string_view source) {
  const auto table = detail::parse_csv(text, source);
  std::vector<EnergyRow> rows;
  rows.reserve(table.rows.size());
  if (table.column("energy_consumed")) {
    // CodeCarbon emissions.csv: energy_consumed in kWh, emissions in kg, duration in s.
    const auto energy = table.require("energy_consumed", source);
    const auto project = table.column("project_name");
    const auto timestamp = table.column("timestamp");
    const auto run_id = table.column("run_id");
    const auto duration = table.column("duration");
    const auto emissions = table.column("emissions");
    const auto country = table.column("country_iso_code");
    const auto region = table.column("region");
    const auto provider = table.column("cloud_provider");
    const auto cloud_region = table.column("cloud_region");
    const auto pue = table.column("pue");
    for (const auto& row : table.rows) {
      EnergyRow e;
      e.timestamp = detail::field(row, timestamp);
      e.deployment = detail::field(row, project);
      if (e.deployment.empty()) {
        e.deployment = detail::field(row, run_id);
      }
      // Convention: project_name "<site>/<model_version>" attributes the row to a deployment.
      if (auto slash = e.deployment.find('/'); slash != std::string::npos) {
        e.site = e.deployment.substr(0, slash);
        e.model_version = e.deployment.substr(slash + 1);
      }
      e.energy_kwh = detail::parse_number(detail::field(row, energy), source, row.line, "energy_consumed");
      e.duration_s = optional_number(row, duration, source, "duration").value_or(0.0);
      e.emissions_kg = optional_number(row, emissions, source, "emissions");
      e.country_iso_code = detail::field(row, country);
      e.region = detail::field(row, region);
      e.cloud_provider = detail::field(row, provider);
      e.cloud_region = detail::field(row, cloud_region);
      e.pue = optional_number(row, pue, source, "pue");
      if (e.energy_kwh < 0.0) {
        throw Error::usage(fmt::format("{}:{}: energy_consumed is negative", source, row.line));
      }
      rows.push_back(std::move(e));
    }
    return rows;
  }
  if (table.column("energy_kwh")) {
    const auto energy = table.require("energy_kwh", source);
    const auto date = table.column("date");
    const auto site = table.require("site", source);
    const auto version = table.require("model_version", source);
    for (const auto& row : table.rows) {
      EnergyRow e;
      e.timestamp = detail::field(row, date);
      e.site = detail::field(row, site);
      e.model_version = detail::field(row, version);
      e.deployment = e.site + "/" + e.model_version;
      e.energy_kwh = detail::parse_number(detail::field(row, energy), source, row.line, "energy_kwh");
      if (e.energy_kwh < 0.0) {
        throw Error::usage(fmt::format("{}:{}: energy_kwh is negative", source, row.line));
      }
      rows.push_back(std::move(e));
    }
    return rows;
  }
  throw Error::usage(fmt::format("{}: not an energy file: no energy_consumed (CodeCarbon) or energy_kwh column", source),
                     "give CodeCarbon's emissions.csv or a CSV with date,site,model_version,energy_kwh");
}

std::vector<DeploymentCarbon> carbon_per_deployment(std::span<const DeploymentEnergy> deployments,
                                                    const CarbonTable& table, const CarbonOptions& options) {
  std::vector<DeploymentCarbon> out;
  out.reserve(deployments.size());
  auto intensity_for = [&](const std::string& key) {
    if (options.intensity_override_g_per_kwh) {
      return GridIntensity{*options.intensity_override_g_per_kwh, "policy override", "policy", 0, false};
    }
    return table.lookup(key);
  };
  for (const auto& d : deployments) {
    DeploymentCarbon c;
    c.site = d.site;
    c.model_version = d.model_version;
    c.device_intensity = intensity_for(d.grid_key);
    c.pue = d.pue.value_or(default_pue(d.cloud_grid_key));
    c.cloud_kwh_with_pue = d.cloud_kwh * c.pue;
    c.cloud_intensity = d.cloud_kwh > 0.0 ? intensity_for(d.cloud_grid_key) : GridIntensity{};

    if (d.measured_kwh) {
      c.energy_method = "measured";
      c.device_kwh = Stat::of(*d.measured_kwh);
    } else if (d.device_power_w) {
      c.energy_method = "device power × time";
      c.device_kwh = Stat::of(*d.device_power_w * d.hours * static_cast<double>(d.devices) / 1000.0);
    } else if (d.inference_energy_j) {
      c.energy_method = "energy per inference";
      c.device_kwh = Stat::of(*d.inference_energy_j * static_cast<double>(d.inferences) / 3.6e6);
    } else {
      c.energy_method = "none";
      c.device_kwh = Stat::none("no energy input (device power, energy per inference or energy file)");
    }

    if (c.device_kwh.has_value()) {
      c.operational_kg = Stat::of((*c.device_kwh.value * c.device_intensity.g_per_kwh +
                                   c.cloud_kwh_with_pue * c.cloud_intensity.g_per_kwh) /
                                  1000.0);
    } else {
      c.operational_kg = Stat::none(c.device_kwh.missing);
    }
    if (!options.include_embodied) {
      c.embodied_kg = Stat::none("excluded by policy");
    } else if (!d.embodied_kg_per_device) {
      c.embodied_kg = Stat::none("no embodied carbon given");
    } else if (!(d.lifetime_years > 0.0)) {
      c.embodied_kg = Stat::none("device lifetime must be > 0");
    } else {
      // SCI M = TE × TR/EL: the share of the device's lifetime the period used.
      c.embodied_kg = Stat::of(*d.embodied_kg_per_device * static_cast<double>(d.devices) * d.hours /
                               (d.lifetime_years * k_hours_per_year));
      c.embodied_included = true;
    }
    if (c.operational_kg.has_value()) {
      const double total = *c.operational_kg.value + (c.embodied_included ? *c.embodied_kg.value : 0.0);
      c.total_kg = Stat::of(total);
      if (d.inferences > 0) {
        c.per_1000_inferences_kg = Stat::of(total * 1000.0 / static_cast<double>(d.inferences));
        c.per_inference_g = Stat::of(total * 1000.0 / static_cast<double>(d.inferences));
      } else {
        c.per_1000_inferences_kg = c.per_inference_g = Stat::none("not computable: no inferences in the period");
      }
    } else {
      c.total_kg = c.per_1000_inferences_kg = c.per_inference_g = Stat::none(c.operational_kg.missing);
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const DeploymentCarbon& a, const DeploymentCarbon& b) {
    return std::tie(a.model_version, a.site) < std::tie(b.model_version, b.site);
  });
  return out;
}

}  // namespace aiot::report
