#pragma once
// The artifact registry's storage: SQLite tables created on first use.
//   - local hub: in the hub's own file through a second connection (like sim/store.hpp), so the
//     registry travels with the hub it serves; WAL mode is the file's, writes take BEGIN IMMEDIATE.
//   - Azure / AWS: a registry file of its own, <data dir>/artifacts/<profile>-<hub>.db, on the
//     machine that plans rollouts (the clouds have no artifact store aiot could use as-is); a
//     rollout copies what a device needs (uri, sha256, signature, ...) into the desired properties
//     or job document, so devices never read the registry.
// Tables: artifact_meta (key, value: the tables' format), artifacts (one row per kind/name/version).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiot/artifact/artifact.hpp"

namespace aiot {
class Context;
}

namespace aiot::artifact {

enum class AddOutcome { created, unchanged };

class Store {
 public:
  explicit Store(const std::filesystem::path& db);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Versions are immutable: the same kind/name/version with the same SHA-256 is `unchanged`
  // (idempotent re-runs); with another SHA-256 it is Error::conflict.
  AddOutcome add(const ArtifactRecord& r);
  std::optional<ArtifactRecord> get(Kind kind, const std::string& name, const std::string& version);
  // Error::not_found naming what exists.
  ArtifactRecord need(Kind kind, const std::string& name, const std::string& version);
  // The most recently added version of `name`; nullopt when there is none.
  std::optional<ArtifactRecord> latest(Kind kind, const std::string& name);
  // Oldest first; every name when `name` is empty.
  std::vector<ArtifactRecord> list(Kind kind, const std::string& name = {});
  // The version added just before `version` of the same name (model cards diff against it).
  std::optional<ArtifactRecord> previous(Kind kind, const std::string& name, const std::string& version);
  // Replaces the signature (a re-sign with another key is allowed and visible in `show`).
  void set_signature(Kind kind, const std::string& name, const std::string& version, const Signature& s);

  struct Db;

 private:
  std::unique_ptr<Db> db_;
};

// Where the registry of the Context's hub lives (see the top of this file); opens the local hub
// first so its file exists and is migrated.
std::filesystem::path store_path(Context& ctx);

}  // namespace aiot::artifact
