#include "aiot/sim/store.hpp"

#include <fmt/format.h>

#include <map>

#include "aiot/core/error.hpp"
#include "aiot/core/sqlite.hpp"

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

// The simulator's errors, worded as before the shared wrapper: what failed (the SQL, "step" or
// "bind") and SQLite's text; a held lock is `unavailable`.
Error store_error(const std::filesystem::path& path, const sqlite::Failure& f) {
  if (f.op == sqlite::Op::open) {
    return Error::failure(fmt::format("simulator: cannot open {}: {}", path.string(), f.message));
  }
  std::string_view what = f.op == sqlite::Op::step ? "step" : f.op == sqlite::Op::bind ? "bind" : f.sql;
  std::string message = fmt::format("simulator store: {}: {}", what, f.message);
  if (f.busy || f.locked) {
    return Error::unavailable(message, "Another aiot holds the hub's write lock; try again.");
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

void bind_time(Stmt& s, int i, std::optional<TimePoint> t) {
  if (t) {
    s.bind(i, to_ms(*t));
  } else {
    s.bind_null(i);
  }
}

void put_config(Store::Db& db, const std::string& key, const std::string& value) {
  Stmt s = db.prepare(
      "INSERT INTO sim_config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
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
      .bind(11, d.attempt);
  bind_time(s, 12, d.started);
  s.step();
}

}  // namespace

Store::Store(const std::filesystem::path& db, bool create)
    : db_(std::make_unique<Db>(db, sqlite::Database::Options{
                                       .create = false,
                                       .busy_timeout_ms = 10'000,
                                       .on_error = [db](const sqlite::Failure& f) { return store_error(db, f); }})) {
  if (create) {
    WriteTxn txn(*db_);
    db_->exec(k_schema);
    db_->exec(k_installs_schema);
    Stmt s = db_->prepare("INSERT INTO sim_config (key, value) VALUES ('format', ?) ON CONFLICT(key) DO NOTHING");
    s.bind(1, std::to_string(k_format));
    s.step();
    txn.commit();
  }
  if (has_tables()) {
    Stmt s = db_->prepare("SELECT value FROM sim_config WHERE key = 'format'");
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
  Stmt s =
      db_->prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('sim_config', 'sim_devices')");
  s.step();
  return s.integer(0) == 2;
}

std::optional<SimConfig> Store::config() {
  if (!has_tables()) return std::nullopt;
  Stmt s = db_->prepare("SELECT key, value FROM sim_config");
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
  Stmt s = db_->prepare("SELECT 1 FROM sim_config WHERE key = 'seed'");
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
  Stmt s = db_->prepare(
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
  Stmt s = db_->prepare(
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
  Stmt s = db_->prepare(k_upsert_device);
  for (const auto& d : devices) write_device(s, d);
  txn.commit();
}

void Store::commit_advance(TimePoint from, TimePoint to, std::span<const DeviceState> changed,
                           std::span<const std::string> removed, std::span<const InstallEvent> installs) {
  WriteTxn txn(*db_);
  bool had_history = false;
  {
    Stmt s = db_->prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sim_installs'");
    s.step();
    had_history = s.integer(0) == 1;
  }
  if (!had_history) {
    db_->exec(k_installs_schema);
    // Advances before this one were not recorded (an older aiot made them).
    Stmt s = db_->prepare("SELECT value FROM sim_config WHERE key = 'start_ms'");
    if (s.step() && std::stoll(s.text(0)) != to_ms(from)) {
      put_config(*db_, "history_since_ms", std::to_string(to_ms(from)));
    }
  }
  {
    Stmt s = db_->prepare("SELECT value FROM sim_config WHERE key = 'advanced_to_ms'");
    if (!s.step() || std::stoll(s.text(0)) != to_ms(from)) {
      throw Error::unavailable("another 'aiot sim advance' moved the simulated fleet at the same time",
                               "Check 'aiot sim status' and advance again if needed.");
    }
  }
  Stmt upsert = db_->prepare(k_upsert_device);
  for (const auto& d : changed) write_device(upsert, d);
  Stmt del = db_->prepare("DELETE FROM sim_devices WHERE id = ?");
  for (const auto& id : removed) {
    del.reset();
    del.bind(1, id);
    del.step();
  }
  // A re-run of an interrupted advance computes the same installs: replace, never duplicate.
  Stmt ins = db_->prepare(
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
  Stmt exists = db_->prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sim_installs'");
  exists.step();
  if (exists.integer(0) == 0) return out;
  Stmt s = db_->prepare(
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
  Stmt s = db_->prepare("SELECT value FROM sim_config WHERE key = 'history_since_ms'");
  if (!s.step()) return std::nullopt;
  return from_ms(std::stoll(s.text(0)));
}

}  // namespace aiot::sim
