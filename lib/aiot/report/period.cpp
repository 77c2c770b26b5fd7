#include "aiot/report/period.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "aiot/core/error.hpp"

namespace aiot::report {

namespace {

using namespace std::chrono;

constexpr const char* k_forms = "Use an ISO week (2026-W47), last-week, or FROM/TO with dates or RFC 3339 times (2026-11-01/2026-12-01).";

std::optional<TimePoint> parse_date_or_time(std::string_view s) {
  if (s.size() == 10) {
    int y = 0;
    unsigned m = 0, d = 0;
    if (std::sscanf(std::string(s).c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return std::nullopt;
    year_month_day ymd{year{y}, month{m}, day{d}};
    if (!ymd.ok()) return std::nullopt;
    return sys_days{ymd};
  }
  return parse_rfc3339(s);
}

int iso_weeks_in_year(int y) {
  // A year has 53 ISO weeks when Dec 28 falls in week 53.
  int yy = 0, w = 0;
  iso_week_of(sys_days{year{y} / December / 28}, yy, w);
  return w;
}

}  // namespace

TimePoint iso_week_start(int y, int week) {
  sys_days jan4{year{y} / January / 4};
  weekday wd{jan4};
  int iso = static_cast<int>(wd.iso_encoding());  // Monday 1 .. Sunday 7
  sys_days monday1 = jan4 - days{iso - 1};
  return monday1 + days{7 * (week - 1)};
}

void iso_week_of(TimePoint t, int& y, int& week) {
  sys_days d = floor<days>(t);
  int iso = static_cast<int>(weekday{d}.iso_encoding());
  sys_days thursday = d + days{4 - iso};  // the week belongs to the year of its Thursday
  year_month_day ymd{thursday};
  y = static_cast<int>(ymd.year());
  sys_days jan1{ymd.year() / January / 1};
  week = static_cast<int>((thursday - jan1).count() / 7) + 1;
}

std::string format_date(TimePoint t) {
  year_month_day ymd{floor<days>(t)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

Period parse_period(std::string_view text, TimePoint now) {
  Period p;
  if (text == "last-week") {
    int y = 0, w = 0;
    iso_week_of(now - days{7}, y, w);
    return parse_period(fmt::format("{:04}-W{:02}", y, w), now);
  }
  if (text.size() >= 7 && text.size() <= 8 && text[4] == '-' && (text[5] == 'W' || text[5] == 'w')) {
    int y = 0, w = 0;
    char extra = 0;
    std::string s(text);
    if (std::sscanf(s.c_str(), "%4d-%*c%2d%c", &y, &w, &extra) != 2 || w < 1 || w > iso_weeks_in_year(y)) {
      throw Error::usage(fmt::format("--period '{}' is not an ISO week of {}", text, y > 0 ? std::to_string(y) : "a year"), k_forms);
    }
    p.label = fmt::format("{:04}-W{:02}", y, w);
    p.from = iso_week_start(y, w);
    p.to = p.from + days{7};
    p.iso_week = true;
    return p;
  }
  auto slash = text.find('/');
  if (slash == std::string_view::npos) throw Error::usage(fmt::format("--period '{}' is not a period", text), k_forms);
  auto from = parse_date_or_time(text.substr(0, slash));
  auto to = parse_date_or_time(text.substr(slash + 1));
  if (!from || !to) throw Error::usage(fmt::format("--period '{}': FROM and TO must be dates or RFC 3339 times", text), k_forms);
  if (*to <= *from) throw Error::usage(fmt::format("--period '{}': TO must be after FROM", text), k_forms);
  p.from = *from;
  p.to = *to;
  auto stamp = [](TimePoint t) {
    std::string s = floor<days>(t) == t ? format_date(t) : format_rfc3339(t);
    for (char& c : s) {
      if (c == ':') c = '-';
    }
    return s;
  };
  p.label = stamp(p.from) + "_" + stamp(p.to);
  return p;
}

Period previous_period(const Period& p) {
  if (p.iso_week) {
    int y = 0, w = 0;
    iso_week_of(p.from - days{7}, y, w);
    return parse_period(fmt::format("{:04}-W{:02}", y, w), p.from);
  }
  auto len = p.to - p.from;
  std::string text = format_rfc3339(p.from - len) + "/" + format_rfc3339(p.from);
  // Dates stay dates in the label when the period is whole days.
  if (floor<days>(p.from) == p.from && len % days{1} == 0s) text = format_date(p.from - len) + "/" + format_date(p.from);
  return parse_period(text, p.from);
}

}  // namespace aiot::report
