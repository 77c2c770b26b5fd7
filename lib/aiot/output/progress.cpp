// Progress bar on stderr: `label [########............] 120/1000 12%`, one line rewritten with '\r'.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ostream>

#include "aiot/core/iostreams.hpp"
#include "aiot/output/output.hpp"

namespace aiot::output {

namespace {

constexpr std::size_t k_bar_width = 20;
constexpr auto k_redraw_interval = std::chrono::milliseconds(100);
constexpr std::string_view k_clear_line = "\r\x1b[K";

// Without an injected clock the throttle uses a monotonic clock: a wall-clock step must not
// freeze the bar. Only differences are compared, so the epoch shift is irrelevant.
TimePoint monotonic_now() {
  auto since = std::chrono::steady_clock::now().time_since_epoch();
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(since));
}

std::string render_line(const std::string& label, std::size_t current, std::size_t total, int width) {
  std::size_t shown = total > 0 ? std::min(current, total) : current;
  std::size_t percent = total > 0 ? shown * 100 / total : 100;
  std::size_t filled = total > 0 ? shown * k_bar_width / total : k_bar_width;
  auto tail = fmt::format(" [{}{}] {}/{} {}%", std::string(filled, '#'), std::string(k_bar_width - filled, '.'),
                          shown, total, percent);
  std::string head = label;
  // Keep the line shorter than the terminal: a wrapped line cannot be rewritten with '\r'.
  if (width > 0) {
    auto room = static_cast<std::size_t>(width) - 1;
    if (head.size() + tail.size() > room) {
      head.resize(room > tail.size() ? room - tail.size() : 0);
      // Never leave half a UTF-8 sequence at the cut.
      while (!head.empty() && (static_cast<unsigned char>(head.back()) & 0x80) != 0) {
        head.pop_back();
      }
    }
  }
  return head + tail;
}

}  // namespace

Progress::Progress(IOStreams& io, std::string label, std::size_t total, Clock clock)
    : io_(io),
      label_(std::move(label)),
      total_(total),
      active_(io.err_tty() && !io.quiet()),
      clock_(clock ? std::move(clock) : Clock(monotonic_now)) {
  draw(true);
}

Progress::~Progress() {
  try {
    done();
  } catch (...) {
    // A destructor must not throw; a failed write to stderr loses only the bar.
  }
}

void Progress::advance(std::size_t n) {
  if (finished_) {
    return;
  }
  current_ += n;
  draw(false);
}

void Progress::done() {
  if (finished_) {
    return;
  }
  draw(true);
  finished_ = true;
  if (active_) {
    io_.err() << k_clear_line;
    io_.err().flush();
  }
}

void Progress::draw(bool force) {
  if (!active_ || finished_) {
    return;
  }
  auto now = clock_();
  if (!force && now - last_draw_ < k_redraw_interval) {
    return;
  }
  last_draw_ = now;
  io_.err() << '\r' << render_line(label_, current_, total_, io_.width());
  io_.err().flush();
}

}  // namespace aiot::output
