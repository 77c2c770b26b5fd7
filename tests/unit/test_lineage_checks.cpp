// Every audit check on small hand-built record batches, with exact expected counts.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "aiot/lineage/checks.hpp"
#include "aiot/lineage/ledger.hpp"
#include "aiot/lineage/policy.hpp"
#include "aiot/lineage/profile.hpp"

using namespace aiot::lineage;

namespace {

constexpr std::int64_t k_t0 = 1'795'000'000'000;  // 2026-11-18T...
constexpr std::int64_t k_min = 60'000;

struct Val {
  std::string name;
  enum { num, text, null } kind = num;
  double x = 0;
  std::string s;
};
Val num(std::string n, double x) { return {std::move(n), Val::num, x, {}}; }
Val txt(std::string n, std::string s) { return {std::move(n), Val::text, 0, std::move(s)}; }
Val nul(std::string n) { return {std::move(n), Val::null, 0, {}}; }

// Builds one batch of records by hand.
struct Batch {
  RecordBatch b;
  std::uint64_t offset = 0;
  Record& add(const std::string& device, std::optional<std::int64_t> dev_ts, std::optional<std::int64_t> hub_ts,
              std::vector<Val> values = {}) {
    Record r;
    r.device_id = b.text.keep(device);
    r.device_ts_ms = dev_ts;
    r.hub_ts_ms = hub_ts;
    r.field_begin = static_cast<std::uint32_t>(b.fields.size());
    std::uint64_t h = 1469598103934665603ULL;
    for (const auto& v : values) {
      Field f;
      f.name = b.text.keep(v.name);
      if (v.kind == Val::num) {
        f.kind = Field::Kind::number;
        f.number = v.x;
      } else if (v.kind == Val::text) {
        f.kind = Field::Kind::text;
        f.text = b.text.keep(v.s);
      }
      h = (h ^ static_cast<std::uint64_t>(v.x * 1000)) * 1099511628211ULL;
      b.fields.push_back(f);
    }
    r.field_count = static_cast<std::uint32_t>(values.size());
    r.payload_hash = h;
    r.offset = offset;
    offset += 100;
    b.records.push_back(r);
    return b.records.back();
  }
  // A regular series: n records every `step`, hub time = device time + 2 s.
  void series(const std::string& device, int n, std::int64_t start = k_t0, std::int64_t step = k_min) {
    for (int i = 0; i < n; ++i)
      add(device, start + i * step, start + i * step + 2000, {num("temp", 20 + std::sin(i) * 2)}).seq = i;
  }
};

struct Setup {
  Policy policy;
  SchemaRegistry schemas;
  std::optional<Ledger> ledger;
  std::optional<std::int64_t> from, to;
  Profile* profile = nullptr;
  const Profile* baseline = nullptr;

  Checker check(const RecordBatch& b) {
    CheckerOptions o;
    o.policy = &policy;
    o.schemas = &schemas;
    o.ledger = ledger ? &*ledger : nullptr;
    o.window_from_ms = from;
    o.window_to_ms = to;
    o.profile = profile;
    o.baseline = baseline;
    Checker c(o);
    c.consume(b);
    c.finish();
    return c;
  }
};

std::uint64_t count(const Checker& c, Check k) { return c.result(k).count; }

}  // namespace

TEST_CASE("a clean regular series passes every evaluated check") {
  Batch b;
  b.series("dev-1", 40);
  Setup run;
  Checker c = run.check(b.b);
  for (const auto& r : c.results()) {
    INFO(info(r.check).code);
    CHECK(r.count == 0);
    CHECK((r.outcome() == Outcome::pass || r.outcome() == Outcome::skipped));
  }
  CHECK(c.result(Check::REG001).outcome() == Outcome::skipped);  // no registry
  CHECK(c.result(Check::DRF001).outcome() == Outcome::skipped);
  CHECK(c.stats().records == 40);
  auto devices = c.devices();
  REQUIRE(devices.size() == 1);
  CHECK(devices[0].interval_ms == k_min);
  CHECK(devices[0].score() == 1.0);
}

TEST_CASE("TS001: unparseable device time and records without any time") {
  Batch b;
  b.series("dev-1", 5);
  auto& r = b.add("dev-1", std::nullopt, k_t0 + 6 * k_min);
  r.device_ts_invalid = true;
  r.device_ts_text = "yesterday";
  b.add("dev-1", std::nullopt, std::nullopt);
  Setup run;
  auto c = run.check(b.b);
  CHECK(count(c, Check::TS001) == 2);
  CHECK(c.result(Check::TS001).outcome() == Outcome::fail);
  REQUIRE(!c.result(Check::TS001).examples.empty());
  CHECK(c.result(Check::TS001).examples[0].offset == 500);
  CHECK(c.result(Check::TS001).examples[0].detail.find("yesterday") != std::string::npos);
}

TEST_CASE("TS002: future device times, warn beyond 5 min and error beyond 1 h") {
  Batch b;
  b.series("dev-1", 10);
  b.add("dev-1", k_t0 + 20 * k_min, k_t0 + 10 * k_min);  // 10 min ahead: warn
  b.add("dev-1", k_t0 + 11 * k_min + 4 * k_min, k_t0 + 11 * k_min);  // 4 min: fine
  Setup run;
  auto c = run.check(b.b);
  CHECK(count(c, Check::TS002) == 1);
  CHECK(c.result(Check::TS002).outcome() == Outcome::warn);

  b.add("dev-1", k_t0 + 200 * k_min, k_t0 + 12 * k_min);  // > 1 h ahead: error
  auto c2 = run.check(b.b);
  CHECK(count(c2, Check::TS002) == 2);
  CHECK(c2.result(Check::TS002).errors == 1);
  CHECK(c2.result(Check::TS002).outcome() == Outcome::fail);
}

TEST_CASE("TS003: median clock skew per device") {
  Batch b;
  for (int i = 0; i < 20; ++i) b.add("slow", k_t0 + i * k_min, k_t0 + i * k_min + 90'000);       // 90 s behind: warn
  for (int i = 0; i < 20; ++i) b.add("way-off", k_t0 + i * k_min, k_t0 + i * k_min + 600'000);   // 10 min: error
  for (int i = 0; i < 20; ++i) b.add("fine", k_t0 + i * k_min, k_t0 + i * k_min + (i == 3 ? 900'000 : 1000));
  Setup run;
  run.policy.defaults.late_after_ms = 3'600'000;  // keep TS007 out of it
  auto c = run.check(b.b);
  CHECK(count(c, Check::TS003) == 2);
  CHECK(c.result(Check::TS003).errors == 1);
  CHECK(c.result(Check::TS003).denominator == 3);
  auto devices = c.devices();
  CHECK(devices[0].id == "fine");
  CHECK(devices[0].skew_ms == 1000);
  CHECK(devices[1].skew_ms == 90'000);
}

TEST_CASE("TS004 and TS007: backwards device times; seq tells an out-of-order arrival from a clock jump") {
  Batch b;
  b.series("dev-1", 5);
  b.add("dev-1", k_t0 + 3 * k_min + 30'000, k_t0 + 5 * k_min + 2000).seq = 5;  // backwards, seq goes on: clock
  b.add("dev-1", k_t0 + 6 * k_min, k_t0 + 6 * k_min + 2000).seq = 6;
  b.add("dev-1", k_t0 + 5 * k_min, k_t0 + 6 * k_min + 3000).seq = 4;  // seq went back: out of order (not late)
  b.add("dev-1", k_t0 + 7 * k_min, k_t0 + 7 * k_min + 2000).seq = 7;
  b.add("dev-1", k_t0 + 8 * k_min, k_t0 + 8 * k_min + 20 * k_min).seq = 8;  // 20 min late
  Setup run;
  auto c = run.check(b.b);
  CHECK(count(c, Check::TS004) == 1);
  CHECK(count(c, Check::TS007) == 2);
  CHECK(c.result(Check::TS007).outcome() == Outcome::warn);
}

TEST_CASE("TS005: duplicates by message id and by (device time, payload); left out of other checks") {
  Batch b;
  b.series("dev-1", 5);
  b.b.records[2].message_id = b.b.text.keep("m-2");
  auto& dup1 = b.add("dev-1", k_t0 + 9 * k_min, k_t0 + 9 * k_min);
  dup1.message_id = b.b.text.keep("m-2");                          // same id, other content
  b.add("dev-1", k_t0 + 4 * k_min, k_t0 + 4 * k_min + 5000, {num("temp", 20 + std::sin(4) * 2)});  // same ts + payload
  Setup run;
  auto c = run.check(b.b);
  CHECK(count(c, Check::TS005) == 2);
  CHECK(c.stats().duplicates == 2);
  CHECK(c.stats().records == 5);
  CHECK(count(c, Check::TS004) == 0);  // the duplicate at t4 is not an inversion
  CHECK(c.result(Check::TS005).runs_total == 1);  // two consecutive records: one run
  REQUIRE(c.result(Check::TS005).runs.size() == 1);
  CHECK(c.result(Check::TS005).runs[0].n == 2);
}

TEST_CASE("TS006: gaps against the learned interval, the policy's and the schema's") {
  Batch b;
  for (int i = 0; i < 30; ++i)
    if (i < 20 || i >= 25) b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min + 1000);  // 5 missing
  b.add("dev-1", k_t0 + 32 * k_min, k_t0 + 32 * k_min + 1000);  // 30..31 missing after 29: 2 missing
  Setup run;
  auto c = run.check(b.b);
  CHECK(count(c, Check::TS006) == 2);
  CHECK(c.result(Check::TS006).actual["missing_records"] == 7);
  REQUIRE(c.result(Check::TS006).runs.size() == 2);
  CHECK(c.result(Check::TS006).runs[0].n == 5);
  CHECK(c.devices()[0].interval_ms == k_min);

  SUBCASE("policy interval of 5 minutes: no gap is long enough") {
    run.policy.defaults.interval_ms = 5 * k_min;
    auto c2 = run.check(b.b);
    CHECK(count(c2, Check::TS006) == 0);
  }
  SUBCASE("a swapped pair without seq: TS004 for the second, and the hole the first left is a gap") {
    Batch o;
    for (int i = 0; i < 30; ++i) {
      int j = (i == 10) ? 11 : (i == 11) ? 10 : i;  // 10 and 11 swapped
      o.add("dev-1", k_t0 + j * k_min, k_t0 + i * k_min + 1000);
    }
    auto c3 = run.check(o.b);
    CHECK(count(c3, Check::TS006) == 1);
    CHECK(count(c3, Check::TS004) == 1);
  }
}

TEST_CASE("FR001: devices silent long before the window end") {
  Batch b;
  b.series("dev-1", 10);
  b.series("dev-2", 10, k_t0 - 3 * 3'600'000);  // stops ~3 h earlier than the window end
  Setup run;
  run.to = k_t0 + 10 * k_min;
  auto c = run.check(b.b);
  CHECK(count(c, Check::FR001) == 1);
  CHECK(c.result(Check::FR001).examples.at(0).device == "dev-2");
  CHECK(c.result(Check::FR001).outcome() == Outcome::warn);
  run.to = k_t0 + 2 * 86'400'000LL;
  auto c2 = run.check(b.b);
  CHECK(count(c2, Check::FR001) == 2);
  CHECK(c2.result(Check::FR001).outcome() == Outcome::fail);
}

TEST_CASE("window: keeps records by hub time from FROM up to, not including, TO") {
  Batch b;
  b.series("dev-1", 10);
  Setup run;
  run.from = k_t0 + 2 * k_min;
  run.to = k_t0 + 7 * k_min;
  auto c = run.check(b.b);
  CHECK(c.stats().records == 5);
  CHECK(c.stats().outside_window == 5);
}

TEST_CASE("CMP001: missing and null values of fields a device sends") {
  Batch b;
  for (int i = 0; i < 20; ++i) {
    std::vector<Val> v = {num("temp", 20 + i % 3), num("hum", 40 + i % 5)};
    if (i == 5) v.pop_back();             // hum missing
    if (i == 9) v[1] = nul("hum");        // hum null
    if (i == 12) v.erase(v.begin());      // temp missing
    b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min + 1000, v);
  }
  Setup run;
  auto c = run.check(b.b);
  CHECK(count(c, Check::CMP001) == 3);
  CHECK(c.result(Check::CMP001).denominator == 40);
  CHECK(c.result(Check::CMP001).actual["by_field"]["hum"] == 2);
  CHECK(c.result(Check::CMP001).outcome() == Outcome::fail);  // 7.5 % > 5 %
  CHECK(c.result(Check::CMP001).runs_total == 3);
  CHECK(c.result(Check::CMP001).examples.at(0).offset == 500);
}

TEST_CASE("RNG001: schema ranges, enums and types; policy ranges without a schema") {
  Batch b;
  for (int i = 0; i < 6; ++i) {
    auto& r = b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min,
                    {num("temp", i == 2 ? 120 : 20), txt("state", i == 4 ? "exploded" : "ok")});
    r.schema_id = b.b.text.keep("env/v1");
  }
  b.add("dev-1", k_t0 + 7 * k_min, k_t0 + 7 * k_min, {txt("temp", "hot")}).schema_id = b.b.text.keep("env/v1");
  b.add("dev-1", k_t0 + 8 * k_min, k_t0 + 8 * k_min, {num("temp", 20)}).schema_id = b.b.text.keep("env/v9");
  Setup run;
  run.schemas.add(SchemaRegistry::parse(
      "id: env/v1\nfields:\n  temp: {type: number, min: -40, max: 85, unit: C}\n  state: {type: string, enum: [ok, degraded]}\n",
      "env.yaml"));
  auto c = run.check(b.b);
  CHECK(count(c, Check::RNG001) == 3);  // 120, "exploded", "hot" is not a number
  CHECK(count(c, Check::SCH001) == 1);
  CHECK(c.result(Check::SCH001).outcome() == Outcome::fail);

  Setup plain;
  plain.policy.defaults.ranges["temp"] = ValueRange{-40, 85, {}};
  auto c2 = plain.check(b.b);
  CHECK(count(c2, Check::RNG001) == 1);
  CHECK(c2.result(Check::SCH001).outcome() == Outcome::skipped);
}

TEST_CASE("STK001: runs of at least 10 equal values") {
  Batch b;
  int i = 0;
  for (; i < 5; ++i) b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", i)});
  for (int j = 0; j < 12; ++j, ++i) b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", 7.5)});
  for (int j = 0; j < 5; ++j, ++i) b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", 100 + j)});
  for (int j = 0; j < 9; ++j, ++i) b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", 3)});  // too short
  for (int j = 0; j < 10; ++j, ++i) b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", 4)});  // at the end
  Setup run;
  run.policy.defaults.enabled[index(Check::OUT001)] = false;
  auto c = run.check(b.b);
  CHECK(count(c, Check::STK001) == 2);
  CHECK(c.result(Check::STK001).actual["samples"] == 22);
  REQUIRE(c.result(Check::STK001).runs.size() == 2);
  CHECK(c.result(Check::STK001).runs[0].n == 12);
  CHECK(c.result(Check::STK001).runs[0].start_ms == k_t0 + 5 * k_min);
  CHECK(c.result(Check::STK001).runs[0].end_ms == k_t0 + 16 * k_min);
  CHECK(c.result(Check::STK001).examples[0].offset == 500);
  run.policy.defaults.stuck_ignore.insert("temp");
  CHECK(count(run.check(b.b), Check::STK001) == 0);
}

TEST_CASE("OUT001: Hampel flags a spike, not the noise around it") {
  Batch b;
  for (int i = 0; i < 60; ++i) {
    double x = 20 + std::sin(i * 0.7) + 0.1 * (i % 3);
    if (i == 30) x = 60;
    b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", x)});
  }
  Setup run;
  auto c = run.check(b.b);
  CHECK(count(c, Check::OUT001) == 1);
  CHECK(c.result(Check::OUT001).examples.at(0).offset == 3000);
  CHECK(c.result(Check::OUT001).outcome() == Outcome::warn);  // 1 of 60 values: 1.7 % > 1 %
  CHECK(c.result(Check::OUT001).denominator == 60);
}

TEST_CASE("OUT001: a field in few records still names its spike's record exactly") {
  // "rain" comes every 5th record: its 31-value window spans 151 records, more than the device's
  // ring of recent records holds, so the window's records are kept beside it; "temp" comes in every
  // record. Each has one spike; the examples and runs must name the spike's own record.
  Batch b;
  for (int i = 0; i < 400; ++i) {
    std::vector<Val> v{num("temp", 20 + std::sin(i * 0.7) + (i == 123 ? 40 : 0))};
    if (i % 5 == 0) v.push_back(num("rain", 3 + std::cos(i * 0.3) + (i == 250 ? 50 : 0)));
    b.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, v);
  }
  Setup run;
  run.policy.defaults.enabled[index(Check::STK001)] = false;
  auto c = run.check(b.b);
  const auto& r = c.result(Check::OUT001);
  CHECK(count(c, Check::OUT001) == 2);
  REQUIRE(r.examples.size() == 2);
  REQUIRE(r.runs.size() == 2);
  std::vector<std::uint64_t> offsets{r.examples[0].offset, r.examples[1].offset};
  std::sort(offsets.begin(), offsets.end());
  CHECK(offsets == std::vector<std::uint64_t>{12300, 25000});
  std::vector<std::int64_t> starts{r.runs[0].start_ms, r.runs[1].start_ms};
  std::sort(starts.begin(), starts.end());
  CHECK(starts == std::vector<std::int64_t>{k_t0 + 123 * k_min, k_t0 + 250 * k_min});

  // The widest window (k = 50: 101 values): "rain" has 80 values, too few to judge; "temp"'s spike
  // is still named by its own record.
  run.policy.defaults.hampel_k = 50;
  auto wide = run.check(b.b);
  CHECK(count(wide, Check::OUT001) == 1);
  REQUIRE(wide.result(Check::OUT001).examples.size() == 1);
  CHECK(wide.result(Check::OUT001).examples[0].offset == 12300);
}

TEST_CASE("OUT001: every example names the record that holds the value it reports") {
  // Three devices interleaved; "temp" in every record, "rain" in a random share of them (from
  // sparse to dense), spikes planted at random; window sizes from 11 to 101 values. Whatever path a
  // window's records took (the device's ring or copied aside), each example's offset must lead to a
  // record of the example's device with that field at that value.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  for (const int k : {5, 15, 50}) {
    for (const double p_rain : {0.04, 0.3, 0.9}) {
      Batch b;
      std::vector<std::pair<std::string, std::map<std::string, double>>> truth;
      for (int i = 0; i < 3000; ++i) {
        const std::string device = "dev-" + std::to_string(i % 3);
        std::map<std::string, double> values{{"temp", std::round((20 + noise(rng) + (unit(rng) < 0.01 ? 30 : 0)) * 100) / 100}};
        if (unit(rng) < p_rain) values["rain"] = std::round((5 + noise(rng) + (unit(rng) < 0.02 ? 40 : 0)) * 100) / 100;
        std::vector<Val> v;
        for (const auto& [name, x] : values) v.push_back(num(name, x));
        b.add(device, k_t0 + i * 20'000, k_t0 + i * 20'000 + 500, v);
        truth.emplace_back(device, values);
      }
      Setup run;
      run.policy.defaults.hampel_k = k;
      run.policy.defaults.enabled[index(Check::STK001)] = false;
      CheckerOptions o;
      o.policy = &run.policy;
      o.schemas = &run.schemas;
      o.max_examples = 1'000'000;
      Checker c(o);
      c.consume(b.b);
      c.finish();
      const auto& r = c.result(Check::OUT001);
      CAPTURE(k);
      CAPTURE(p_rain);
      CHECK(r.count > 0);
      CHECK(r.examples.size() == r.count);
      for (const auto& e : r.examples) {
        const auto at = e.detail.find(" = ");
        REQUIRE(at != std::string::npos);
        const std::string name = e.detail.substr(0, at);
        const double x = std::stod(e.detail.substr(at + 3));
        REQUIRE(e.offset % 100 == 0);
        REQUIRE(e.offset / 100 < truth.size());
        const auto& [device, values] = truth[e.offset / 100];
        CHECK(e.device == device);
        REQUIRE(values.count(name) == 1);
        CHECK(values.at(name) == x);
      }
    }
  }
}

namespace {

// OUT001's rule computed the plain way (docs/lineage.md): over each series, a centred window of 2k+1
// values; the median and MAD by nth_element; the MAD floored at 0.75 × 0.6745 × the series' typical
// window σ (a running mean of the windows' σ, capped at 3× itself per step); flagged when both the
// Hampel and the robust-z tests say so. No pre-test: the checker's must not change the answer.
std::uint64_t reference_outliers(const std::vector<double>& x, int k) {
  const std::size_t w = 2 * static_cast<std::size_t>(k) + 1;
  double sd_avg = 0;
  std::uint32_t sd_n = 0;
  std::uint64_t flagged = 0;
  for (std::size_t end = w; end <= x.size(); ++end) {
    std::vector<double> win(x.begin() + static_cast<long>(end - w), x.begin() + static_cast<long>(end));
    double sum = 0, sum2 = 0;
    for (double v : win) {
      sum += v;
      sum2 += v * v;
    }
    const double n = static_cast<double>(w), mean = sum / n;
    const double wsd = std::sqrt(std::max(0.0, sum2 / n - mean * mean));
    if (sd_n == 0) sd_avg = wsd;
    else if (sd_n < 64) sd_avg += (std::min(wsd, 3 * sd_avg) - sd_avg) / (sd_n + 1.0);
    else sd_avg += (std::min(wsd, 3 * sd_avg) - sd_avg) * (1.0 / 64);
    ++sd_n;
    const double mid = win[static_cast<std::size_t>(k)];
    auto sorted = win;
    std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
    const double med = sorted[static_cast<std::size_t>(k)];
    for (auto& v : sorted) v = std::fabs(v - med);
    std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
    const double window_mad = sorted[static_cast<std::size_t>(k)];
    if (window_mad <= 0) continue;
    const double mad = std::max(window_mad, 0.75 * 0.6745 * sd_avg);
    const double dev = std::fabs(mid - med);
    if (dev > 3 * 1.4826 * mad && 0.6745 * dev / mad > 3.5) ++flagged;
  }
  return flagged;
}

}  // namespace

TEST_CASE("OUT001 counts what the plain rule counts, on series built to fool a mean-based shortcut") {
  // Skewed and clustered windows put the median far from the mean; steps change the level; heavy
  // tails put values just either side of the thresholds.
  std::mt19937_64 rng(17);
  std::normal_distribution<double> noise(0, 1);
  std::exponential_distribution<double> skew(1.0);
  std::uniform_real_distribution<double> unit(0, 1);
  std::student_t_distribution<double> heavy(2);
  for (int shape = 0; shape < 4; ++shape) {
    for (const int k : {5, 15}) {
      std::vector<double> x;
      for (int i = 0; i < 4000; ++i) {
        double v = 0;
        switch (shape) {
          case 0: v = skew(rng) * (unit(rng) < 0.03 ? 8 : 1); break;               // skewed, rare big ones
          case 1: v = (unit(rng) < 0.45 ? 1 : 0) + 0.2 * noise(rng); break;       // two clusters
          case 2: v = (i / 200 % 2 ? 50 : 0) + noise(rng); break;                 // level steps
          default: v = heavy(rng); break;                                          // heavy tails
        }
        if (unit(rng) < 0.01) v += (shape == 1 ? 0.5 : 1.0) * (3 + 9 * unit(rng));  // spikes near and past the thresholds
        x.push_back(v);
      }
      Batch b;
      for (std::size_t i = 0; i < x.size(); ++i) b.add("dev-1", k_t0 + static_cast<std::int64_t>(i) * k_min, k_t0 + static_cast<std::int64_t>(i) * k_min, {num("v", x[i])});
      Setup run;
      run.policy.defaults.hampel_k = k;
      run.policy.defaults.enabled[index(Check::STK001)] = false;
      CAPTURE(shape);
      CAPTURE(k);
      const auto expected = reference_outliers(x, k);
      CHECK(expected > 0);
      CHECK(count(run.check(b.b), Check::OUT001) == expected);
    }
  }
}

TEST_CASE("REG001, REG002, ATT001, ATT002 against a hand-made ledger") {
  Ledger ledger;
  ledger.add({"dev-1", true, false, "pi5", {{k_min_time, k_t0 + 10 * k_min, "1.0", {}, "before rollout r wave canary", {}},
                                             {k_t0 + 10 * k_min, k_t0 + 15 * k_min, "2.0", "1.0", "rollout r wave canary (install window)", {}},
                                             {k_t0 + 15 * k_min, k_max_time, "2.0", {}, "after rollout r wave canary", {}}}});
  ledger.add({"dev-2", false, false, "pi4", {{k_min_time, k_max_time, "1.0", {}, "reported version", {}}}});
  ledger.add({"dev-3", true, false, "pi4", {}});
  Batch b;
  auto rec = [&](const std::string& dev, int minute, const std::string& version) {
    auto& r = b.add(dev, k_t0 + minute * k_min, k_t0 + minute * k_min);
    if (!version.empty()) r.model_version = b.b.text.keep(version);
  };
  rec("dev-1", 1, "1.0");
  rec("dev-1", 2, "2.0");   // canary leak: 2.0 before its wave
  rec("dev-1", 11, "1.0");  // install window: either
  rec("dev-1", 12, "2.0");
  rec("dev-1", 16, "1.0");  // after the window: still 1.0 -> failed install / mismatch
  rec("dev-1", 17, "");     // no payload version: attributed 2.0
  rec("dev-2", 1, "1.0");   // disabled device
  rec("dev-3", 1, "1.0");   // no interval
  rec("rogue", 1, "1.0");
  Setup run;
  run.ledger = std::move(ledger);
  auto c = run.check(b.b);
  CHECK(count(c, Check::REG001) == 1);
  CHECK(count(c, Check::REG002) == 1);
  CHECK(count(c, Check::ATT001) == 1);
  CHECK(count(c, Check::ATT002) == 2);
  CHECK(c.result(Check::ATT002).examples.at(0).detail.find("canary leak") == 0);
  CHECK(c.result(Check::ATT002).outcome() == Outcome::fail);
  auto models = c.models();
  std::map<std::string, ModelSummary> by;
  for (auto& m : models) by[m.version] = m;
  // dev-1 x3 (1, 2 by the ledger, 11), dev-2, and by their payloads dev-3 (no interval) and rogue.
  CHECK(by["1.0"].records == 6);
  CHECK(by["2.0"].records == 3);  // 12, 16 (by the ledger), 17 (no payload version)
  CHECK(by.count("") == 0);
  CHECK(by["1.0"].mismatches == 1);
}

TEST_CASE("the policy's per-class thresholds apply by the device's registry class") {
  Ledger ledger;
  ledger.add({"a", true, false, "pi4", {{k_min_time, k_max_time, "1.0", {}, "", {}}}});
  ledger.add({"b", true, false, "pi5", {{k_min_time, k_max_time, "1.0", {}, "", {}}}});
  Batch b;
  b.add("a", k_t0 + 10 * k_min, k_t0);
  b.add("b", k_t0 + 10 * k_min, k_t0);
  Setup run;
  run.ledger = std::move(ledger);
  run.policy = Policy::parse("checks:\n  TS002: {warn: 5m}\nclasses:\n  pi5:\n    TS002: {warn: 20m}\n", "p.yaml");
  auto c = run.check(b.b);
  CHECK(count(c, Check::TS002) == 1);
  CHECK(c.result(Check::TS002).examples.at(0).device == "a");
}

TEST_CASE("policy files: severities, disabling, and errors with file:line:col") {
  auto p = Policy::parse(
      "apiVersion: aiot.dev/v1\nkind: AuditPolicy\nchecks:\n  TS004: off\n  TS005: error\n  CMP001: {warn: 2%, error: 10%}\n"
      "  OUT001: {method: both, k: 5}\n",
      "p.yaml");
  CHECK_FALSE(p.defaults.enabled[index(Check::TS004)]);
  CHECK(p.defaults.severity[index(Check::TS005)] == Severity::error);
  CHECK(p.defaults.missing_warn == doctest::Approx(0.02));
  CHECK(p.defaults.hampel_k == 5);
  CHECK(p.defaults.outlier_method == OutlierMethod::both);
  try {
    Policy::parse("checks:\n  TS002: {warn: soon}\n", "p.yaml");
    FAIL("expected an error");
  } catch (const aiot::Error& e) {
    CHECK(e.code() == aiot::ExitCode::usage);
    CHECK(std::string(e.what()).find("p.yaml:2:") == 0);
  }
  CHECK_THROWS_AS(Policy::parse("checks:\n  XX001: off\n", "p.yaml"), aiot::Error);
  CHECK_THROWS_AS(Policy::parse("checks: [\n", "p.yaml"), aiot::Error);
  CHECK_THROWS_AS(SchemaRegistry::parse("id: x\nfields:\n  t: {type: float}\n", "s.yaml"), aiot::Error);
}

TEST_CASE("the profile is filled by model version, and DRF001 compares it with a baseline") {
  Batch ref;
  for (int i = 0; i < 400; ++i) {
    auto& r = ref.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", 20 + (i % 10))});
    r.model_version = ref.b.text.keep("1.0");
  }
  Setup run;
  run.policy.defaults.enabled[index(Check::STK001)] = false;
  Profile baseline;
  run.profile = &baseline;
  run.check(ref.b);
  CHECK(baseline.models.at("1.0").records == 400);
  CHECK(baseline.models.at("1.0").fields.at("temp").count == 400);

  Batch cur;
  for (int i = 0; i < 400; ++i) {
    auto& r = cur.add("dev-1", k_t0 + i * k_min, k_t0 + i * k_min, {num("temp", 35 + (i % 10))});
    r.model_version = cur.b.text.keep("2.0");
  }
  Profile now;
  run.profile = &now;
  run.baseline = &baseline;
  auto c = run.check(cur.b);
  CHECK(count(c, Check::DRF001) == 1);
  CHECK(c.result(Check::DRF001).outcome() == Outcome::fail);
  CHECK(c.result(Check::DRF001).actual["fields"][0]["baseline_version"] == "all");

  Profile same;
  run.profile = &same;
  auto c2 = run.check(ref.b);
  CHECK(count(c2, Check::DRF001) == 0);
  CHECK(c2.result(Check::DRF001).denominator == 1);
}

TEST_CASE("malformed records are counted with input:offset") {
  Batch b;
  b.series("dev-1", 3);
  b.b.malformed.push_back({2, 4096, "truncated JSON"});
  Setup run;
  auto c = run.check(b.b);
  CHECK(c.stats().malformed == 1);
  REQUIRE(c.malformed_examples().size() == 1);
  CHECK(c.malformed_examples()[0].offset == 4096);
}
