#pragma once
// The one error type of aiot and the one exit-code table (design.md §6).
// Lower layers throw aiot::Error or return aiot::Expected<T>; cmd/root.cpp turns it into
// a message on stderr and the process exit code.
#include <exception>
#include <span>
#include <string>

namespace aiot {

enum class ExitCode : int {
  ok = 0,
  failure = 1,      // unexpected runtime failure
  usage = 2,        // bad flag, bad spec/config/schema/CSV
  verdict = 3,      // the job ran and its verdict is negative
  auth = 4,         // authentication or authorisation
  unavailable = 5,  // hub unreachable or failing after retries
  pending = 6,      // --wait ran out, or waiting for approval
  interrupted = 130,
};

struct ExitCodeInfo {
  ExitCode code;
  const char* name;
  const char* meaning;
};

// Printed by `aiot help exit-codes` and in aiot(1).
std::span<const ExitCodeInfo> exit_code_table();

// Why an operation failed, finer than the exit code: providers and the emulator map these
// to and from HTTP statuses and provider error codes.
enum class Reason {
  none,
  not_found,
  conflict,             // already exists with other content
  precondition_failed,  // etag / version mismatch
  throttled,
  invalid,
};

class Error : public std::exception {
 public:
  Error(ExitCode code, std::string message, std::string hint = {}, Reason reason = Reason::none)
      : code_(code), reason_(reason), message_(std::move(message)), hint_(std::move(hint)) {}

  static Error usage(std::string message, std::string hint = {}) {
    return {ExitCode::usage, std::move(message), std::move(hint), Reason::invalid};
  }
  static Error failure(std::string message, std::string hint = {}) {
    return {ExitCode::failure, std::move(message), std::move(hint)};
  }
  static Error not_found(std::string message, std::string hint = {}) {
    return {ExitCode::failure, std::move(message), std::move(hint), Reason::not_found};
  }
  static Error conflict(std::string message, std::string hint = {}) {
    return {ExitCode::failure, std::move(message), std::move(hint), Reason::conflict};
  }
  static Error precondition(std::string message, std::string hint = {}) {
    return {ExitCode::failure, std::move(message), std::move(hint), Reason::precondition_failed};
  }
  static Error auth(std::string message, std::string hint = {}) {
    return {ExitCode::auth, std::move(message), std::move(hint)};
  }
  static Error unavailable(std::string message, std::string hint = {}) {
    return {ExitCode::unavailable, std::move(message), std::move(hint)};
  }
  static Error verdict(std::string message, std::string hint = {}) {
    return {ExitCode::verdict, std::move(message), std::move(hint)};
  }

  ExitCode code() const { return code_; }
  Reason reason() const { return reason_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  const char* what() const noexcept override { return message_.c_str(); }

  // "file:line: " style prefix for input errors.
  Error with_prefix(const std::string& prefix) const {
    return {code_, prefix + message_, hint_, reason_};
  }

 private:
  ExitCode code_;
  Reason reason_;
  std::string message_;
  std::string hint_;
};

inline int to_int(ExitCode c) { return static_cast<int>(c); }

}  // namespace aiot
