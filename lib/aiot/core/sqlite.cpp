#include "aiot/core/sqlite.hpp"

#include <sqlite3.h>

#include <unordered_map>

namespace aiot::sqlite {

namespace {

Failure make_failure(sqlite3* handle, Op op, int code, std::string_view sql) {
  int primary = code & 0xff;
  return Failure{.op = op,
                 .code = primary,
                 .busy = primary == SQLITE_BUSY,
                 .locked = primary == SQLITE_LOCKED,
                 .message = sqlite3_errmsg(handle),  // "out of memory" for a null handle
                 .sql = std::string(sql)};
}

}  // namespace

Error default_error(const Failure& f) {
  if (f.busy || f.locked) {
    return Error::unavailable(f.message);
  }
  return Error::failure(f.message);
}

struct Database::Cache {
  std::unordered_map<std::string, sqlite3_stmt*> statements;
};

Database::Database(const std::filesystem::path& path, Options options)
    : on_error_(options.on_error ? std::move(options.on_error) : ErrorMapper(default_error)),
      cache_(std::make_unique<Cache>()) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &handle_, flags, nullptr);
  if (rc != SQLITE_OK) {
    Failure f = make_failure(handle_, Op::open, rc, {});
    sqlite3_close_v2(handle_);
    handle_ = nullptr;
    throw on_error_(f);
  }
  if (options.busy_timeout_ms > 0) {
    sqlite3_busy_timeout(handle_, options.busy_timeout_ms);
  }
}

Database::~Database() {
  for (auto& [sql, stmt] : cache_->statements) {
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(handle_);
}

void Database::fail(Op op, int code, std::string_view sql) const {
  throw on_error_(make_failure(handle_, op, code, sql));
}

std::optional<Failure> Database::try_exec(const char* sql) {
  int rc = sqlite3_exec(handle_, sql, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    return std::nullopt;
  }
  return make_failure(handle_, Op::exec, rc, sql);
}

void Database::exec(const char* sql) {
  if (auto f = try_exec(sql)) {
    throw on_error_(*f);
  }
}

Statement Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    fail(Op::prepare, rc, sql);
  }
  return Statement(*this, stmt, true);
}

Statement Database::cached(const std::string& sql) {
  auto it = cache_->statements.find(sql);
  if (it == cache_->statements.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                nullptr);
    if (rc != SQLITE_OK) {
      fail(Op::prepare, rc, sql);
    }
    it = cache_->statements.emplace(sql, stmt).first;
  }
  return Statement(*this, it->second, false);
}

std::int64_t Database::changes() const { return sqlite3_changes64(handle_); }

std::size_t Database::cached_count() const { return cache_->statements.size(); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_), owned_(other.owned_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) {
    return;
  }
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Statement::check(int rc) {
  if (rc != SQLITE_OK) {
    db_->fail(Op::bind, rc, sqlite3_sql(stmt_));
  }
}

Statement& Statement::bind(int i, std::string_view v) {
  check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bind(int i, std::int64_t v) {
  check(sqlite3_bind_int64(stmt_, i, v));
  return *this;
}

Statement& Statement::bind(int i, double v) {
  check(sqlite3_bind_double(stmt_, i, v));
  return *this;
}

Statement& Statement::bind_null(int i) {
  check(sqlite3_bind_null(stmt_, i));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  db_->fail(Op::step, rc, sqlite3_sql(stmt_));
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int col) const { return std::string(view(col)); }

std::string_view Statement::view(int col) const {
  auto p = sqlite3_column_text(stmt_, col);
  return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string_view();
}

std::int64_t Statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

}  // namespace aiot::sqlite
