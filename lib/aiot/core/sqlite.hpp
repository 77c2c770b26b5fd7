#pragma once
// The one SQLite wrapper of aiot's stores (local hub, simulator, artifact registry, emulators):
// a connection, prepared statements (owned, or cached for hot paths) and a write transaction.
// Each store words its own errors: the Database hands every SQLite failure to the store's
// ErrorMapper, which turns it into the aiot::Error that store has always thrown.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aiot/core/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace aiot::sqlite {

// What was being done when SQLite failed.
enum class Op { open, prepare, exec, bind, step };

struct Failure {
  Op op;
  int code = 0;         // SQLite's primary result code
  bool busy = false;    // SQLITE_BUSY: another connection holds the lock past the busy timeout
  bool locked = false;  // SQLITE_LOCKED
  std::string message;  // SQLite's error text (sqlite3_errmsg)
  std::string sql;      // the statement that failed; empty for Op::open
};

using ErrorMapper = std::function<Error(const Failure&)>;

// Without a mapper: busy or locked -> Error::unavailable, anything else -> Error::failure, with
// SQLite's text as the message.
Error default_error(const Failure& f);

class Statement;

class Database {
 public:
  struct Options {
    bool create = true;        // SQLITE_OPEN_CREATE; always read-write, no mutex (one thread per connection)
    int busy_timeout_ms = 0;   // 0: no busy handler
    ErrorMapper on_error;      // empty: default_error
  };

  // Opens `path`; a failure goes through on_error with Op::open.
  Database(const std::filesystem::path& path, Options options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements (schemas, pragmas); throws the mapped error.
  void exec(const char* sql);
  void exec(const std::string& sql) { exec(sql.c_str()); }
  // Like exec, but returns the failure instead of throwing (retry loops, ROLLBACK on unwind).
  std::optional<Failure> try_exec(const char* sql);

  // A statement prepared for this use and finalized with it.
  Statement prepare(std::string_view sql);
  // The statement for `sql`, prepared once per Database (SQLITE_PREPARE_PERSISTENT) and reset,
  // bindings cleared, when the returned Statement goes out of scope. One use at a time per SQL.
  Statement cached(const std::string& sql);

  // Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t changes() const;
  // How many statements cached() holds.
  std::size_t cached_count() const;

  [[noreturn]] void fail(Op op, int code, std::string_view sql) const;

 private:
  struct Cache;
  sqlite3* handle_ = nullptr;
  ErrorMapper on_error_;
  std::unique_ptr<Cache> cache_;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based; text is copied (SQLITE_TRANSIENT).
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, double v);
  Statement& bind_null(int i);

  // True while there is a row to read; false when done.
  bool step();
  // Steps to the end, for statements whose rows (if any) are not read.
  void run() {
    while (step()) {
    }
  }
  // Ready to run again: rewound and bindings cleared.
  void reset();

  // Columns are 0-based. view() points into SQLite's row buffer: valid until the next step or reset.
  std::string text(int col) const;
  std::string_view view(int col) const;
  std::int64_t integer(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

 private:
  friend class Database;
  Statement(const Database& db, sqlite3_stmt* stmt, bool owned) : db_(&db), stmt_(stmt), owned_(owned) {}
  void check(int rc);

  const Database* db_;
  sqlite3_stmt* stmt_;
  bool owned_;  // finalized on destruction; otherwise a cached statement, reset for its next use
};

// BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of deadlocking on a
// read-to-write upgrade. Rolled back on destruction unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~WriteTransaction() {
    if (!done_) {
      db_.try_exec("ROLLBACK");
    }
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace aiot::sqlite
