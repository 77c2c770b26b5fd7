// aiot model and aiot firmware: the artifact registry; both groups share the verbs.
#include "cli/common.hpp"
#include "groups.hpp"

namespace aiot::cli {

void add_artifact_groups(CLI::App& root, Dispatch& d) {
  add_later_group(root, d, "model", "ML model artifacts: add, sign, verify, inspect", "the artifact registry");
  add_later_group(root, d, "firmware", "Firmware artifacts: add, sign, verify, inspect", "the artifact registry");
}

}  // namespace aiot::cli
