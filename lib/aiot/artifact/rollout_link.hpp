#pragma once
// Rollouts that name a registry artifact (`artifact: {model: N, version: V}` in rollout.yaml):
// `aiot rollout plan` and `apply` resolve it here before planning, and check the new version's
// I/O signature against the baseline's once the plan knows the baseline version.
//
// The signature policy: required when the spec says `requireSignature: true` (or names the signer
// with `signedBy`), or when the command gets --require-signature (a CI pipeline can enforce it
// whatever the spec says). A required signature must exist, be by `signedBy` when given, and
// verify over the statement with the key recorded at signing.
#include <memory>
#include <string>
#include <vector>

#include "aiot/artifact/store.hpp"
#include "aiot/rollout/spec.hpp"

namespace aiot {
class Context;
}

namespace aiot::artifact {

struct ResolveOptions {
  bool require_signature = false;  // --require-signature
};

// Fills spec.artifact (uri, sha256, signature, registry_fields) from the registry and recomputes
// spec.digest over the resolved spec. For a spec that gives the artifact in full: nothing, except
// that --require-signature refuses one without a signature (Error::usage).
// Errors: not in the registry -> Error::not_found (exit 1); a signature required but missing ->
// Error::usage (exit 2, like plan's other refusals); a signature by another key than signedBy, or
// one that does not verify -> Error::verdict (exit 3: the check ran and said no).
void resolve_artifact(rollout::RolloutSpec& spec, Store& store, const ResolveOptions& options = {});

// resolve_artifact over the registry of the Context's hub (store_path), opened only when the spec
// names a registry artifact; returns it (for check_compatibility), or nullptr when it was not needed.
std::unique_ptr<Store> open_and_resolve(Context& ctx, rollout::RolloutSpec& spec, const ResolveOptions& options = {});

// The I/O check against the baseline version of the same model (when it is in the registry and
// both are ONNX). Returns warnings (baseline not registered, breaking changes accepted with
// --allow-breaking); throws Error::usage listing the breaking changes without allow_breaking.
std::vector<std::string> check_compatibility(const rollout::RolloutSpec& spec, Store& store,
                                             const std::string& baseline_version, bool allow_breaking);

}  // namespace aiot::artifact
