#include "aiot/artifact/rollout_link.hpp"

#include <fmt/format.h>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"

namespace aiot::artifact {

namespace {

// An artifact given in full carries its own signature (which aiot cannot check without the
// registry's statement): --require-signature only insists that there is one.
void check_full_artifact(const rollout::RolloutSpec& spec, const ResolveOptions& options) {
  const auto& a = spec.artifact;
  if (options.require_signature && a.signature.empty()) {
    throw Error::usage(fmt::format("{}: spec.artifact {} {} has no signature, and --require-signature requires one",
                                   spec.source, a.name, a.version),
                       "Register and sign it (aiot model add, aiot model sign), then name it as {model: NAME, "
                       "version: V}.");
  }
}

}  // namespace

void resolve_artifact(rollout::RolloutSpec& spec, Store& store, const ResolveOptions& options) {
  auto& a = spec.artifact;
  if (!a.from_registry()) {
    check_full_artifact(spec, options);
    return;
  }
  Kind kind = parse_kind(a.kind);
  ArtifactRecord r = store.need(kind, a.registry_model, a.version);
  std::string label = fmt::format("{}: spec.artifact {} {} {}", spec.source, a.kind, r.name, r.version);
  bool required = a.require_signature || options.require_signature;
  if (required || r.signature) {
    // A signature that is present is always checked: a broken one is never shipped.
    if (!r.signature) {
      throw Error::usage(fmt::format("{} is not signed, and {} requires a signature", label,
                                     a.require_signature ? "the spec (requireSignature)" : "--require-signature"),
                         fmt::format("Sign it: aiot {} sign {} {} --key KEY.pem", a.kind, r.name, r.version));
    }
    if (!a.signed_by.empty() && r.signature->key_id != a.signed_by) {
      throw Error::verdict(fmt::format("{} is signed by {}, and the spec requires signedBy {}", label,
                                       r.signature->key_id, a.signed_by));
    }
    auto result = verify(r, std::nullopt, std::nullopt);
    if (!result.ok()) {
      throw Error::verdict(fmt::format("{}: {}", label, result.message),
                           fmt::format("Check it with 'aiot {} verify {} {} --key PUBLIC.pem'.", a.kind, r.name,
                                       r.version));
    }
  }
  a.name = r.name;
  a.uri = r.uri;
  a.sha256 = r.sha256;
  a.signature = r.signature ? r.signature->value : std::string();
  a.registry_fields = desired_fields(r);
  a.registry_fields.erase("signature");  // to_desired writes it from a.signature
  spec.digest = crypto::sha256_hex(spec.to_json().dump());
}

std::unique_ptr<Store> open_and_resolve(Context& ctx, rollout::RolloutSpec& spec, const ResolveOptions& options) {
  if (!spec.artifact.from_registry()) {
    check_full_artifact(spec, options);
    return nullptr;
  }
  auto store = std::make_unique<Store>(store_path(ctx));
  resolve_artifact(spec, *store, options);
  return store;
}

std::vector<std::string> check_compatibility(const rollout::RolloutSpec& spec, Store& store,
                                             const std::string& baseline_version, bool allow_breaking) {
  std::vector<std::string> warnings;
  const auto& a = spec.artifact;
  if (!a.from_registry() || baseline_version.empty()) {
    return warnings;
  }
  Kind kind = parse_kind(a.kind);
  auto baseline = store.get(kind, a.registry_model, baseline_version);
  if (!baseline) {
    warnings.push_back(fmt::format("the baseline {} {} {} is not in the artifact registry: its I/O signature was not "
                                   "compared with {}'s",
                                   a.kind, a.registry_model, baseline_version, a.version));
    return warnings;
  }
  auto target = store.need(kind, a.registry_model, a.version);
  std::vector<std::string> breaking;
  for (const auto& c : diff(*baseline, target)) {
    if (c.breaking) {
      breaking.push_back(fmt::format("{}: {} -> {}", c.field, c.before.empty() ? "(none)" : c.before,
                                     c.after.empty() ? "(none)" : c.after));
    }
  }
  if (breaking.empty()) {
    return warnings;
  }
  std::string list = fmt::format("{}", fmt::join(breaking, "; "));
  if (!allow_breaking) {
    throw Error::usage(fmt::format("{}: {} {} breaks the I/O signature of the baseline {}: {}", spec.source,
                                   a.registry_model, a.version, baseline_version, list),
                       "Devices feeding the old inputs would fail. Roll out a compatible version, or accept it with "
                       "--allow-breaking.");
  }
  warnings.push_back(fmt::format("{} {} breaks the I/O signature of the baseline {} (allowed by --allow-breaking): {}",
                                 a.registry_model, a.version, baseline_version, list));
  return warnings;
}

}  // namespace aiot::artifact
