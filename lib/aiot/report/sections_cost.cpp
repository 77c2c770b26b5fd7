// Sections 8 (cost per inference) and 9 (carbon per deployment).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "aiot/report/sections.hpp"

namespace aiot::report::detail {

json section_cost(const Inputs& in) {
  json s = make_section("cost", "Cost per inference");
  bool have_prices = in.policy.messaging_per_million_units || in.policy.compute_per_device_hour || in.policy.storage_per_gb_month;
  if (!in.billing && !have_prices) {
    missing_inputs(s, "no billing CSV (--billing) and no price table in the policy (cost.messagingPerMillionUnits, computePerDeviceHour, storagePerGbMonth).");
    return s;
  }
  UsageEstimate usage = estimate_usage(in);
  CostOptions opt;
  opt.period_days = std::max<int>(1, static_cast<int>(in.period.length().count() / 24));
  for (const auto& u : usage.rows) {
    if (auto it = in.policy.site_budgets.find(u.site); it != in.policy.site_budgets.end()) {
      opt.budget_per_site[u.site] = it->second;
    } else if (in.policy.budget_per_site) {
      opt.budget_per_site[u.site] = *in.policy.budget_per_site;
    }
  }
  CostReport r;
  if (in.billing) {
    // Only the period's lines (billing exports often cover a month).
    std::vector<BillingLine> lines;
    for (const auto& l : *in.billing) {
      if (l.date.empty() || (l.date >= format_date(in.period.from) && l.date < format_date(in.period.to))) lines.push_back(l);
    }
    r = cost_from_billing(lines, usage.rows, opt);
  } else {
    PriceTable prices;
    prices.currency = in.policy.currency;
    prices.block_bytes = static_cast<std::int64_t>(in.policy.unit_bytes);
    prices.per_million_blocks = in.policy.messaging_per_million_units.value_or(0.0);
    prices.compute_per_hour = in.policy.compute_per_device_hour.value_or(0.0);
    prices.storage_per_gb_month = in.policy.storage_per_gb_month.value_or(0.0);
    r = cost_from_prices(usage.rows, prices, opt);
  }
  auto money = [&](double v) { return fmt::format("{:.2f}", v); };
  auto per_k = [&](const Stat& st) { return st.value ? fmt::format("{:.4f}", *st.value) : st.missing.empty() ? "—" : st.missing; };
  json rows = json::array(), chart = {{"type", "bar"}, {"title", fmt::format("Cost per 1,000 inferences by model version ({})", r.currency)},
                                      {"unit", r.currency}, {"bars", json::array()}, {"thresholds", json::array()}};
  if (in.policy.max_per_1000_inferences) chart["thresholds"].push_back({{"value", *in.policy.max_per_1000_inferences}, {"label", "policy maximum"}});
  auto row_json = [&](const CostRow& c) {
    return json{{"site", c.site}, {"modelVersion", c.model_version}, {"inferences", c.inferences}, {"messageBlocks", c.message_blocks},
                {"messaging", num(c.messaging)}, {"compute", num(c.compute)}, {"storage", num(c.storage)}, {"other", num(c.other)},
                {"total", num(c.total)}, {"allocatedShared", num(c.allocated_shared)}, {"per1000Inferences", stat_json(c.per_1000_inferences)},
                {"messagingPer1000Inferences", stat_json(c.messaging_per_1000_inferences)}};
  };
  json rows_j = json::array(), by_version = json::array(), by_site = json::array();
  for (const auto& c : r.rows) {
    rows.push_back({c.site, c.model_version.empty() ? "(shared)" : c.model_version, count(c.inferences), count(c.message_blocks), money(c.messaging),
                    money(c.compute), money(c.storage), money(c.other), money(c.total), per_k(c.per_1000_inferences)});
    rows_j.push_back(row_json(c));
  }
  json version_rows = json::array();
  for (const auto& c : r.by_model_version) {
    version_rows.push_back({c.model_version, count(c.inferences), money(c.messaging), money(c.compute + c.storage + c.other), money(c.total),
                            per_k(c.per_1000_inferences), per_k(c.messaging_per_1000_inferences)});
    by_version.push_back(row_json(c));
    std::string status = "pass";
    if (in.policy.max_per_1000_inferences && c.per_1000_inferences.value && *c.per_1000_inferences.value > *in.policy.max_per_1000_inferences) {
      status = "fail";
      add_finding(s, "error", fmt::format("model version {}: {} {} per 1,000 inferences > policy maximum {}", c.model_version,
                                          per_k(c.per_1000_inferences), r.currency, *in.policy.max_per_1000_inferences));
    }
    chart["bars"].push_back({{"label", c.model_version}, {"value", num(c.per_1000_inferences.value.value_or(0.0), 4)}, {"status", status}});
  }
  for (const auto& c : r.by_site) by_site.push_back(row_json(c));
  add_table(s, "By model version (messaging separated from compute and storage)",
            {"Version", "Inferences", "Messaging", "Compute + storage + other", "Total", "per 1,000 inferences", "messaging per 1,000"}, version_rows);
  add_table(s, "By site and model version", {"Site", "Version", "Inferences", "Message blocks", "Messaging", "Compute", "Storage", "Other", "Total",
                                             "per 1,000 inferences"}, rows);
  json budget_rows = json::array(), budgets = json::array();
  int over = 0;
  for (const auto& b : r.budgets) {
    budget_rows.push_back({b.site, money(b.spent), money(b.budget), b.utilisation.value ? pct(*b.utilisation.value) : "—", b.over ? "OVER" : "ok"});
    budgets.push_back({{"site", b.site}, {"spent", num(b.spent)}, {"budget", num(b.budget)}, {"utilisation", stat_json(b.utilisation, 4)}, {"over", b.over}});
    if (b.over) {
      ++over;
      add_finding(s, "error", fmt::format("site {} spent {} {} against a budget of {} for the period", b.site, money(b.spent), r.currency, money(b.budget)));
    }
  }
  if (!budget_rows.empty()) add_table(s, "Budgets per site (for the period)", {"Site", "Spent", "Budget", "Used", "Verdict"}, budget_rows);
  if (!chart["bars"].empty()) s["charts"].push_back(chart);
  add_note(s, fmt::format("Source: {}. Usage: {}.", r.source == "billing" ? "billing CSV" : "the policy's price table", usage.method));
  if (!r.allocation_note.empty()) add_note(s, r.allocation_note);
  if (r.unallocated > 0) add_note(s, fmt::format("{} {} of shared cost had no inferences to carry it.", money(r.unallocated), r.currency));
  s["data"] = {{"source", r.source}, {"currency", r.currency}, {"rows", rows_j}, {"byModelVersion", by_version}, {"bySite", by_site},
               {"total", row_json(r.total)}, {"unallocated", num(r.unallocated)}, {"budgets", budgets}, {"overBudgetSites", over},
               {"usageMethod", usage.method}};
  s["summary"] = fmt::format("{} {} in the period for {} inferences ({} per 1,000); {} site(s) over budget.", money(r.total.total), r.currency,
                             count(r.total.inferences), per_k(r.total.per_1000_inferences), over);
  s["headline"] = {{"cost per 1000 inferences", num(r.total.per_1000_inferences.value)}, {"sites over budget", over}};
  raise(s, "pass");
  return s;
}

json section_carbon(const Inputs& in) {
  json s = make_section("carbon", "Carbon per deployment");
  bool have_power = !in.policy.device_power_w.empty() || in.policy.joules_per_inference > 0;
  if (!in.devices || (!have_power && !in.energy)) {
    missing_inputs(s, !in.devices ? "no registry was read (deployments are model versions per site)."
                                  : "no energy input: give --energy (CodeCarbon emissions.csv or date,site,model_version,energy_kwh) or "
                                    "carbon.devicePowerW / carbon.joulesPerInference in the policy.");
    return s;
  }
  CarbonTable table = in.carbon;
  // Region -> grid key, from the policy (a country code, or a figure of its own).
  std::map<std::string, std::string> grid_key;
  for (const auto& [region, g] : in.policy.grid) {
    if (g.intensity_g_per_kwh) {
      std::string key = "policy:" + region;
      int year = 0;
      try {
        year = g.year.empty() ? 0 : std::stoi(g.year);
      } catch (const std::logic_error&) {
      }
      table.set(key, *g.intensity_g_per_kwh, year, g.source.empty() ? "policy" : g.source);
      grid_key[region] = key;
    } else {
      grid_key[region] = g.country;
    }
  }
  UsageEstimate usage = estimate_usage(in);
  std::map<std::pair<std::string, std::string>, std::int64_t> inferences;
  for (const auto& u : usage.rows) inferences[{u.site, u.model_version}] = u.inferences;
  struct Acc {
    std::int64_t devices = 0;
    double watts = 0;
    bool watts_known = true;
    std::string region;
  };
  std::map<std::pair<std::string, std::string>, Acc> deployments;
  for (const auto& d : *in.devices) {
    std::string site = tag(d, "site");
    if (site.empty()) site = "(no site)";
    auto& a = deployments[{site, model_version(d)}];
    ++a.devices;
    a.region = tag(d, "region");
    auto p = in.policy.device_power_w.find(tag(d, "hw"));
    if (p == in.policy.device_power_w.end()) p = in.policy.device_power_w.find("default");
    if (p != in.policy.device_power_w.end()) {
      a.watts += p->second;
    } else {
      a.watts_known = false;
    }
  }
  std::map<std::pair<std::string, std::string>, double> measured;
  if (in.energy) {
    for (const auto& e : *in.energy) measured[{e.site, e.model_version}] += e.energy_kwh;
  }
  std::vector<DeploymentEnergy> list;
  for (const auto& [key, a] : deployments) {
    DeploymentEnergy de;
    de.site = key.first;
    de.model_version = key.second;
    auto gk = grid_key.find(a.region);
    de.grid_key = gk != grid_key.end() ? gk->second : a.region;
    de.devices = a.devices;
    de.inferences = inferences[key];
    de.hours = static_cast<double>(in.period.length().count());
    if (a.watts_known && !in.policy.device_power_w.empty()) de.device_power_w = a.watts / static_cast<double>(a.devices);
    if (in.policy.joules_per_inference > 0) de.inference_energy_j = in.policy.joules_per_inference;
    if (auto m = measured.find(key); m != measured.end()) de.measured_kwh = m->second;
    list.push_back(de);
  }
  CarbonOptions opt;
  auto results = carbon_per_deployment(list, table, opt);
  json rows = json::array(), deployments_j = json::array();
  std::map<std::string, double> kg_by_version;
  std::set<std::string> sources, fallbacks;
  double total_kg = 0;
  int over = 0;
  for (const auto& c : results) {
    rows.push_back({c.site, c.model_version, c.energy_method, stat_text(c.device_kwh, false, 2), fmt::format("{:.0f} ({})", c.device_intensity.g_per_kwh, c.device_intensity.key),
                    c.device_intensity.year ? std::to_string(c.device_intensity.year) : "—", stat_text(c.total_kg, false, 2),
                    stat_text(c.per_1000_inferences_kg, false, 5)});
    if (c.total_kg.value) {
      kg_by_version[c.model_version] += *c.total_kg.value;
      total_kg += *c.total_kg.value;
      if (in.policy.max_kg_per_deployment && *c.total_kg.value > *in.policy.max_kg_per_deployment) {
        ++over;
        add_finding(s, "error", fmt::format("deployment {} at {}: {} kgCO2e > policy maximum {}", c.model_version, c.site, fixed(*c.total_kg.value, 2),
                                            *in.policy.max_kg_per_deployment));
      }
    }
    sources.insert(fmt::format("{} ({})", c.device_intensity.source, c.device_intensity.year));
    if (c.device_intensity.fallback) fallbacks.insert(c.site);
    deployments_j.push_back({{"site", c.site}, {"modelVersion", c.model_version}, {"energyMethod", c.energy_method}, {"deviceKwh", stat_json(c.device_kwh)},
                             {"cloudKwhWithPue", num(c.cloud_kwh_with_pue)}, {"pue", num(c.pue)},
                             {"intensity", {{"gPerKwh", num(c.device_intensity.g_per_kwh)}, {"key", c.device_intensity.key},
                                            {"source", c.device_intensity.source}, {"year", c.device_intensity.year}, {"fallback", c.device_intensity.fallback}}},
                             {"operationalKg", stat_json(c.operational_kg)}, {"embodiedKg", stat_json(c.embodied_kg)}, {"totalKg", stat_json(c.total_kg)},
                             {"per1000InferencesKg", stat_json(c.per_1000_inferences_kg)}, {"perInferenceG", stat_json(c.per_inference_g)}});
  }
  add_table(s, "Per deployment (model version at a site)", {"Site", "Version", "Energy from", "Device kWh", "Grid gCO2e/kWh", "Year", "kgCO2e", "kgCO2e per 1,000 inferences"}, rows);
  json chart = {{"type", "bar"}, {"title", "kgCO2e per model version in the period"}, {"unit", "kgCO2e"}, {"bars", json::array()}, {"thresholds", json::array()}};
  for (const auto& [v, kg] : kg_by_version) chart["bars"].push_back({{"label", v}, {"value", num(kg, 4)}, {"status", "pass"}});
  if (!chart["bars"].empty()) s["charts"].push_back(chart);
  for (const auto& src : sources) add_note(s, "Grid intensity source: " + src);
  if (!fallbacks.empty()) {
    add_finding(s, "warn", fmt::format("no grid figure for the region of {}: the world average (475 gCO2e/kWh, IEA 2019) was used; map regions to countries in the policy (carbon.regions)",
                                       fmt::join(fallbacks, ", ")));
  }
  add_note(s, fmt::format("Energy = device power × hours (or energy per inference × inferences, or the energy file's measurement); PUE {} applies to the cloud side only. "
                          "Figures carried over from CodeCarbon's tables (MIT), which credit Our World in Data (CC BY 4.0), Ember and the Energy Institute.",
                          in.policy.pue));
  s["data"] = {{"deployments", deployments_j}, {"totalKg", num(total_kg)}, {"overBudget", over}};
  s["summary"] = fmt::format("{} deployments, {} kgCO2e in the period.", results.size(), fixed(total_kg, 2));
  s["headline"] = {{"kgCO2e", num(total_kg, 4)}};
  raise(s, "pass");
  return s;
}

}  // namespace aiot::report::detail
