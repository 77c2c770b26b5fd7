#include <doctest/doctest.h>

#include "aiot/core/error.hpp"
#include "aiot/report/period.hpp"

using namespace aiot;
using namespace aiot::report;

namespace {
TimePoint at(const char* text) { return *parse_rfc3339(text); }
}  // namespace

TEST_CASE("report period: ISO weeks, last-week and ranges") {
  SUBCASE("2026-W47 is Monday 16 to Monday 23 November") {
    auto p = parse_period("2026-W47", at("2026-11-26T00:00:00Z"));
    CHECK(p.label == "2026-W47");
    CHECK(format_rfc3339(p.from) == "2026-11-16T00:00:00Z");
    CHECK(format_rfc3339(p.to) == "2026-11-23T00:00:00Z");
    CHECK(p.iso_week);
    CHECK(p.length().count() == 168);
  }
  SUBCASE("week 1 can start in the previous year; 53-week years") {
    CHECK(format_rfc3339(parse_period("2026-W01", {}).from) == "2025-12-29T00:00:00Z");
    CHECK(format_rfc3339(parse_period("2020-W53", {}).from) == "2020-12-28T00:00:00Z");
    CHECK(parse_period("2026-W53", {}).label == "2026-W53");  // 2026 starts on a Thursday: 53 weeks
    CHECK_THROWS_AS(parse_period("2025-W53", {}), Error);  // 2025 has 52
    CHECK_THROWS_AS(parse_period("2026-W00", {}), Error);
  }
  SUBCASE("last-week is the ISO week before the one holding now") {
    CHECK(parse_period("last-week", at("2026-11-26T10:00:00Z")).label == "2026-W47");
    CHECK(parse_period("last-week", at("2026-11-23T00:00:00Z")).label == "2026-W47");  // Monday 00:00: last week just ended
    CHECK(parse_period("last-week", at("2026-01-02T00:00:00Z")).label == "2025-W52");
  }
  SUBCASE("FROM/TO with dates or times") {
    auto p = parse_period("2026-11-01/2026-12-01", {});
    CHECK(p.label == "2026-11-01_2026-12-01");
    CHECK(p.length().count() == 30 * 24);
    CHECK_FALSE(p.iso_week);
    auto q = parse_period("2026-11-01T06:00:00Z/2026-11-02T06:00:00Z", {});
    CHECK(q.label == "2026-11-01T06-00-00Z_2026-11-02T06-00-00Z");
    CHECK_THROWS_AS(parse_period("2026-12-01/2026-11-01", {}), Error);
    CHECK_THROWS_AS(parse_period("yesterday", {}), Error);
    CHECK_THROWS_AS(parse_period("2026-13-01/2026-12-01", {}), Error);
  }
  SUBCASE("the previous period") {
    CHECK(previous_period(parse_period("2026-W01", {})).label == "2025-W52");
    CHECK(previous_period(parse_period("2026-11-08/2026-11-15", {})).label == "2026-11-01_2026-11-08");
  }
  SUBCASE("a bad period is a usage error (exit 2)") {
    try {
      parse_period("2026-W99", {});
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
    }
  }
}
