#pragma once
// The three standard streams with their TTY flags (gh's IOStreams). Commands write data to
// out() and everything else to err(); colour and prompts are decided here, once.
#include <iosfwd>
#include <memory>
#include <sstream>
#include <string>

namespace aiot {

class Env;

class IOStreams {
 public:
  IOStreams(std::istream& in, std::ostream& out, std::ostream& err, bool in_tty, bool out_tty, bool err_tty)
      : in_(&in), out_(&out), err_(&err), in_tty_(in_tty), out_tty_(out_tty), err_tty_(err_tty) {}

  // The process streams; TTY flags from isatty, AIOT_FORCE_TTY forces stdout/stderr TTY behaviour.
  static IOStreams system(const Env& env);

  std::istream& in() { return *in_; }
  std::ostream& out() { return *out_; }
  std::ostream& err() { return *err_; }
  bool in_tty() const { return in_tty_; }
  bool out_tty() const { return out_tty_; }
  bool err_tty() const { return err_tty_; }

  // Colour on stdout / stderr: a TTY, NO_COLOR unset or empty, TERM != dumb, no --no-color;
  // CLICOLOR_FORCE forces it.
  bool color_out() const { return color_out_; }
  bool color_err() const { return color_err_; }
  void decide_color(const Env& env, bool no_color_flag);

  // A question may be asked only when stdin and stderr are terminals.
  bool can_prompt() const { return in_tty_ && err_tty_; }

  // Progress and confirmations: off with -q.
  bool quiet() const { return quiet_; }
  void set_quiet(bool q) { quiet_ = q; }
  int verbosity() const { return verbosity_; }
  void set_verbosity(int v) { verbosity_ = v; }

  void set_tty(bool in, bool out, bool err) {
    in_tty_ = in;
    out_tty_ = out;
    err_tty_ = err;
  }
  // Terminal width for tables, from COLUMNS or the TTY; 0 when unknown.
  int width() const { return width_; }
  void set_width(int w) { width_ = w; }

 private:
  std::istream* in_;
  std::ostream* out_;
  std::ostream* err_;
  bool in_tty_, out_tty_, err_tty_;
  bool color_out_ = false, color_err_ = false;
  bool quiet_ = false;
  int verbosity_ = 0;
  int width_ = 0;
};

// Buffers for tests: IOStreams over string streams, not TTYs.
struct TestStreams {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  IOStreams io{in, out, err, false, false, false};
  explicit TestStreams(std::string input = {}) : in(std::move(input)) {}
};

}  // namespace aiot
