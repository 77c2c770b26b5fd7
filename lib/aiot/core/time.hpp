#pragma once
// UTC time points, RFC 3339 text and the duration syntax of design.md §6 (90s, 15m, 4h, 7d).
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace aiot {

using TimePoint = std::chrono::system_clock::time_point;
using Clock = std::function<TimePoint()>;

// "2026-11-26T01:22:30Z"; milliseconds are written only when non-zero.
std::string format_rfc3339(TimePoint t);
// Accepts "Z" or "+hh:mm" offsets and fractional seconds; nullopt when malformed.
std::optional<TimePoint> parse_rfc3339(std::string_view text);
// "90s", "15m", "4h", "7d", "1h30m", "250ms"; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);
// "3 minutes ago" style text for TTY tables.
std::string format_relative(TimePoint t, TimePoint now);

}  // namespace aiot
