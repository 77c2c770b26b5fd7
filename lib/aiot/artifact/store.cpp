#include "aiot/artifact/store.hpp"

#include <fmt/format.h>

#include <cctype>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/sqlite.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/hub/local/local_hub.hpp"

namespace aiot::artifact {

namespace {

// The registry tables' own format, checked on open: bump it (and migrate) when they change.
constexpr int k_format = 1;
constexpr int k_busy_timeout_ms = 10'000;

const char* const k_schema = R"sql(
  CREATE TABLE IF NOT EXISTS artifact_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS artifacts (
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    uri         TEXT NOT NULL,
    source      TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    card        TEXT NOT NULL,
    signature   TEXT,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (kind, name, version)
  ) WITHOUT ROWID;
)sql";

const char* const k_columns = "kind, name, version, sha256, size, uri, source, metadata, card, signature, added_at";

json signature_json(const Signature& s) {
  json j = s.to_json();
  j["publicKey"] = s.public_pem;
  return j;
}

Signature signature_from_json(const json& j) {
  Signature s;
  s.algorithm = parse_key_algorithm(j.at("algorithm").get<std::string>());
  s.key_id = j.at("keyId").get<std::string>();
  s.value = j.at("value").get<std::string>();
  s.public_pem = j.value("publicKey", std::string());
  s.signed_at = j.value("signedAt", std::string());
  return s;
}

// The registry's errors, worded as before the shared wrapper: what failed (the SQL, "step",
// "bind" or "opening FILE") and SQLite's text; a held lock is `unavailable`.
Error registry_error(const std::filesystem::path& path, const sqlite::Failure& f) {
  std::string what = f.op == sqlite::Op::open   ? fmt::format("opening {}", path.string())
                     : f.op == sqlite::Op::step ? std::string("step")
                     : f.op == sqlite::Op::bind ? std::string("bind")
                                                : f.sql;
  std::string message = fmt::format("artifact registry: {}: {}", what, f.message);
  if (f.busy || f.locked) {
    return Error::unavailable(message, "Another aiot holds the registry's write lock; try again.");
  }
  return Error::failure(message);
}

}  // namespace

struct Store::Db : sqlite::Database {
  using sqlite::Database::Database;
};

namespace {

using Stmt = sqlite::Statement;
using WriteTxn = sqlite::WriteTransaction;

ArtifactRecord read_row(const Stmt& s) {
  ArtifactRecord r;
  r.kind = parse_kind(s.text(0));
  r.name = s.text(1);
  r.version = s.text(2);
  r.sha256 = s.text(3);
  r.size = static_cast<std::uint64_t>(s.integer(4));
  r.uri = s.text(5);
  r.source_path = s.text(6);
  r.metadata = json::parse(s.text(7));
  r.card = json::parse(s.text(8));
  if (!s.is_null(9)) r.signature = signature_from_json(json::parse(s.text(9)));
  r.added_at = s.text(10);
  return r;
}

}  // namespace

Store::Store(const std::filesystem::path& db) {
  if (db.has_parent_path()) fs::ensure_dir(db.parent_path());
  db_ = std::make_unique<Db>(db, sqlite::Database::Options{
                                     .create = true,
                                     .busy_timeout_ms = k_busy_timeout_ms,
                                     .on_error = [db](const sqlite::Failure& f) { return registry_error(db, f); }});
  db_->exec("PRAGMA journal_mode = WAL");  // already so for a hub file; a cloud registry file gets it too
  WriteTxn txn(*db_);
  db_->exec(k_schema);
  Stmt get = db_->prepare("SELECT value FROM artifact_meta WHERE key = 'format'");
  if (get.step()) {
    int format = std::stoi(get.text(0));
    if (format > k_format) {
      throw Error::failure(fmt::format("{}: the artifact registry has format {}, newer than this aiot's {}",
                                       db.string(), format, k_format),
                           "Upgrade aiot.");
    }
  } else {
    Stmt put = db_->prepare("INSERT INTO artifact_meta (key, value) VALUES ('format', ?)");
    put.bind(1, std::to_string(k_format));
    put.step();
  }
  txn.commit();
}

Store::~Store() = default;

AddOutcome Store::add(const ArtifactRecord& r) {
  WriteTxn txn(*db_);
  Stmt existing = db_->prepare("SELECT sha256 FROM artifacts WHERE kind = ? AND name = ? AND version = ?");
  existing.bind(1, std::string(to_string(r.kind))).bind(2, r.name).bind(3, r.version);
  if (existing.step()) {
    if (existing.text(0) == r.sha256) return AddOutcome::unchanged;
    throw Error::conflict(fmt::format("{} {} {} is already registered with SHA-256 {}, and this file's is {}",
                                      to_string(r.kind), r.name, r.version, existing.text(0), r.sha256),
                          "Versions are immutable: give the new file a new version.");
  }
  Stmt seq = db_->prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM artifacts");
  seq.step();
  std::int64_t next = seq.integer(0);
  Stmt ins = db_->prepare(fmt::format("INSERT INTO artifacts ({}, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", k_columns));
  ins.bind(1, std::string(to_string(r.kind)))
      .bind(2, r.name)
      .bind(3, r.version)
      .bind(4, r.sha256)
      .bind(5, static_cast<std::int64_t>(r.size))
      .bind(6, r.uri)
      .bind(7, r.source_path)
      .bind(8, r.metadata.dump())
      .bind(9, r.card.dump());
  if (r.signature) {
    ins.bind(10, signature_json(*r.signature).dump());
  } else {
    ins.bind_null(10);
  }
  ins.bind(11, r.added_at).bind(12, next);
  ins.step();
  txn.commit();
  return AddOutcome::created;
}

std::optional<ArtifactRecord> Store::get(Kind kind, const std::string& name, const std::string& version) {
  Stmt s = db_->prepare(fmt::format("SELECT {} FROM artifacts WHERE kind = ? AND name = ? AND version = ?", k_columns));
  s.bind(1, std::string(to_string(kind))).bind(2, name).bind(3, version);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

ArtifactRecord Store::need(Kind kind, const std::string& name, const std::string& version) {
  if (auto r = get(kind, name, version)) return *r;
  std::vector<std::string> versions;
  for (const auto& r : list(kind, name)) versions.push_back(r.version);
  std::string hint = versions.empty()
                         ? fmt::format("No {} named '{}' is registered; add it with 'aiot {} add FILE --name {} "
                                       "--version {}'.",
                                       to_string(kind), name, to_string(kind), name, version)
                         : fmt::format("Registered versions of {}: {}.", name, fmt::join(versions, ", "));
  throw Error::not_found(fmt::format("{} {} {} is not in the artifact registry", to_string(kind), name, version), hint);
}

std::optional<ArtifactRecord> Store::latest(Kind kind, const std::string& name) {
  Stmt s = db_->prepare(
      fmt::format("SELECT {} FROM artifacts WHERE kind = ? AND name = ? ORDER BY seq DESC LIMIT 1", k_columns));
  s.bind(1, std::string(to_string(kind))).bind(2, name);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::vector<ArtifactRecord> Store::list(Kind kind, const std::string& name) {
  Stmt s = db_->prepare(
      fmt::format("SELECT {} FROM artifacts WHERE kind = ? AND (? = '' OR name = ?) ORDER BY seq", k_columns));
  s.bind(1, std::string(to_string(kind))).bind(2, name).bind(3, name);
  std::vector<ArtifactRecord> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

std::optional<ArtifactRecord> Store::previous(Kind kind, const std::string& name, const std::string& version) {
  Stmt s =
      db_->prepare(fmt::format("SELECT {} FROM artifacts WHERE kind = ?1 AND name = ?2 AND seq < (SELECT seq FROM "
                               "artifacts WHERE kind = ?1 AND name = ?2 AND version = ?3) ORDER BY seq DESC LIMIT 1",
                               k_columns));
  s.bind(1, std::string(to_string(kind))).bind(2, name).bind(3, version);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

void Store::set_signature(Kind kind, const std::string& name, const std::string& version, const Signature& sig) {
  WriteTxn txn(*db_);
  Stmt s = db_->prepare("UPDATE artifacts SET signature = ? WHERE kind = ? AND name = ? AND version = ?");
  s.bind(1, signature_json(sig).dump()).bind(2, std::string(to_string(kind))).bind(3, name).bind(4, version);
  s.step();
  if (db_->changes() != 1) {
    throw Error::not_found(fmt::format("{} {} {} is not in the artifact registry", to_string(kind), name, version));
  }
  txn.commit();
}

std::filesystem::path store_path(Context& ctx) {
  const std::string& hub = ctx.settings().get("hub");
  if (hub == "local" || hub.rfind("local:", 0) == 0) {
    if (auto* local = dynamic_cast<hub::local::LocalHub*>(&ctx.hub())) return local->path();
  }
  // A cloud hub (or a test's own hub): a registry file per profile and hub kind.
  std::string kind = hub.substr(0, hub.find(':'));
  std::string profile = ctx.settings().profile();
  for (char& c : profile) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return ctx.settings().paths().data_dir / "artifacts" / fmt::format("{}-{}.db", profile, kind);
}

}  // namespace aiot::artifact
