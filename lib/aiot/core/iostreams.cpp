#include "aiot/core/iostreams.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>

#include "aiot/core/env.hpp"

namespace aiot {

IOStreams IOStreams::system(const Env& env) {
  bool force = env.has("AIOT_FORCE_TTY");
  IOStreams io(std::cin, std::cout, std::cerr, isatty(STDIN_FILENO) != 0, force || isatty(STDOUT_FILENO) != 0,
               force || isatty(STDERR_FILENO) != 0);
  if (auto cols = env.get("COLUMNS"); cols && !cols->empty()) {
    try {
      io.width_ = std::stoi(*cols);
    } catch (...) {
    }
  } else if (io.out_tty_) {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) io.width_ = ws.ws_col;
  }
  return io;
}

void IOStreams::decide_color(const Env& env, bool no_color_flag) {
  bool allowed = !no_color_flag && !env.has("NO_COLOR") && env.get_or("TERM", "") != "dumb";
  bool forced = env.has("CLICOLOR_FORCE") && env.get_or("CLICOLOR_FORCE", "0") != "0";
  color_out_ = !no_color_flag && (forced || (allowed && out_tty_));
  color_err_ = !no_color_flag && (forced || (allowed && err_tty_));
}

}  // namespace aiot
