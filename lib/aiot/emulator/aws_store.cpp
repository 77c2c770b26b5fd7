#include "aiot/emulator/aws_store.hpp"

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/sqlite.hpp"

namespace aiot::emulator::aws {

namespace {

const char* const k_schema = R"sql(
CREATE TABLE IF NOT EXISTS aws_things (
  name TEXT PRIMARY KEY, thing_type TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_thing_types (
  name TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_certificates (
  id TEXT PRIMARY KEY, pem TEXT NOT NULL, status TEXT NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_thing_principals (
  thing TEXT NOT NULL, principal TEXT NOT NULL, PRIMARY KEY (thing, principal)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_policies (
  name TEXT PRIMARY KEY, document TEXT NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_policy_targets (
  policy TEXT NOT NULL, target TEXT NOT NULL, PRIMARY KEY (policy, target)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_thing_groups (
  name TEXT PRIMARY KEY, id TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', attributes TEXT NOT NULL DEFAULT '{}',
  parent TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_group_members (
  group_name TEXT NOT NULL, thing TEXT NOT NULL, PRIMARY KEY (group_name, thing)) WITHOUT ROWID;
-- A thing's groups (SearchIndex thingGroupNames, ListThingGroupsForThing) without scanning every membership.
CREATE INDEX IF NOT EXISTS aws_group_members_by_thing ON aws_group_members (thing, group_name);
CREATE TABLE IF NOT EXISTS aws_shadows (
  thing TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL, metadata TEXT NOT NULL, version INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL, PRIMARY KEY (thing, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_jobs (
  id TEXT PRIMARY KEY, arn TEXT NOT NULL, status TEXT NOT NULL, target_selection TEXT NOT NULL,
  description TEXT NOT NULL, targets TEXT NOT NULL, document TEXT NOT NULL, rollout TEXT NOT NULL,
  abort_config TEXT NOT NULL, timeout TEXT NOT NULL, retry TEXT NOT NULL, reason_code TEXT NOT NULL,
  comment TEXT NOT NULL, force_canceled INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  completed_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_job_executions (
  job_id TEXT NOT NULL, thing TEXT NOT NULL, status TEXT NOT NULL, queued_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, execution_number INTEGER NOT NULL,
  status_details TEXT NOT NULL, PRIMARY KEY (job_id, thing)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aws_job_deliveries (
  job_id TEXT NOT NULL, thing TEXT NOT NULL, previous TEXT NOT NULL, PRIMARY KEY (job_id, thing)) WITHOUT ROWID;
)sql";

// The store's errors, worded as before the shared wrapper: a held lock is `unavailable`, anything
// else a failure; a statement that does not prepare names its SQL.
Error store_error(const std::filesystem::path& hub_path, const sqlite::Failure& f) {
  switch (f.op) {
    case sqlite::Op::open:
      return Error::failure(fmt::format("cannot open {} for the AWS emulator tables: {}", hub_path.string(), f.message));
    case sqlite::Op::prepare: return Error::failure(fmt::format("aws emulator store: {} (in: {})", f.message, f.sql));
    case sqlite::Op::exec:
    case sqlite::Op::step:
      if (f.busy || f.locked) {
        return Error::unavailable("aws emulator store is busy: " + f.message);
      }
      break;
    case sqlite::Op::bind: break;
  }
  return Error::failure("aws emulator store: " + f.message);
}

// A statement prepared for one use.
struct Stmt : sqlite::Statement {
  Stmt(sqlite::Database& db, std::string_view sql) : sqlite::Statement(db.prepare(sql)) {}
};

json parse_or(const std::string& text, json fallback) {
  try {
    return text.empty() ? fallback : json::parse(text);
  } catch (const json::exception&) {
    return fallback;
  }
}

std::vector<std::string> strings(sqlite::Database& db, const char* sql, const std::string& key) {
  Stmt s(db, sql);
  s.bind(1, key);
  std::vector<std::string> out;
  while (s.step()) {
    out.push_back(s.text(0));
  }
  return out;
}

}  // namespace

Store::Store(const std::filesystem::path& hub_path)
    : db_(std::make_unique<sqlite::Database>(
          hub_path, sqlite::Database::Options{.create = true,
                                              .busy_timeout_ms = 10'000,
                                              .on_error = [hub_path](const sqlite::Failure& f) {
                                                return store_error(hub_path, f);
                                              }})) {
  db_->exec("PRAGMA synchronous=NORMAL");
  Txn txn(*this);
  db_->exec(k_schema);
  txn.commit();
}

Store::~Store() = default;

Store::Txn::Txn(Store& s) : txn_(std::make_unique<sqlite::WriteTransaction>(*s.db_)) {}
Store::Txn::~Txn() = default;
void Store::Txn::commit() { txn_->commit(); }

// ---- things and types --------------------------------------------------------------------------

std::string Store::thing_type_of(const std::string& thing) {
  Stmt s(*db_, "SELECT thing_type FROM aws_things WHERE name = ?");
  s.bind(1, thing);
  return s.step() ? s.text(0) : std::string();
}

void Store::set_thing_type(const std::string& thing, const std::string& type) {
  Stmt s(*db_, "INSERT INTO aws_things (name, thing_type) VALUES (?, ?) "
              "ON CONFLICT(name) DO UPDATE SET thing_type = excluded.thing_type");
  s.bind(1, thing).bind(2, type).run();
}

void Store::forget_thing(const std::string& thing) {
  for (const char* sql : {"DELETE FROM aws_things WHERE name = ?", "DELETE FROM aws_thing_principals WHERE thing = ?",
                          "DELETE FROM aws_group_members WHERE thing = ?"}) {
    Stmt s(*db_, sql);
    s.bind(1, thing).run();
  }
}

std::map<std::string, std::string> Store::thing_types_by_thing() {
  Stmt s(*db_, "SELECT name, thing_type FROM aws_things WHERE thing_type != ''");
  std::map<std::string, std::string> out;
  while (s.step()) {
    out[s.text(0)] = s.text(1);
  }
  return out;
}

std::optional<std::int64_t> Store::thing_type_created(const std::string& name) {
  Stmt s(*db_, "SELECT created_ms FROM aws_thing_types WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) {
    return std::nullopt;
  }
  return s.integer(0);
}

void Store::create_thing_type(const std::string& name, const std::string& description, std::int64_t created_ms) {
  Stmt s(*db_, "INSERT OR IGNORE INTO aws_thing_types (name, description, created_ms) VALUES (?, ?, ?)");
  s.bind(1, name).bind(2, description).bind(3, created_ms).run();
}

// ---- certificates and principals --------------------------------------------------------------

std::optional<CertificateRow> Store::certificate(const std::string& id) {
  Stmt s(*db_, "SELECT id, pem, status, created_ms FROM aws_certificates WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) {
    return std::nullopt;
  }
  return CertificateRow{s.text(0), s.text(1), s.text(2), s.integer(3)};
}

void Store::put_certificate(const CertificateRow& row) {
  Stmt s(*db_, "INSERT INTO aws_certificates (id, pem, status, created_ms) VALUES (?, ?, ?, ?) "
              "ON CONFLICT(id) DO UPDATE SET pem = excluded.pem, status = excluded.status");
  s.bind(1, row.id).bind(2, row.pem).bind(3, row.status).bind(4, row.created_ms).run();
}

void Store::delete_certificate(const std::string& id) {
  Stmt s(*db_, "DELETE FROM aws_certificates WHERE id = ?");
  s.bind(1, id).run();
}

std::vector<CertificateRow> Store::certificates() {
  Stmt s(*db_, "SELECT id, pem, status, created_ms FROM aws_certificates ORDER BY created_ms, id");
  std::vector<CertificateRow> out;
  while (s.step()) {
    out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3)});
  }
  return out;
}

void Store::attach_principal(const std::string& thing, const std::string& principal) {
  Stmt s(*db_, "INSERT OR IGNORE INTO aws_thing_principals (thing, principal) VALUES (?, ?)");
  s.bind(1, thing).bind(2, principal).run();
}

void Store::detach_principal(const std::string& thing, const std::string& principal) {
  Stmt s(*db_, "DELETE FROM aws_thing_principals WHERE thing = ? AND principal = ?");
  s.bind(1, thing).bind(2, principal).run();
}

std::vector<std::string> Store::principals_of(const std::string& thing) {
  return strings(*db_, "SELECT principal FROM aws_thing_principals WHERE thing = ? ORDER BY principal", thing);
}

std::vector<std::string> Store::things_of_principal(const std::string& principal) {
  return strings(*db_, "SELECT thing FROM aws_thing_principals WHERE principal = ? ORDER BY thing", principal);
}

// ---- policies ---------------------------------------------------------------------------------

std::optional<std::pair<std::string, std::int64_t>> Store::policy(const std::string& name) {
  Stmt s(*db_, "SELECT document, created_ms FROM aws_policies WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) {
    return std::nullopt;
  }
  return std::pair{s.text(0), s.integer(1)};
}

void Store::put_policy(const std::string& name, const std::string& document, std::int64_t created_ms) {
  Stmt s(*db_, "INSERT INTO aws_policies (name, document, created_ms) VALUES (?, ?, ?)");
  s.bind(1, name).bind(2, document).bind(3, created_ms).run();
}

void Store::delete_policy(const std::string& name) {
  for (const char* sql : {"DELETE FROM aws_policies WHERE name = ?", "DELETE FROM aws_policy_targets WHERE policy = ?"}) {
    Stmt s(*db_, sql);
    s.bind(1, name).run();
  }
}

void Store::attach_policy(const std::string& name, const std::string& target) {
  Stmt s(*db_, "INSERT OR IGNORE INTO aws_policy_targets (policy, target) VALUES (?, ?)");
  s.bind(1, name).bind(2, target).run();
}

void Store::detach_policy(const std::string& name, const std::string& target) {
  Stmt s(*db_, "DELETE FROM aws_policy_targets WHERE policy = ? AND target = ?");
  s.bind(1, name).bind(2, target).run();
}

std::vector<std::string> Store::policy_targets(const std::string& name) {
  return strings(*db_, "SELECT target FROM aws_policy_targets WHERE policy = ? ORDER BY target", name);
}

// ---- groups -----------------------------------------------------------------------------------

namespace {
GroupRow read_group(const Stmt& s) {
  GroupRow g;
  g.name = s.text(0);
  g.id = s.text(1);
  g.description = s.text(2);
  g.attributes = parse_or(s.text(3), json::object());
  g.parent = s.text(4);
  g.created_ms = s.integer(5);
  g.version = s.integer(6);
  return g;
}
constexpr const char* k_group_columns = "name, id, description, attributes, parent, created_ms, version";
}  // namespace

std::optional<GroupRow> Store::group(const std::string& name) {
  static const std::string sql = fmt::format("SELECT {} FROM aws_thing_groups WHERE name = ?", k_group_columns);
  Stmt s(*db_, sql);
  s.bind(1, name);
  if (!s.step()) {
    return std::nullopt;
  }
  return read_group(s);
}

void Store::put_group(const GroupRow& g) {
  Stmt s(*db_,
         "INSERT INTO aws_thing_groups (name, id, description, attributes, parent, created_ms, version) "
         "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET description = excluded.description, "
         "attributes = excluded.attributes, parent = excluded.parent, version = excluded.version");
  s.bind(1, g.name).bind(2, g.id).bind(3, g.description).bind(4, g.attributes.dump()).bind(5, g.parent);
  s.bind(6, g.created_ms).bind(7, g.version).run();
}

void Store::delete_group(const std::string& name) {
  for (const char* sql : {"DELETE FROM aws_thing_groups WHERE name = ?", "DELETE FROM aws_group_members WHERE group_name = ?"}) {
    Stmt s(*db_, sql);
    s.bind(1, name).run();
  }
}

std::vector<GroupRow> Store::groups() {
  static const std::string sql = fmt::format("SELECT {} FROM aws_thing_groups ORDER BY name", k_group_columns);
  Stmt s(*db_, sql);
  std::vector<GroupRow> out;
  while (s.step()) {
    out.push_back(read_group(s));
  }
  return out;
}

void Store::add_member(const std::string& group, const std::string& thing) {
  Stmt s(*db_, "INSERT OR IGNORE INTO aws_group_members (group_name, thing) VALUES (?, ?)");
  s.bind(1, group).bind(2, thing).run();
}

void Store::remove_member(const std::string& group, const std::string& thing) {
  Stmt s(*db_, "DELETE FROM aws_group_members WHERE group_name = ? AND thing = ?");
  s.bind(1, group).bind(2, thing).run();
}

std::vector<std::string> Store::members(const std::string& group) {
  return strings(*db_, "SELECT thing FROM aws_group_members WHERE group_name = ? ORDER BY thing", group);
}

std::vector<std::string> Store::groups_of(const std::string& thing) {
  return strings(*db_, "SELECT group_name FROM aws_group_members WHERE thing = ? ORDER BY group_name", thing);
}

// ---- shadows ----------------------------------------------------------------------------------

std::optional<ShadowRow> Store::shadow(const std::string& thing, const std::string& name) {
  Stmt s(*db_, "SELECT state, metadata, version, updated_ms FROM aws_shadows WHERE thing = ? AND name = ?");
  s.bind(1, thing).bind(2, name);
  if (!s.step()) {
    return std::nullopt;
  }
  return ShadowRow{parse_or(s.text(0), json::object()), parse_or(s.text(1), json::object()), s.integer(2), s.integer(3)};
}

void Store::put_shadow(const std::string& thing, const std::string& name, const ShadowRow& row) {
  Stmt s(*db_,
         "INSERT INTO aws_shadows (thing, name, state, metadata, version, updated_ms) VALUES (?, ?, ?, ?, ?, ?) "
         "ON CONFLICT(thing, name) DO UPDATE SET state = excluded.state, metadata = excluded.metadata, "
         "version = excluded.version, updated_ms = excluded.updated_ms");
  s.bind(1, thing).bind(2, name).bind(3, row.state.dump()).bind(4, row.metadata.dump());
  s.bind(5, row.version).bind(6, row.updated_ms).run();
}

void Store::delete_shadow(const std::string& thing, const std::string& name) {
  Stmt s(*db_, "DELETE FROM aws_shadows WHERE thing = ? AND name = ?");
  s.bind(1, thing).bind(2, name).run();
}

std::vector<std::string> Store::shadow_names(const std::string& thing) {
  return strings(*db_, "SELECT name FROM aws_shadows WHERE thing = ? AND name != '' ORDER BY name", thing);
}

std::map<std::string, ShadowRow> Store::shadows_of(const std::string& thing) {
  Stmt s(*db_, "SELECT name, state, metadata, version, updated_ms FROM aws_shadows WHERE thing = ?");
  s.bind(1, thing);
  std::map<std::string, ShadowRow> out;
  while (s.step()) {
    out[s.text(0)] = ShadowRow{parse_or(s.text(1), json::object()), parse_or(s.text(2), json::object()), s.integer(3),
                               s.integer(4)};
  }
  return out;
}

// ---- jobs -------------------------------------------------------------------------------------

std::optional<Job> Store::job(const std::string& id) {
  Stmt s(*db_,
         "SELECT id, arn, status, target_selection, description, targets, document, rollout, abort_config, timeout, "
         "retry, reason_code, comment, force_canceled, created_ms, updated_ms, completed_ms FROM aws_jobs WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) {
    return std::nullopt;
  }
  Job j;
  j.id = s.text(0);
  j.arn = s.text(1);
  j.status = s.text(2);
  j.target_selection = s.text(3);
  j.description = s.text(4);
  j.targets = parse_or(s.text(5), json::array());
  j.document = s.text(6);
  j.rollout = parse_or(s.text(7), nullptr);
  j.abort = parse_or(s.text(8), nullptr);
  j.timeout = parse_or(s.text(9), nullptr);
  j.retry = parse_or(s.text(10), nullptr);
  j.reason_code = s.text(11);
  j.comment = s.text(12);
  j.force_canceled = s.integer(13) != 0;
  j.created_ms = s.integer(14);
  j.updated_ms = s.integer(15);
  j.completed_ms = s.integer(16);
  Stmt e(*db_,
         "SELECT thing, status, queued_ms, started_ms, updated_ms, execution_number, status_details "
         "FROM aws_job_executions WHERE job_id = ? ORDER BY thing");
  e.bind(1, id);
  while (e.step()) {
    JobExecution x;
    x.thing = e.text(0);
    x.status = e.text(1);
    x.queued_ms = e.integer(2);
    x.started_ms = e.integer(3);
    x.updated_ms = e.integer(4);
    x.execution_number = e.integer(5);
    x.status_details = parse_or(e.text(6), json::object());
    j.executions.push_back(std::move(x));
  }
  return j;
}

void Store::put_job(const Job& j) {
  Stmt s(*db_,
         "INSERT OR REPLACE INTO aws_jobs (id, arn, status, target_selection, description, targets, document, rollout, "
         "abort_config, timeout, retry, reason_code, comment, force_canceled, created_ms, updated_ms, completed_ms) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, j.id).bind(2, j.arn).bind(3, j.status).bind(4, j.target_selection).bind(5, j.description);
  s.bind(6, j.targets.dump()).bind(7, j.document).bind(8, j.rollout.dump()).bind(9, j.abort.dump());
  s.bind(10, j.timeout.dump()).bind(11, j.retry.dump()).bind(12, j.reason_code).bind(13, j.comment);
  s.bind(14, std::int64_t{j.force_canceled ? 1 : 0}).bind(15, j.created_ms).bind(16, j.updated_ms).bind(17, j.completed_ms);
  s.run();
  Stmt del(*db_, "DELETE FROM aws_job_executions WHERE job_id = ?");
  del.bind(1, j.id).run();
  Stmt ins(*db_,
           "INSERT INTO aws_job_executions (job_id, thing, status, queued_ms, started_ms, updated_ms, execution_number, "
           "status_details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& x : j.executions) {
    ins.bind(1, j.id).bind(2, x.thing).bind(3, x.status).bind(4, x.queued_ms).bind(5, x.started_ms);
    ins.bind(6, x.updated_ms).bind(7, x.execution_number).bind(8, x.status_details.dump());
    ins.run();
    ins.reset();
  }
}

void Store::delete_job(const std::string& id) {
  for (const char* sql : {"DELETE FROM aws_jobs WHERE id = ?", "DELETE FROM aws_job_executions WHERE job_id = ?",
                          "DELETE FROM aws_job_deliveries WHERE job_id = ?"}) {
    Stmt s(*db_, sql);
    s.bind(1, id).run();
  }
}

std::vector<std::string> Store::job_ids() {
  Stmt s(*db_, "SELECT id FROM aws_jobs ORDER BY created_ms, id");
  std::vector<std::string> out;
  while (s.step()) {
    out.push_back(s.text(0));
  }
  return out;
}

std::optional<std::string> Store::delivery(const std::string& job_id, const std::string& thing) {
  Stmt s(*db_, "SELECT previous FROM aws_job_deliveries WHERE job_id = ? AND thing = ?");
  s.bind(1, job_id).bind(2, thing);
  if (!s.step()) {
    return std::nullopt;
  }
  return s.text(0);
}

void Store::put_delivery(const std::string& job_id, const std::string& thing, const std::string& previous_model) {
  Stmt s(*db_, "INSERT OR IGNORE INTO aws_job_deliveries (job_id, thing, previous) VALUES (?, ?, ?)");
  s.bind(1, job_id).bind(2, thing).bind(3, previous_model).run();
}

// ---- the local hub's devices (read-only) --------------------------------------------------------

std::vector<std::string> Store::device_ids() {
  Stmt s(*db_, "SELECT id FROM devices ORDER BY id");
  std::vector<std::string> out;
  while (s.step()) {
    out.push_back(s.text(0));
  }
  return out;
}

std::vector<std::string> Store::device_ids_after(const std::string& after, std::size_t limit) {
  Stmt s(*db_, "SELECT id FROM devices WHERE id > ? ORDER BY id LIMIT ?");
  s.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
  std::vector<std::string> out;
  while (s.step()) {
    out.push_back(s.text(0));
  }
  return out;
}

std::vector<std::string> Store::members_after(const std::vector<std::string>& groups, const std::string& after,
                                              std::size_t limit) {
  if (groups.empty()) {
    return {};
  }
  std::string marks;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    marks += i == 0 ? "?" : ", ?";
  }
  const std::string sql = fmt::format(
      "SELECT DISTINCT thing FROM aws_group_members WHERE group_name IN ({}) AND thing > ? ORDER BY thing LIMIT ?", marks);
  Stmt s(*db_, sql);
  int i = 1;
  for (const auto& g : groups) {
    s.bind(i++, g);
  }
  s.bind(i, after);
  s.bind(i + 1, static_cast<std::int64_t>(limit));
  std::vector<std::string> out;
  while (s.step()) {
    out.push_back(s.text(0));
  }
  return out;
}

std::map<std::string, json> Store::ota_reports(const std::vector<std::string>& things) {
  Stmt s(*db_, "SELECT json_extract(reported, '$.aiot.ota') FROM devices WHERE id = ?");
  std::map<std::string, json> out;
  for (const auto& thing : things) {
    s.bind(1, thing);
    if (s.step()) {
      json ota = parse_or(s.text(0), nullptr);
      if (ota.is_object()) {
        out.emplace(thing, std::move(ota));
      }
    }
    s.reset();
  }
  return out;
}

std::optional<json> Store::device_desired(const std::string& thing) {
  Stmt s(*db_, "SELECT desired FROM devices WHERE id = ?");
  s.bind(1, thing);
  if (!s.step()) {
    return std::nullopt;
  }
  return parse_or(s.text(0), json::object());
}

}  // namespace aiot::emulator::aws
