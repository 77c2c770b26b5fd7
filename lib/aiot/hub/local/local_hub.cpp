#include "aiot/hub/local/local_hub.hpp"

#include <simdjson.h>

#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "aiot/core/crypto.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/sqlite.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/query.hpp"

namespace aiot::hub::local {

namespace {

// Versioned migrations: entry i moves the schema from version i to i+1. Never edit a shipped
// entry; append a new one.
const char* const k_migrations[] = {
    R"sql(
    CREATE TABLE devices (
      id                TEXT PRIMARY KEY,
      status            TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
      auth_type         TEXT NOT NULL CHECK (auth_type IN ('sas', 'selfSigned', 'certificateAuthority', 'none')),
      primary_key       TEXT NOT NULL DEFAULT '',
      secondary_key     TEXT NOT NULL DEFAULT '',
      primary_sha1      TEXT NOT NULL DEFAULT '',
      primary_sha256    TEXT NOT NULL DEFAULT '',
      secondary_sha1    TEXT NOT NULL DEFAULT '',
      secondary_sha256  TEXT NOT NULL DEFAULT '',
      tags              TEXT NOT NULL DEFAULT '{}',
      desired           TEXT NOT NULL DEFAULT '{}',
      desired_version   INTEGER NOT NULL DEFAULT 1,
      reported          TEXT NOT NULL DEFAULT '{}',
      reported_version  INTEGER NOT NULL DEFAULT 1,
      version           INTEGER NOT NULL DEFAULT 1,
      identity_version  INTEGER NOT NULL DEFAULT 1,
      generation_id     TEXT NOT NULL,
      created_ms        INTEGER NOT NULL,
      updated_ms        INTEGER NOT NULL
    ) WITHOUT ROWID;
    )sql",
    // 2: engine-wide values, e.g. the simulated clock (sim_time_ms).
    R"sql(
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) WITHOUT ROWID;
    )sql",
};

std::string wire_auth(AuthType t) {
  switch (t) {
    case AuthType::sas: return "sas";
    case AuthType::self_signed: return "selfSigned";
    case AuthType::certificate_authority: return "certificateAuthority";
    case AuthType::none: return "none";
  }
  return "none";
}

// IoT Hub etags are opaque base64 strings; ours encode the version they stand for.
std::string etag_for(std::int64_t version) { return crypto::base64_encode(std::to_string(version)); }

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint from_ms(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

std::string random_key() { return crypto::base64_encode(crypto::random_bytes(32)); }

using Stmt = sqlite::Statement;

// A query parameter: strings as TEXT, integers as INTEGER, doubles as REAL, booleans as 0/1, null as NULL
// (the binding hub/query.hpp's to_sql expects).
void bind_json(Stmt& s, int i, const json& v) {
  if (v.is_string()) {
    s.bind(i, v.get_ref<const std::string&>());
  } else if (v.is_boolean()) {
    s.bind(i, static_cast<std::int64_t>(v.get<bool>() ? 1 : 0));
  } else if (v.is_number_integer()) {
    s.bind(i, v.get<std::int64_t>());
  } else if (v.is_number_unsigned()) {
    s.bind(i, static_cast<std::int64_t>(v.get<std::uint64_t>()));
  } else if (v.is_number_float()) {
    s.bind(i, v.get<double>());
  } else {
    s.bind_null(i);
  }
}

// The local hub's errors, worded as before the shared wrapper: a lock held past the busy timeout
// is `unavailable` (exit 5), anything else a failure.
Error hub_error(const std::filesystem::path& path, const sqlite::Failure& f) {
  switch (f.op) {
    case sqlite::Op::open:
      return Error::failure(fmt::format("cannot open the local hub {}: {}", path.string(), f.message));
    case sqlite::Op::prepare: return Error::failure(fmt::format("local hub: {} (in: {})", f.message, f.sql));
    case sqlite::Op::exec:
      if (f.busy || f.locked) {
        return Error::unavailable("local hub is busy (another aiot holds a write lock): " + f.message);
      }
      return Error::failure("local hub: " + f.message);
    case sqlite::Op::step:
      if (f.busy) {
        return Error::unavailable(fmt::format("local hub is busy: {}", f.message));
      }
      return Error::failure(fmt::format("local hub: {}", f.message));
    case sqlite::Op::bind: break;
  }
  return Error::failure(fmt::format("local hub: {}", f.message));
}

// The JSON columns of listed rows are parsed with simdjson and converted to nlohmann::json: a
// device list spends most of its time parsing them, and nlohmann's own parser is several times
// slower. The result is the value json::parse gives for the same text (non-negative integers
// unsigned, negative ones signed, last duplicate key wins); text simdjson refuses (e.g. integers
// beyond 64 bits), and the integer -0 (signed for nlohmann, indistinguishable from 0 in simdjson's
// tree), go to json::parse.
class JsonColumnParser {
 public:
  json parse(std::string_view text) {
    if (has_negative_zero_integer(text)) {
      return json::parse(text.begin(), text.end());
    }
    simdjson::dom::element root;
    if (parser_.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) {
      return json::parse(text.begin(), text.end());
    }
    json out;
    if (!convert(root, out)) {
      return json::parse(text.begin(), text.end());
    }
    return out;
  }

 private:
  // "-0" not followed by a digit, '.' or an exponent (inside strings too: then json::parse is merely slower).
  static bool has_negative_zero_integer(std::string_view text) {
    for (auto at = text.find("-0"); at != std::string_view::npos; at = text.find("-0", at + 2)) {
      char next = at + 2 < text.size() ? text[at + 2] : '\0';
      if (!((next >= '0' && next <= '9') || next == '.' || next == 'e' || next == 'E')) return true;
    }
    return false;
  }

  static bool convert(simdjson::dom::element e, json& out) {
    switch (e.type()) {
      case simdjson::dom::element_type::OBJECT: {
        out = json::object();
        auto& object = out.get_ref<json::object_t&>();
        for (auto field : simdjson::dom::object(e)) {
          json value;
          if (!convert(field.value, value)) return false;
          object.insert_or_assign(std::string(field.key), std::move(value));
        }
        return true;
      }
      case simdjson::dom::element_type::ARRAY: {
        out = json::array();
        auto& array = out.get_ref<json::array_t&>();
        for (auto item : simdjson::dom::array(e)) {
          array.emplace_back();
          if (!convert(item, array.back())) return false;
        }
        return true;
      }
      case simdjson::dom::element_type::STRING: out = std::string(std::string_view(e)); return true;
      case simdjson::dom::element_type::INT64: {
        std::int64_t v = e.get_int64();
        if (v < 0) {
          out = v;
        } else {
          out = static_cast<std::uint64_t>(v);
        }
        return true;
      }
      case simdjson::dom::element_type::UINT64: out = std::uint64_t(e.get_uint64()); return true;
      case simdjson::dom::element_type::DOUBLE: out = double(e.get_double()); return true;
      case simdjson::dom::element_type::BOOL: out = bool(e.get_bool()); return true;
      case simdjson::dom::element_type::NULL_VALUE: out = nullptr; return true;
    }
    return false;
  }

  simdjson::dom::parser parser_;
};

const char* const k_columns =
    "id, status, auth_type, primary_key, secondary_key, primary_sha1, primary_sha256, secondary_sha1, "
    "secondary_sha256, tags, desired, desired_version, reported, reported_version, version, identity_version, "
    "generation_id, created_ms, updated_ms";

// Tags and desired are parsed only when wanted (ListOptions::with_tags, with_desired).
Device read_device(const Stmt& s, JsonColumnParser& parser, bool with_tags = true, bool with_desired = true,
                   bool with_reported = true) {
  Device d;
  d.id = s.text(0);
  d.enabled = s.text(1) == "enabled";
  d.auth.type = parse_auth_type(s.text(2)).value_or(AuthType::none);
  d.auth.primary_key = s.text(3);
  d.auth.secondary_key = s.text(4);
  d.auth.primary = {s.text(5), s.text(6)};
  d.auth.secondary = {s.text(7), s.text(8)};
  if (with_tags) d.tags = parser.parse(s.view(9));
  if (with_desired) d.desired = parser.parse(s.view(10));
  d.desired_version = s.integer(11);
  if (with_reported) d.reported = parser.parse(s.view(12));
  d.reported_version = s.integer(13);
  d.version = s.integer(14);
  d.etag = etag_for(s.integer(15));
  d.twin_etag = etag_for(d.version);
  d.generation_id = s.text(16);
  d.created = from_ms(s.integer(17));
  d.updated = from_ms(s.integer(18));
  return d;
}

}  // namespace

struct LocalHub::Db {
  explicit Db(const std::filesystem::path& path)
      : sql(path, {.create = true,
                   .busy_timeout_ms = 10'000,
                   .on_error = [path](const sqlite::Failure& f) { return hub_error(path, f); }}) {}

  // Statements run once per device in bulk operations are prepared once per hub (sql.cached):
  // preparing costs more than running them.
  sqlite::Database sql;
  JsonColumnParser parser;  // keeps its buffers from row to row
};

using WriteTxn = sqlite::WriteTransaction;

LocalHub::LocalHub(const std::filesystem::path& path, Clock clock)
    : path_(path), clock_(std::move(clock)) {
  if (path.has_parent_path()) fs::ensure_dir(path.parent_path());
  db_ = std::make_unique<Db>(path);
  // Switching a new file to WAL needs a lock that SQLite does not wait for through the busy
  // handler: when two processes open a fresh hub at once, one gets SQLITE_BUSY. Retry for as long
  // as the busy timeout would have waited.
  for (int attempt = 0;; ++attempt) {
    auto failed = db_->sql.try_exec("PRAGMA journal_mode=WAL");
    if (!failed) break;
    if ((!failed->busy && !failed->locked) || attempt >= 500)
      throw Error::unavailable(fmt::format("cannot open the local hub {}: {}", path.string(), failed->message));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  db_->sql.exec("PRAGMA synchronous=NORMAL");
  db_->sql.exec("PRAGMA foreign_keys=ON");

  int version = schema_version();
  int latest = latest_schema_version();
  if (version > latest)
    throw Error::failure(fmt::format("the local hub {} has schema version {}, newer than this aiot knows ({})",
                                     path.string(), version, latest),
                         "Upgrade aiot to use this hub.");
  if (version < latest) {
    WriteTxn txn(db_->sql);
    version = schema_version();  // another process may have migrated while we waited for the lock
    for (int v = version; v < latest; ++v) {
      db_->sql.exec(k_migrations[v]);
      db_->sql.exec(fmt::format("PRAGMA user_version={}", v + 1));
    }
    txn.commit();
  }
}

LocalHub::~LocalHub() = default;

int LocalHub::latest_schema_version() { return static_cast<int>(std::size(k_migrations)); }

int LocalHub::schema_version() const {
  Stmt s = db_->sql.prepare("PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

std::string LocalHub::describe() const { return "local:" + path_.string(); }

std::optional<TimePoint> LocalHub::sim_time() {
  Stmt s = db_->sql.prepare("SELECT value FROM meta WHERE key = 'sim_time_ms'");
  if (!s.step()) return std::nullopt;
  return from_ms(std::stoll(s.text(0)));
}

void LocalHub::set_sim_time(TimePoint t) {
  WriteTxn txn(db_->sql);
  Stmt s = db_->sql.prepare("INSERT INTO meta (key, value) VALUES ('sim_time_ms', ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  s.bind(1, std::to_string(to_ms(t)));
  s.step();
  txn.commit();
}

TimePoint LocalHub::now() {
  if (auto t = sim_time()) return *t;
  return clock_();
}

namespace {

void insert_device(LocalHub::Db& db, Device& d, TimePoint now) {
  if (d.auth.type == AuthType::sas) {
    // Like IoT Hub: empty keys ask the hub to generate them.
    if (d.auth.primary_key.empty()) d.auth.primary_key = random_key();
    if (d.auth.secondary_key.empty()) d.auth.secondary_key = random_key();
  }
  d.version = 1;
  d.desired_version = 1;
  d.reported_version = 1;
  d.generation_id = str::hex(crypto::random_bytes(8));
  d.created = d.updated = now;
  d.etag = etag_for(1);
  d.twin_etag = etag_for(1);
  Stmt s = db.sql.cached(fmt::format("INSERT INTO devices ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", k_columns));
  s.bind(1, d.id)
      .bind(2, std::string(d.enabled ? "enabled" : "disabled"))
      .bind(3, wire_auth(d.auth.type))
      .bind(4, d.auth.primary_key)
      .bind(5, d.auth.secondary_key)
      .bind(6, d.auth.primary.sha1)
      .bind(7, d.auth.primary.sha256)
      .bind(8, d.auth.secondary.sha1)
      .bind(9, d.auth.secondary.sha256)
      .bind(10, d.tags.dump())
      .bind(11, d.desired.dump())
      .bind(12, d.desired_version)
      .bind(13, d.reported.dump())
      .bind(14, d.reported_version)
      .bind(15, d.version)
      .bind(16, std::int64_t{1})
      .bind(17, d.generation_id)
      .bind(18, to_ms(now))
      .bind(19, to_ms(now));
  s.step();
}

std::optional<Device> find_device(LocalHub::Db& db, std::string_view id) {
  Stmt s = db.sql.cached(fmt::format("SELECT {} FROM devices WHERE id = ?", k_columns));
  s.bind(1, std::string(id));
  if (!s.step()) return std::nullopt;
  return read_device(s, db.parser);
}

// Writes every mutable column of `d` back (the caller has bumped versions).
void store_device(LocalHub::Db& db, const Device& d, std::int64_t identity_version, TimePoint now) {
  Stmt s = db.sql.cached(
         "UPDATE devices SET status=?, auth_type=?, primary_key=?, secondary_key=?, primary_sha1=?, primary_sha256=?, "
         "secondary_sha1=?, secondary_sha256=?, tags=?, desired=?, desired_version=?, reported=?, reported_version=?, "
         "version=?, identity_version=?, updated_ms=? WHERE id=?");
  s.bind(1, std::string(d.enabled ? "enabled" : "disabled"))
      .bind(2, wire_auth(d.auth.type))
      .bind(3, d.auth.primary_key)
      .bind(4, d.auth.secondary_key)
      .bind(5, d.auth.primary.sha1)
      .bind(6, d.auth.primary.sha256)
      .bind(7, d.auth.secondary.sha1)
      .bind(8, d.auth.secondary.sha256)
      .bind(9, d.tags.dump())
      .bind(10, d.desired.dump())
      .bind(11, d.desired_version)
      .bind(12, d.reported.dump())
      .bind(13, d.reported_version)
      .bind(14, d.version)
      .bind(15, identity_version)
      .bind(16, to_ms(now))
      .bind(17, d.id);
  s.step();
}

std::int64_t identity_version_of(const Device& d) { return std::stoll(crypto::base64_decode(d.etag)); }

Error not_found(std::string_view id) {
  return Error::not_found(fmt::format("device '{}' not found", id), "List devices with 'aiot device list'.");
}

void check_id(std::string_view id) {
  if (auto why = invalid_device_id(id)) throw Error::usage(*why);
}

}  // namespace

Device LocalHub::create(const Device& spec) {
  check_id(spec.id);
  WriteTxn txn(db_->sql);
  if (find_device(*db_, spec.id))
    throw Error::conflict(fmt::format("device '{}' already exists", spec.id),
                          "Change it with 'aiot device update', or re-run an import with --update.");
  Device d = spec;
  insert_device(*db_, d, now());
  txn.commit();
  return d;
}

std::vector<ImportResult> LocalHub::import(std::span<const Device> devices, ImportMode mode) {
  std::vector<ImportResult> results;
  results.reserve(devices.size());
  TimePoint now = this->now();
  WriteTxn txn(db_->sql);
  for (const auto& spec : devices) {
    ImportResult r;
    try {
      check_id(spec.id);
      auto existing = find_device(*db_, spec.id);
      if (!existing) {
        Device d = spec;
        insert_device(*db_, d, now);
        r.outcome = RowOutcome::created;
        r.device = std::move(d);
      } else if (same_content(*existing, spec)) {
        r.outcome = RowOutcome::unchanged;
        r.device = std::move(*existing);
      } else if (mode == ImportMode::create) {
        throw Error::conflict(fmt::format("device '{}' already exists with other content", spec.id),
                              "Re-run with --update to replace it.");
      } else {
        Device d = *existing;
        bool identity_changed = d.enabled != spec.enabled || d.auth.type != spec.auth.type ||
                                (!spec.auth.primary_key.empty() && spec.auth.primary_key != d.auth.primary_key) ||
                                (!spec.auth.secondary_key.empty() && spec.auth.secondary_key != d.auth.secondary_key) ||
                                (!spec.auth.primary.empty() && spec.auth.primary != d.auth.primary) ||
                                (!spec.auth.secondary.empty() && spec.auth.secondary != d.auth.secondary);
        std::int64_t identity_version = identity_version_of(d) + (identity_changed ? 1 : 0);
        if (d.auth.type != spec.auth.type) d.auth = Auth{.type = spec.auth.type};
        d.enabled = spec.enabled;
        if (!spec.auth.primary_key.empty()) d.auth.primary_key = spec.auth.primary_key;
        if (!spec.auth.secondary_key.empty()) d.auth.secondary_key = spec.auth.secondary_key;
        if (!spec.auth.primary.empty()) d.auth.primary = spec.auth.primary;
        if (!spec.auth.secondary.empty()) d.auth.secondary = spec.auth.secondary;
        if (d.auth.type == AuthType::sas) {
          if (d.auth.primary_key.empty()) d.auth.primary_key = random_key();
          if (d.auth.secondary_key.empty()) d.auth.secondary_key = random_key();
        }
        bool twin_changed = d.tags != spec.tags || (!spec.desired.empty() && d.desired != spec.desired);
        d.tags = spec.tags;
        if (!spec.desired.empty() && d.desired != spec.desired) {
          d.desired = spec.desired;
          ++d.desired_version;
        }
        if (twin_changed) ++d.version;
        store_device(*db_, d, identity_version, now);
        d.etag = etag_for(identity_version);
        d.twin_etag = etag_for(d.version);
        d.updated = now;
        r.outcome = RowOutcome::updated;
        r.device = std::move(d);
      }
    } catch (const Error& e) {
      if (e.code() == ExitCode::unavailable) throw;  // the store itself failed: stop the batch
      r.outcome = RowOutcome::failed;
      r.error = e;
    }
    results.push_back(std::move(r));
  }
  txn.commit();
  return results;
}

Device LocalHub::get(std::string_view id) {
  auto d = find_device(*db_, id);
  if (!d) throw not_found(id);
  return *d;
}

std::vector<Device> LocalHub::list(const ListOptions& options) {
  auto q = query::Query::parse(options.where);
  std::vector<json> params;
  std::string sql = fmt::format("SELECT {} FROM devices", k_columns);
  if (!q.empty()) sql += " WHERE " + q.to_sql(params);
  sql += " ORDER BY id";
  if (options.limit > 0) sql += fmt::format(" LIMIT {}", options.limit);
  Stmt s = db_->sql.prepare(sql);
  for (size_t i = 0; i < params.size(); ++i) bind_json(s, static_cast<int>(i + 1), params[i]);
  std::vector<Device> out;
  while (s.step())
    out.push_back(read_device(s, db_->parser, options.with_tags, options.with_desired, options.with_reported));
  return out;
}

std::vector<GroupCount> LocalHub::count_by(const std::string& where, const std::vector<std::string>& paths) {
  // SELECT MAX(type0), value0, ..., COUNT(*) FROM devices WHERE ... GROUP BY class0, value0, ...
  // The JSON type is grouped too, so '1', 1 and true (which json_extract all gives as 1) stay
  // apart, but as a class: 2 and 2.0 are one number, as in the query language and IoT Hub.
  std::vector<json> params;
  std::vector<json> group_params;
  std::string select;
  std::string group;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto path = query::PropertyPath::parse(paths[i]);
    auto [type, value] = path.to_sql(params);
    select += fmt::format("MAX({}), {}, ", type, value);
    auto [group_type, group_value] = path.to_sql(group_params);
    group += fmt::format("{}replace(replace({}, 'integer', 'number'), 'real', 'number'), {}", i == 0 ? " GROUP BY " : ", ",
                         group_type, group_value);
  }
  auto q = query::Query::parse(where);
  std::string sql = fmt::format("SELECT {}COUNT(*) FROM devices", select);
  if (!q.empty()) sql += " WHERE " + q.to_sql(params);
  sql += group;
  params.insert(params.end(), group_params.begin(), group_params.end());
  Stmt s = db_->sql.prepare(sql);
  for (size_t i = 0; i < params.size(); ++i) bind_json(s, static_cast<int>(i + 1), params[i]);
  std::vector<GroupCount> out;
  const int n = static_cast<int>(paths.size());
  while (s.step()) {
    GroupCount g;
    for (int i = 0; i < n; ++i) {
      if (s.is_null(2 * i)) {
        g.keys.emplace_back(std::nullopt);
        continue;
      }
      const std::string type = s.text(2 * i);
      const int v = 2 * i + 1;
      if (type == "null") g.keys.emplace_back(json(nullptr));
      else if (type == "true" || type == "false") g.keys.emplace_back(json(type == "true"));
      else if (type == "integer") g.keys.emplace_back(json(s.integer(v)));
      else if (type == "real") g.keys.emplace_back(json(s.real(v)));
      else if (type == "text") g.keys.emplace_back(json(s.text(v)));
      else g.keys.emplace_back(json::parse(s.view(v)));  // array, object: JSON text
    }
    // Without GROUP BY the one row is the total, zero included; grouped, SQLite has no empty groups.
    g.count = s.integer(2 * n);
    out.push_back(std::move(g));
  }
  return out;
}

namespace {
// What a DeviceUpdate reads and writes: the twin's tags and desired state, the status and the
// versions. Bulk updates read only these columns, not the reported state and credentials.
struct UpdatableColumns {
  std::string id;
  bool enabled = true;
  json tags;
  json desired;
  std::int64_t desired_version = 0;
  std::int64_t version = 0;
  std::int64_t identity_version = 0;
};

// Applies `u` to `c` inside the caller's transaction and writes the changed columns back; throws
// on an etag mismatch.
void apply_update_to(LocalHub::Db& db, const DeviceUpdate& u, UpdatableColumns& c, TimePoint now) {
  if (!u.if_match.empty() && u.if_match != etag_for(c.version) && u.if_match != "*")
    throw Error::precondition(
        fmt::format("device '{}' changed since etag {} (now {})", u.id, u.if_match, etag_for(c.version)),
        "Read it again with 'aiot device show' and retry.");
  bool identity_changed = false;
  if (u.enabled && *u.enabled != c.enabled) {
    c.enabled = *u.enabled;
    ++c.identity_version;
    identity_changed = true;
  }
  // An empty patch changes nothing: no copy to merge into and compare (bulk updates patch one of the two).
  bool tags_changed = false;
  bool desired_changed = false;
  if (!u.tags_patch.empty()) {
    json tags = c.tags;
    tags.merge_patch(u.tags_patch);
    if (tags != c.tags) {
      c.tags = std::move(tags);
      tags_changed = true;
    }
  }
  if (!u.desired_patch.empty()) {
    json desired = c.desired;
    desired.merge_patch(u.desired_patch);
    if (desired != c.desired) {
      c.desired = std::move(desired);
      ++c.desired_version;
      desired_changed = true;
    }
  }
  const bool twin_changed = tags_changed || desired_changed;
  if (twin_changed) ++c.version;
  if (twin_changed || identity_changed) {
    // Only the columns an update can change: reported and the credentials stay as they are, and an
    // unchanged tags or desired column is kept as stored (NULL binds keep it), never re-serialized.
    Stmt s = db.sql.cached(
        "UPDATE devices SET status=?, tags=COALESCE(?, tags), desired=COALESCE(?, desired), desired_version=?, "
        "version=?, identity_version=?, updated_ms=? WHERE id=?");
    s.bind(1, std::string(c.enabled ? "enabled" : "disabled"));
    if (tags_changed) s.bind(2, c.tags.dump());
    else s.bind_null(2);
    if (desired_changed) s.bind(3, c.desired.dump());
    else s.bind_null(3);
    s.bind(4, c.desired_version)
        .bind(5, c.version)
        .bind(6, c.identity_version)
        .bind(7, to_ms(now))
        .bind(8, c.id);
    s.step();
  }
}

Device apply_update(LocalHub::Db& db, const DeviceUpdate& u, TimePoint now) {
  auto found = find_device(db, u.id);
  if (!found) throw not_found(u.id);
  Device d = std::move(*found);
  UpdatableColumns c{.id = d.id,
                     .enabled = d.enabled,
                     .tags = std::move(d.tags),
                     .desired = std::move(d.desired),
                     .desired_version = d.desired_version,
                     .version = d.version,
                     .identity_version = identity_version_of(d)};
  const std::int64_t version_before = c.version;
  const std::int64_t identity_before = c.identity_version;
  apply_update_to(db, u, c, now);
  d.enabled = c.enabled;
  d.tags = std::move(c.tags);
  d.desired = std::move(c.desired);
  d.desired_version = c.desired_version;
  d.version = c.version;
  if (c.version != version_before || c.identity_version != identity_before) d.updated = now;
  d.etag = etag_for(c.identity_version);
  d.twin_etag = etag_for(d.version);
  return d;
}

// The narrow read of a bulk update: no reported state, no credentials, nothing returned.
void apply_bulk_update(LocalHub::Db& db, const DeviceUpdate& u, TimePoint now) {
  UpdatableColumns c{.id = u.id};
  {
    // Scoped: the read is reset before the row is written.
    Stmt s = db.sql.cached(
        "SELECT status, tags, desired, desired_version, version, identity_version FROM devices WHERE id = ?");
    s.bind(1, u.id);
    if (!s.step()) throw not_found(u.id);
    c.enabled = s.text(0) == "enabled";
    // A column without a patch is neither parsed nor written (a dispatch patches desired only).
    if (!u.tags_patch.empty()) c.tags = db.parser.parse(s.view(1));
    if (!u.desired_patch.empty()) c.desired = db.parser.parse(s.view(2));
    c.desired_version = s.integer(3);
    c.version = s.integer(4);
    c.identity_version = s.integer(5);
  }
  apply_update_to(db, u, c, now);
}
}  // namespace

Device LocalHub::update(const DeviceUpdate& u) {
  TimePoint now = this->now();
  WriteTxn txn(db_->sql);
  Device d = apply_update(*db_, u, now);
  txn.commit();
  return d;
}

std::vector<ImportResult> LocalHub::update_many(std::span<const DeviceUpdate> updates) {
  std::vector<ImportResult> results;
  results.reserve(updates.size());
  TimePoint now = this->now();
  WriteTxn txn(db_->sql);
  for (const auto& u : updates) {
    ImportResult r;
    try {
      apply_bulk_update(*db_, u, now);
      r.outcome = RowOutcome::updated;
    } catch (const Error& e) {
      if (e.code() == ExitCode::unavailable) throw;
      r.error = e;
    }
    results.push_back(std::move(r));
  }
  txn.commit();
  return results;
}

void LocalHub::remove(std::string_view id, std::string_view if_match) {
  WriteTxn txn(db_->sql);
  auto d = find_device(*db_, id);
  if (!d) throw not_found(id);
  if (!if_match.empty() && if_match != "*" && if_match != d->twin_etag && if_match != d->etag)
    throw Error::precondition(fmt::format("device '{}' changed since etag {}", id, if_match));
  Stmt s = db_->sql.prepare("DELETE FROM devices WHERE id = ?");
  s.bind(1, std::string(id));
  s.step();
  txn.commit();
}

namespace {
Device apply_reported(LocalHub::Db& db, std::string_view id, const json& patch, TimePoint now) {
  auto found = find_device(db, id);
  if (!found) throw not_found(id);
  Device d = std::move(*found);
  json reported = d.reported;
  reported.merge_patch(patch);
  if (reported != d.reported) {
    d.reported = std::move(reported);
    ++d.reported_version;
    ++d.version;
    store_device(db, d, identity_version_of(d), now);
    d.twin_etag = etag_for(d.version);
    d.updated = now;
  }
  return d;
}
}  // namespace

Device LocalHub::patch_reported(std::string_view id, const json& patch) {
  TimePoint now = this->now();
  WriteTxn txn(db_->sql);
  Device d = apply_reported(*db_, id, patch, now);
  txn.commit();
  return d;
}

void LocalHub::patch_reported_many(std::span<const std::pair<std::string, json>> patches) {
  TimePoint now = this->now();
  WriteTxn txn(db_->sql);
  // The simulator reports for thousands of devices at a time: two statements prepared once, and
  // only the reported columns read and written.
  Stmt read = db_->sql.prepare("SELECT reported FROM devices WHERE id = ?");
  Stmt write = db_->sql.prepare(
      "UPDATE devices SET reported = ?, reported_version = reported_version + 1, version = version + 1, "
      "updated_ms = ? WHERE id = ?");
  for (const auto& [id, patch] : patches) {
    read.reset();
    read.bind(1, id);
    if (!read.step()) throw not_found(id);
    json before = json::parse(read.text(0));
    json after = before;
    after.merge_patch(patch);
    if (after == before) continue;
    write.reset();
    write.bind(1, after.dump()).bind(2, to_ms(now)).bind(3, id);
    write.step();
  }
  txn.commit();
}

}  // namespace aiot::hub::local
