#include "aiot/core/error.hpp"

#include <array>

namespace aiot {

std::span<const ExitCodeInfo> exit_code_table() {
  static constexpr std::array k_table{
      ExitCodeInfo{ExitCode::ok, "ok", "success (also: an empty result)"},
      ExitCodeInfo{ExitCode::failure, "failure", "unexpected runtime failure (also: not found, conflict)"},
      ExitCodeInfo{ExitCode::usage, "usage",
                   "usage or invalid input: bad flag, bad spec/config/schema/CSV, with file:line where there is one"},
      ExitCodeInfo{ExitCode::verdict, "verdict",
                   "the job ran and its verdict is negative: a gate failed and the rollout was rolled back or "
                   "aborted, an audit found errors, a governance policy failed"},
      ExitCodeInfo{ExitCode::auth, "auth", "authentication or authorisation (401/403, missing or bad credentials)"},
      ExitCodeInfo{ExitCode::unavailable, "unavailable",
                   "hub unreachable or failing after retries (network, 5xx, throttled past the retry budget)"},
      ExitCodeInfo{ExitCode::pending, "pending", "still pending: --wait ran out, or a rollout waits for approval"},
      ExitCodeInfo{ExitCode::interrupted, "interrupted", "interrupted (SIGINT)"},
  };
  return k_table;
}

}  // namespace aiot
