// Cost per inference by model version and site (lineage-governance.md §5.3; docs/report-metrics.md §4).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/report/metrics.hpp"
#include "aiot/report/metrics_csv.hpp"

namespace aiot::report {
namespace {

using Key = std::pair<std::string, std::string>;  // (site, model_version)

double& slot(CostRow& row, CostCategory c) {
  switch (c) {
    case CostCategory::messaging: return row.messaging;
    case CostCategory::compute: return row.compute;
    case CostCategory::storage: return row.storage;
    case CostCategory::other: break;
  }
  return row.other;
}

void finish(CostRow& row) {
  row.total = row.messaging + row.compute + row.storage + row.other;
  if (row.inferences > 0) {
    const double per = 1000.0 / static_cast<double>(row.inferences);
    row.per_1000_inferences = Stat::of(row.total * per);
    row.messaging_per_1000_inferences = Stat::of(row.messaging * per);
  } else {
    row.per_1000_inferences = row.messaging_per_1000_inferences =
        Stat::none("not computable: no inferences in the period");
  }
}

void accumulate(CostRow& into, const CostRow& from) {
  into.inferences += from.inferences;
  into.message_blocks += from.message_blocks;
  into.messaging += from.messaging;
  into.compute += from.compute;
  into.storage += from.storage;
  into.other += from.other;
  into.allocated_shared += from.allocated_shared;
}

struct Ledger {
  std::map<Key, CostRow> rows;
  double unallocated = 0.0;

  CostRow& row(const std::string& site, const std::string& version) {
    auto& r = rows[{site, version}];
    r.site = site;
    r.model_version = version;
    return r;
  }

  void add_usage(std::span<const Usage> usage) {
    for (const auto& u : usage) {
      auto& r = row(u.site, u.model_version);
      r.inferences += u.inferences;
      r.message_blocks += u.message_blocks;
    }
  }

  // Spreads `amount` over the rows `match` selects, by their share of inferences.
  template <typename Match>
  void allocate(double amount, CostCategory category, Match match) {
    std::int64_t total = 0;
    for (const auto& [key, r] : rows) {
      if (match(key)) {
        total += r.inferences;
      }
    }
    if (total <= 0) {
      unallocated += amount;
      return;
    }
    for (auto& [key, r] : rows) {
      if (match(key) && r.inferences > 0) {
        const double share = amount * static_cast<double>(r.inferences) / static_cast<double>(total);
        slot(r, category) += share;
        r.allocated_shared += share;
      }
    }
  }

  CostReport finish_report(std::string source, std::string currency, std::string note, const CostOptions& o) {
    CostReport report;
    report.source = std::move(source);
    report.currency = std::move(currency);
    report.unallocated = unallocated;
    report.allocation_note = std::move(note);
    std::map<std::string, CostRow> by_site;
    std::map<std::string, CostRow> by_version;
    for (auto& [key, r] : rows) {
      finish(r);
      report.rows.push_back(r);
      auto& s = by_site[key.first];
      s.site = key.first;
      accumulate(s, r);
      auto& v = by_version[key.second];
      v.model_version = key.second;
      accumulate(v, r);
      accumulate(report.total, r);
    }
    for (auto& [name, r] : by_site) {
      finish(r);
      report.by_site.push_back(r);
    }
    for (auto& [name, r] : by_version) {
      finish(r);
      report.by_model_version.push_back(r);
    }
    // The fleet total carries the unallocated shared cost too: it was spent.
    report.total.other += unallocated;
    finish(report.total);
    for (const auto& [site, budget] : o.budget_per_site) {
      BudgetCheck check;
      check.site = site;
      check.budget = budget;
      if (auto it = by_site.find(site); it != by_site.end()) {
        check.spent = it->second.total;
      }
      check.utilisation = budget > 0.0 ? Stat::of(check.spent / budget) : Stat::none("budget is 0");
      check.over = check.spent > budget;
      report.budgets.push_back(std::move(check));
    }
    return report;
  }
};

}  // namespace

std::string_view to_string(CostCategory c) {
  switch (c) {
    case CostCategory::messaging: return "messaging";
    case CostCategory::compute: return "compute";
    case CostCategory::storage: return "storage";
    case CostCategory::other: break;
  }
  return "other";
}

CostCategory parse_cost_category(std::string_view text) {
  const std::string t = str::to_lower(str::trim(text));
  if (t == "messaging") {
    return CostCategory::messaging;
  }
  if (t == "compute") {
    return CostCategory::compute;
  }
  if (t == "storage") {
    return CostCategory::storage;
  }
  if (t == "other") {
    return CostCategory::other;
  }
  throw Error::usage(fmt::format("unknown cost category '{}'", text),
                     "use one of messaging, compute, storage, other");
}

std::vector<BillingLine> parse_billing_csv(std::string_view text, std::string_view source) {
  const auto table = detail::parse_csv(text, source);
  const auto date = table.require("date", source);
  const auto service = table.column("service");
  const auto category = table.require("category", source);
  const auto site = table.column("site");
  const auto version = table.column("model_version");
  const auto cost = table.require("cost", source);
  const auto currency = table.require("currency", source);
  std::vector<BillingLine> lines;
  lines.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    BillingLine line;
    line.date = detail::field(row, date);
    line.service = detail::field(row, service);
    try {
      line.category = parse_cost_category(detail::field(row, category));
    } catch (const Error& e) {
      throw e.with_prefix(fmt::format("{}:{}: ", source, row.line));
    }
    line.site = detail::field(row, site);
    line.model_version = detail::field(row, version);
    line.cost = detail::parse_number(detail::field(row, cost), source, row.line, "cost");
    line.currency = str::to_upper(detail::field(row, currency));
    if (line.currency.empty()) {
      throw Error::usage(fmt::format("{}:{}: currency is empty", source, row.line));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::int64_t billable_blocks(std::int64_t message_bytes, std::int64_t block_bytes) {
  if (block_bytes <= 0 || message_bytes < 0) {
    throw Error::usage(fmt::format("billable blocks need a positive block size and a non-negative message size, "
                                   "got {} bytes in {}-byte blocks", message_bytes, block_bytes));
  }
  return std::max<std::int64_t>(1, (message_bytes + block_bytes - 1) / block_bytes);
}

CostReport cost_from_billing(std::span<const BillingLine> lines, std::span<const Usage> usage,
                             const CostOptions& options) {
  std::set<std::string> currencies;
  for (const auto& line : lines) {
    currencies.insert(line.currency);
  }
  if (currencies.size() > 1) {
    throw Error::usage(fmt::format("billing lines mix currencies: {}",
                                   str::join({currencies.begin(), currencies.end()}, ", ")),
                       "convert the billing export to one currency first");
  }
  Ledger ledger;
  ledger.add_usage(usage);
  // Direct lines first so every (site, version) that has cost has a row before shared cost is spread.
  for (const auto& line : lines) {
    if (!line.site.empty() && !line.model_version.empty()) {
      slot(ledger.row(line.site, line.model_version), line.category) += line.cost;
    }
  }
  for (const auto& line : lines) {
    if (!line.site.empty() && !line.model_version.empty()) {
      continue;
    }
    if (!options.allocate_shared) {
      ledger.unallocated += line.cost;
    } else if (!line.site.empty()) {
      ledger.allocate(line.cost, line.category, [&](const Key& k) { return k.first == line.site; });
    } else if (!line.model_version.empty()) {
      ledger.allocate(line.cost, line.category, [&](const Key& k) { return k.second == line.model_version; });
    } else {
      ledger.allocate(line.cost, line.category, [](const Key&) { return true; });
    }
  }
  const std::string note =
      options.allocate_shared
          ? "lines without a site or model version are shared by inference count (within their site or version, "
            "else fleet-wide); shared cost with no inferences to carry it is unallocated"
          : "lines without a site or model version are not allocated";
  return ledger.finish_report("billing", currencies.empty() ? std::string() : *currencies.begin(), note, options);
}

CostReport cost_from_prices(std::span<const Usage> usage, const PriceTable& prices, const CostOptions& options) {
  Ledger ledger;
  ledger.add_usage(usage);
  std::int64_t total_blocks = 0;
  for (const auto& u : usage) {
    auto& r = ledger.row(u.site, u.model_version);
    r.compute += u.compute_hours * prices.compute_per_hour;
    r.storage += u.storage_gb_months * prices.storage_per_gb_month;
    total_blocks += u.message_blocks;
  }
  std::string note;
  if (prices.blocks_per_unit_per_day > 0) {
    // Azure IoT Hub: a tier's units are paid per day whatever the traffic; the busiest day sets them.
    const int days = std::max(options.period_days, 1);
    const std::int64_t peak = options.peak_day_blocks > 0 ? options.peak_day_blocks : (total_blocks + days - 1) / days;
    const std::int64_t units = std::max<std::int64_t>(1, (peak + prices.blocks_per_unit_per_day - 1) /
                                                             prices.blocks_per_unit_per_day);
    const double messaging = static_cast<double>(units) * prices.unit_price_per_day * days;
    note = fmt::format("messaging: {} hub unit(s) for a peak of {} blocks/day over {} days, shared by message blocks",
                       units, peak, days);
    if (total_blocks > 0) {
      for (auto& [key, r] : ledger.rows) {
        r.messaging += messaging * static_cast<double>(r.message_blocks) / static_cast<double>(total_blocks);
      }
    } else {
      ledger.unallocated += messaging;
    }
  } else {
    for (auto& [key, r] : ledger.rows) {
      r.messaging += static_cast<double>(r.message_blocks) / 1e6 * prices.per_million_blocks;
    }
    note = fmt::format("messaging: {} per million {}-byte blocks", prices.per_million_blocks, prices.block_bytes);
  }
  return ledger.finish_report("price table", prices.currency, note, options);
}

}  // namespace aiot::report
