#pragma once
// The reporting period: an ISO week ("2026-W47"), "last-week" (the ISO week before the one that
// contains `now`), or FROM/TO with dates or RFC 3339 times ("2026-11-01/2026-12-01", end
// exclusive). Every time a report shows comes from the period, never from the clock, so the same
// inputs give the same bytes.
#include <string>
#include <string_view>

#include "aiot/core/time.hpp"

namespace aiot::report {

struct Period {
  std::string label;  // "2026-W47" or "2026-11-01_2026-12-01": file names and headings
  TimePoint from{};   // inclusive
  TimePoint to{};     // exclusive
  bool iso_week = false;

  std::chrono::hours length() const { return std::chrono::duration_cast<std::chrono::hours>(to - from); }
  bool contains(TimePoint t) const { return t >= from && t < to; }
  bool operator==(const Period&) const = default;
};

// Throws Error::usage naming the accepted forms.
Period parse_period(std::string_view text, TimePoint now);

// The period just before: the previous ISO week, or a range of the same length ending at `from`.
Period previous_period(const Period& p);

// Monday 00:00 UTC of ISO week `week` of ISO year `year`.
TimePoint iso_week_start(int year, int week);
// ISO year and week of a time point.
void iso_week_of(TimePoint t, int& year, int& week);

// "2026-11-16" (UTC date of t).
std::string format_date(TimePoint t);

}  // namespace aiot::report
