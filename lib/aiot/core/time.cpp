#include "aiot/core/time.hpp"

#include <fmt/format.h>

#include <cctype>
#include <ctime>

namespace aiot {

using namespace std::chrono;

std::string format_rfc3339(TimePoint t) {
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = static_cast<int>(ms - static_cast<long long>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string s = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac != 0) s += fmt::format(".{:03}", frac);
  s += 'Z';
  return s;
}

namespace {
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}
}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t pos = 19;
  long long frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    long long scale = 100;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_min = 0;
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om))
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  auto days = sys_days(ymd);
  TimePoint t = days + hours(h) + minutes(mi) + seconds(se) + milliseconds(frac_ms) - minutes(offset_min);
  return t;
}

std::optional<milliseconds> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  milliseconds total{0};
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    long long v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i] - '0');
      if (v > 1'000'000'000LL) return std::nullopt;
      ++i;
    }
    if (i == start) return std::nullopt;
    size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    if (unit == "ms") total += milliseconds(v);
    else if (unit == "s") total += seconds(v);
    else if (unit == "m") total += minutes(v);
    else if (unit == "h") total += hours(v);
    else if (unit == "d") total += days(v);
    else if (unit == "w") total += weeks(v);
    else return std::nullopt;
  }
  return total;
}

std::string format_duration(milliseconds d) {
  if (d.count() == 0) return "0s";
  std::string out;
  if (d < milliseconds(0)) {
    out = "-";
    d = -d;
  }
  auto dd = duration_cast<days>(d);
  d -= dd;
  auto hh = duration_cast<hours>(d);
  d -= hh;
  auto mm = duration_cast<minutes>(d);
  d -= mm;
  auto ss = duration_cast<seconds>(d);
  d -= ss;
  if (dd.count()) out += fmt::format("{}d", dd.count());
  if (hh.count()) out += fmt::format("{}h", hh.count());
  if (mm.count()) out += fmt::format("{}m", mm.count());
  if (ss.count()) out += fmt::format("{}s", ss.count());
  if (d.count()) out += fmt::format("{}ms", d.count());
  return out;
}

std::string format_relative(TimePoint t, TimePoint now) {
  auto diff = duration_cast<seconds>(now - t).count();
  bool future = diff < 0;
  if (future) diff = -diff;
  std::string amount;
  if (diff < 60) return future ? "in a moment" : "just now";
  if (diff < 3600) amount = fmt::format("{} minute{}", diff / 60, diff / 60 == 1 ? "" : "s");
  else if (diff < 86400) amount = fmt::format("{} hour{}", diff / 3600, diff / 3600 == 1 ? "" : "s");
  else amount = fmt::format("{} day{}", diff / 86400, diff / 86400 == 1 ? "" : "s");
  return future ? "in " + amount : amount + " ago";
}

}  // namespace aiot
