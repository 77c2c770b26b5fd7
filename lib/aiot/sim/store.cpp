#include "aiot/sim/store.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include <map>

#include "aiot/core/error.hpp"

namespace aiot::sim {

namespace {

// The simulator tables' own format, checked on open: bump it (and migrate) when they change.
constexpr int k_format = 1;

const char* const k_schema = R"sql(
  CREATE TABLE IF NOT EXISTS sim_config (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS sim_devices (
    id            TEXT PRIMARY KEY,
    idx           INTEGER NOT NULL,
    site          TEXT NOT NULL,
    region        TEXT NOT NULL,
    hw            TEXT NOT NULL,
    model_name    TEXT NOT NULL,
    running       TEXT NOT NULL,
    seen_desired  TEXT NOT NULL,
    target        TEXT NOT NULL,
    target_name   TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    started_ms    INTEGER
  ) WITHOUT ROWID;
)sql";

// Additive (the format stays 1): a hub made by an older aiot gets it on its next advance.
const char* const k_installs_schema = R"sql(
  CREATE TABLE IF NOT EXISTS sim_installs (
    device_id     TEXT NOT NULL,
    done_ms       INTEGER NOT NULL,
    started_ms    INTEGER NOT NULL,
    model_name    TEXT NOT NULL,
    from_version  TEXT NOT NULL,
    to_version    TEXT NOT NULL,
    succeeded     INTEGER NOT NULL,
    PRIMARY KEY (device_id, done_ms)
  ) WITHOUT ROWID;
)sql";

std::int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint from_ms(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

}  // namespace

struct Store::Db {
  sqlite3* handle = nullptr;
  ~Db() { sqlite3_close_v2(handle); }

  [[noreturn]] void fail(const std::string& what) const {
    int code = sqlite3_errcode(handle);
    std::string message = fmt::format("simulator store: {}: {}", what, sqlite3_errmsg(handle));
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      throw Error::unavailable(message, "Another aiot holds the hub's write lock; try again.");
    }
    throw Error::failure(message);
  }

  void exec(const char* sql) {
    if (sqlite3_exec(handle, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
};

namespace {

class Stmt {
 public:
  Stmt(Store::Db& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db.handle, sql, -1, &stmt_, nullptr) != SQLITE_OK) db_.fail(sql);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Stmt& bind(int i, std::optional<TimePoint> t) {
    check(t ? sqlite3_bind_int64(stmt_, i, to_ms(*t)) : sqlite3_bind_null(stmt_, i));
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail("step");
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) const {
    auto p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) db_.fail("bind");
  }
  Store::Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing a read-to-write upgrade.
class WriteTxn {
 public:
  explicit WriteTxn(Store::Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~WriteTxn() {
    if (!done_) sqlite3_exec(db_.handle, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  Store::Db& db_;
  bool done_ = false;
};

void put_config(Store::Db& db, const std::string& key, const std::string& value) {
  Stmt s(db, "INSERT INTO sim_config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  s.bind(1, key).bind(2, value);
  s.step();
}

const char* const k_upsert_device =
    "INSERT INTO sim_devices (id, idx, site, region, hw, model_name, running, seen_desired, target, target_name, "
    "attempt, started_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET idx=excluded.idx, "
    "site=excluded.site, region=excluded.region, hw=excluded.hw, model_name=excluded.model_name, "
    "running=excluded.running, seen_desired=excluded.seen_desired, target=excluded.target, "
    "target_name=excluded.target_name, attempt=excluded.attempt, started_ms=excluded.started_ms";

void write_device(Stmt& s, const DeviceState& d) {
  s.reset();
  s.bind(1, d.id)
      .bind(2, d.index)
      .bind(3, d.site)
      .bind(4, d.region)
      .bind(5, d.hw)
      .bind(6, d.model_name)
      .bind(7, d.running)
      .bind(8, d.seen_desired)
      .bind(9, d.target)
      .bind(10, d.target_name)
      .bind(11, d.attempt)
      .bind(12, d.started);
  s.step();
}

}  // namespace

Store::Store(const std::filesystem::path& db, bool create) : db_(std::make_unique<Db>()) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(db.c_str(), &db_->handle, flags, nullptr) != SQLITE_OK) {
    throw Error::failure(fmt::format("simulator: cannot open {}: {}", db.string(),
                                     db_->handle ? sqlite3_errmsg(db_->handle) : "out of memory"));
  }
  sqlite3_busy_timeout(db_->handle, 10'000);
  if (create) {
    WriteTxn txn(*db_);
    db_->exec(k_schema);
    db_->exec(k_installs_schema);
    Stmt s(*db_, "INSERT INTO sim_config (key, value) VALUES ('format', ?) ON CONFLICT(key) DO NOTHING");
    s.bind(1, std::to_string(k_format));
    s.step();
    txn.commit();
  }
  if (has_tables()) {
    Stmt s(*db_, "SELECT value FROM sim_config WHERE key = 'format'");
    int format = s.step() ? std::stoi(s.text(0)) : 0;
    if (format > k_format) {
      throw Error::failure(fmt::format("the simulator tables in {} have format {}, newer than this aiot knows ({})",
                                       db.string(), format, k_format),
                           "Upgrade aiot to simulate this fleet.");
    }
  }
}

Store::~Store() = default;

bool Store::has_tables() {
  Stmt s(*db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('sim_config', 'sim_devices')");
  s.step();
  return s.integer(0) == 2;
}

std::optional<SimConfig> Store::config() {
  if (!has_tables()) return std::nullopt;
  Stmt s(*db_, "SELECT key, value FROM sim_config");
  std::map<std::string, std::string> values;
  while (s.step()) values[s.text(0)] = s.text(1);
  if (!values.count("seed")) return std::nullopt;
  SimConfig c;
  c.seed = std::stoull(values["seed"]);
  c.profile_yaml = values["profile_yaml"];
  c.profile_source = values["profile_source"];
  c.start = from_ms(std::stoll(values["start_ms"]));
  c.advanced_to = from_ms(std::stoll(values["advanced_to_ms"]));
  return c;
}

void Store::init_config(const SimConfig& c) {
  WriteTxn txn(*db_);
  Stmt s(*db_, "SELECT 1 FROM sim_config WHERE key = 'seed'");
  if (!s.step()) {
    put_config(*db_, "seed", std::to_string(c.seed));
    put_config(*db_, "profile_yaml", c.profile_yaml);
    put_config(*db_, "profile_source", c.profile_source);
    put_config(*db_, "start_ms", std::to_string(to_ms(c.start)));
    put_config(*db_, "advanced_to_ms", std::to_string(to_ms(c.advanced_to)));
  }
  txn.commit();
}

std::vector<DeviceState> Store::devices() {
  std::vector<DeviceState> out;
  if (!has_tables()) return out;
  Stmt s(*db_,
         "SELECT id, idx, site, region, hw, model_name, running, seen_desired, target, target_name, attempt, "
         "started_ms FROM sim_devices ORDER BY id");
  while (s.step()) {
    DeviceState d;
    d.id = s.text(0);
    d.index = s.integer(1);
    d.site = s.text(2);
    d.region = s.text(3);
    d.hw = s.text(4);
    d.model_name = s.text(5);
    d.running = s.text(6);
    d.seen_desired = s.text(7);
    d.target = s.text(8);
    d.target_name = s.text(9);
    d.attempt = s.integer(10);
    if (!s.is_null(11)) d.started = from_ms(s.integer(11));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<TwinView> Store::twins() {
  Stmt s(*db_,
         "SELECT id, status, json_extract(desired, '$.aiot.model.version'), json_extract(desired, '$.aiot.model.name'), "
         "json_extract(reported, '$.aiot.model.version'), json_extract(reported, '$.aiot.ota.state') "
         "FROM devices ORDER BY id");
  std::vector<TwinView> out;
  while (s.step()) {
    TwinView t;
    t.id = s.text(0);
    t.enabled = s.text(1) == "enabled";
    t.desired_version = s.text(2);
    t.desired_name = s.text(3);
    t.reported_version = s.text(4);
    t.ota_state = s.text(5);
    out.push_back(std::move(t));
  }
  return out;
}

void Store::upsert_devices(std::span<const DeviceState> devices) {
  WriteTxn txn(*db_);
  Stmt s(*db_, k_upsert_device);
  for (const auto& d : devices) write_device(s, d);
  txn.commit();
}

void Store::commit_advance(TimePoint from, TimePoint to, std::span<const DeviceState> changed,
                           std::span<const std::string> removed, std::span<const InstallEvent> installs) {
  WriteTxn txn(*db_);
  bool had_history = false;
  {
    Stmt s(*db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sim_installs'");
    s.step();
    had_history = s.integer(0) == 1;
  }
  if (!had_history) {
    db_->exec(k_installs_schema);
    // Advances before this one were not recorded (an older aiot made them).
    Stmt s(*db_, "SELECT value FROM sim_config WHERE key = 'start_ms'");
    if (s.step() && std::stoll(s.text(0)) != to_ms(from)) put_config(*db_, "history_since_ms", std::to_string(to_ms(from)));
  }
  {
    Stmt s(*db_, "SELECT value FROM sim_config WHERE key = 'advanced_to_ms'");
    if (!s.step() || std::stoll(s.text(0)) != to_ms(from)) {
      throw Error::unavailable("another 'aiot sim advance' moved the simulated fleet at the same time",
                               "Check 'aiot sim status' and advance again if needed.");
    }
  }
  Stmt upsert(*db_, k_upsert_device);
  for (const auto& d : changed) write_device(upsert, d);
  Stmt del(*db_, "DELETE FROM sim_devices WHERE id = ?");
  for (const auto& id : removed) {
    del.reset();
    del.bind(1, id);
    del.step();
  }
  // A re-run of an interrupted advance computes the same installs: replace, never duplicate.
  Stmt ins(*db_,
           "INSERT OR REPLACE INTO sim_installs (device_id, done_ms, started_ms, model_name, from_version, to_version, "
           "succeeded) VALUES (?,?,?,?,?,?,?)");
  for (const auto& e : installs) {
    ins.reset();
    ins.bind(1, e.device_id)
        .bind(2, to_ms(e.done))
        .bind(3, to_ms(e.started))
        .bind(4, e.model_name)
        .bind(5, e.from_version)
        .bind(6, e.to_version)
        .bind(7, std::int64_t{e.succeeded ? 1 : 0});
    ins.step();
  }
  put_config(*db_, "advanced_to_ms", std::to_string(to_ms(to)));
  txn.commit();
}

std::vector<InstallEvent> Store::installs() {
  std::vector<InstallEvent> out;
  Stmt exists(*db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sim_installs'");
  exists.step();
  if (exists.integer(0) == 0) return out;
  Stmt s(*db_,
         "SELECT device_id, started_ms, done_ms, model_name, from_version, to_version, succeeded FROM sim_installs "
         "ORDER BY device_id, done_ms");
  while (s.step()) {
    InstallEvent e;
    e.device_id = s.text(0);
    e.started = from_ms(s.integer(1));
    e.done = from_ms(s.integer(2));
    e.model_name = s.text(3);
    e.from_version = s.text(4);
    e.to_version = s.text(5);
    e.succeeded = s.integer(6) != 0;
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<TimePoint> Store::history_since() {
  if (!has_tables()) return std::nullopt;
  Stmt s(*db_, "SELECT value FROM sim_config WHERE key = 'history_since_ms'");
  if (!s.step()) return std::nullopt;
  return from_ms(std::stoll(s.text(0)));
}

}  // namespace aiot::sim
