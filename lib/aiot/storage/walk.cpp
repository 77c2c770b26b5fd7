// Listing: flat (page after page) or, for --window, folder by folder over the time-based layouts
// IoT Hub routing ({iothub}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm}) and Firehose (PREFIX/YYYY/MM/DD/HH/).
#include <algorithm>
#include <cctype>
#include <chrono>

#include "aiot/storage/remote.hpp"

namespace aiot::storage {

namespace {

using namespace std::chrono;

// Batches are written up to 12 minutes (IoT Hub routing) or 15 minutes (Firehose) after their
// records arrived, so folders this close to the window still count.
constexpr auto k_slack = minutes(15);
// Non-time folder levels walked before giving up on finding a year and listing flat.
constexpr int k_max_plain_levels = 4;

// The last path component of a prefix ("a/b/2026/" -> "2026").
std::string_view last_component(std::string_view prefix) {
  if (!prefix.empty() && prefix.back() == '/') {
    prefix.remove_suffix(1);
  }
  const auto slash = prefix.rfind('/');
  return slash == std::string_view::npos ? prefix : prefix.substr(slash + 1);
}

// The next time part after `parts` if `text` starts with one (a 4-digit year, then 2-digit
// month, day, hour, minute), requiring the whole text to be it unless `allow_suffix` (a blob
// named "43.json" in the hour folder).
std::optional<int> next_time_part(const std::vector<int>& parts, std::string_view text, bool allow_suffix) {
  const std::size_t width = parts.empty() ? 4 : 2;
  if (parts.size() >= 5 || text.size() < width) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < width; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return std::nullopt;
    }
  }
  if (text.size() > width && (!allow_suffix || std::isdigit(static_cast<unsigned char>(text[width])))) {
    return std::nullopt;
  }
  const int value = std::stoi(std::string(text.substr(0, width)));
  static constexpr int k_min[] = {1970, 1, 1, 0, 0};
  static constexpr int k_max[] = {2200, 12, 31, 23, 59};
  if (value < k_min[parts.size()] || value > k_max[parts.size()]) {
    return std::nullopt;
  }
  return value;
}

struct Walk {
  Store& store;
  std::size_t page_size;
  TimePoint from;
  TimePoint to;
  std::vector<ObjectInfo> out;

  // -1 outside the window, 0 partly inside, 1 wholly inside.
  int overlap(const std::vector<int>& parts) const {
    const auto span = time_span(parts);
    if (!span) {
      return 0;
    }
    if (span->end <= from || span->begin > to) {
      return -1;
    }
    return (span->begin >= from && span->end <= to) ? 1 : 0;
  }

  void flat(const std::string& prefix) {
    auto all = list_all(store, prefix, page_size);
    out.insert(out.end(), std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
  }

  void walk(const std::string& prefix, const std::vector<int>& parts, int plain_levels) {
    std::string token;
    do {
      Page page = store.list_page(prefix, "/", token, page_size);
      for (auto& object : page.objects) {
        // A blob named by the next time part ("43.json" in the hour folder) is checked like a folder.
        if (!parts.empty()) {
          if (const auto part = next_time_part(parts, last_component(object.name), true)) {
            auto more = parts;
            more.push_back(*part);
            if (overlap(more) < 0) {
              continue;
            }
          }
        }
        out.push_back(std::move(object));
      }
      for (const auto& child : page.prefixes) {
        visit(child, parts, plain_levels);
      }
      token = page.next;
    } while (!token.empty());
  }

  void visit(const std::string& child, const std::vector<int>& parts, int plain_levels) {
    if (const auto part = next_time_part(parts, last_component(child), false)) {
      auto more = parts;
      more.push_back(*part);
      switch (overlap(more)) {
        case -1:
          return;
        case 1:
          flat(child);
          return;
        default:
          walk(child, more, plain_levels);
          return;
      }
    }
    // Not a time folder: below a time folder or too deep, everything counts; above, keep looking.
    if (!parts.empty() || plain_levels >= k_max_plain_levels) {
      flat(child);
    } else {
      walk(child, parts, plain_levels + 1);
    }
  }
};

}  // namespace

std::optional<Span> time_span(const std::vector<int>& parts) {
  if (parts.empty() || parts.size() > 5) {
    return std::nullopt;
  }
  const year y{parts[0]};
  const month m{parts.size() > 1 ? static_cast<unsigned>(parts[1]) : 1u};
  const day d{parts.size() > 2 ? static_cast<unsigned>(parts[2]) : 1u};
  const year_month_day ymd{y, m, d};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  TimePoint begin = sys_days(ymd);
  if (parts.size() > 3) {
    begin += hours(parts[3]);
  }
  if (parts.size() > 4) {
    begin += minutes(parts[4]);
  }
  TimePoint end;
  switch (parts.size()) {
    case 1:
      end = sys_days(year_month_day{y + years(1), month(1), day(1)});
      break;
    case 2:
      end = sys_days(((y / m) + months(1)) / day(1));
      break;
    case 3:
      end = begin + days(1);
      break;
    case 4:
      end = begin + hours(1);
      break;
    default:
      end = begin + minutes(1);
      break;
  }
  return Span{begin, end};
}

std::vector<ObjectInfo> list_all(Store& store, const std::string& prefix, std::size_t page_size) {
  std::vector<ObjectInfo> out;
  std::string token;
  do {
    Page page = store.list_page(prefix, "", token, page_size);
    out.insert(out.end(), std::make_move_iterator(page.objects.begin()), std::make_move_iterator(page.objects.end()));
    token = page.next;
  } while (!token.empty());
  return out;
}

std::vector<ObjectInfo> list_window(Store& store, const std::string& prefix, std::optional<TimePoint> from,
                                    std::optional<TimePoint> to, std::size_t page_size) {
  if (!from && !to) {
    return list_all(store, prefix, page_size);
  }
  Walk walk{store, page_size, from ? *from - k_slack : TimePoint::min() + hours(24 * 366),
            to ? *to + k_slack : TimePoint::max() - hours(24 * 366), {}};
  // The time parts already in the prefix's folders ("hub/0/2026/11/" -> 2026, 11); a prefix ending
  // inside a name ("hub/0/20") lists at its folder's level, where the service filters by prefix.
  const auto slash = prefix.rfind('/');
  const std::string folder = slash == std::string::npos ? std::string() : prefix.substr(0, slash + 1);
  std::vector<int> parts;
  for (std::string_view rest = folder; !rest.empty();) {
    const auto end = rest.find('/');
    if (const auto part = next_time_part(parts, rest.substr(0, end), false)) {
      parts.push_back(*part);
    } else if (!parts.empty()) {
      break;
    }
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  if (!parts.empty() && walk.overlap(parts) < 0) {
    return {};
  }
  walk.walk(prefix, parts, 0);
  std::sort(walk.out.begin(), walk.out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return std::move(walk.out);
}

}  // namespace aiot::storage
