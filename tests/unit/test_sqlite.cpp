#include <doctest/doctest.h>

#include <stdexcept>

#include "aiot/core/error.hpp"
#include "aiot/core/sqlite.hpp"
#include "support/harness.hpp"

using namespace aiot;

namespace {

sqlite::Database open_test_db(const test::TempDir& dir) {
  return sqlite::Database(dir / "t.db", {.create = true, .busy_timeout_ms = 0, .on_error = {}});
}

std::int64_t count_rows(sqlite::Database& db) {
  auto s = db.prepare("SELECT count(*) FROM t");
  REQUIRE(s.step());
  return s.integer(0);
}

}  // namespace

TEST_CASE("sqlite: create, insert and select every bound type") {
  test::TempDir dir;
  auto db = open_test_db(dir);
  db.exec("CREATE TABLE t (s TEXT, i INTEGER, r REAL, n TEXT)");
  {
    auto ins = db.prepare("INSERT INTO t (s, i, r, n) VALUES (?, ?, ?, ?)");
    ins.bind(1, std::string("h\xC3\xA9llo")).bind(2, std::int64_t{-42}).bind(3, 2.5).bind_null(4);
    CHECK_FALSE(ins.step());
    CHECK(db.changes() == 1);
    ins.reset();
    ins.bind(1, std::string_view("second")).bind(2, std::int64_t{1} << 40).bind(3, -0.125).bind(4, "x");
    CHECK_FALSE(ins.step());
  }
  auto sel = db.prepare("SELECT s, i, r, n FROM t ORDER BY rowid");
  REQUIRE(sel.step());
  CHECK(sel.text(0) == "h\xC3\xA9llo");
  CHECK(sel.view(0) == "h\xC3\xA9llo");
  CHECK(sel.integer(1) == -42);
  CHECK(sel.real(2) == 2.5);
  CHECK(sel.is_null(3));
  CHECK_FALSE(sel.is_null(0));
  CHECK(sel.text(3).empty());
  REQUIRE(sel.step());
  CHECK(sel.view(0) == "second");
  CHECK(sel.integer(1) == (std::int64_t{1} << 40));
  CHECK(sel.real(2) == -0.125);
  CHECK(sel.text(3) == "x");
  CHECK_FALSE(sel.step());
  db.prepare("DELETE FROM t").run();
  CHECK(db.changes() == 2);
  CHECK(count_rows(db) == 0);
}

TEST_CASE("sqlite: a failing statement throws aiot::Error with SQLite's text, through the mapper") {
  test::TempDir dir;
  auto db = open_test_db(dir);
  db.exec("CREATE TABLE t (id TEXT PRIMARY KEY)");

  SUBCASE("prepare") {
    try {
      db.prepare("SELECT nope FROM t");
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::failure);
      CHECK(e.message().find("no such column: nope") != std::string::npos);
    }
  }
  SUBCASE("step") {
    db.exec("INSERT INTO t VALUES ('a')");
    auto s = db.prepare("INSERT INTO t VALUES ('a')");
    try {
      s.step();
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.message().find("UNIQUE constraint failed") != std::string::npos);
    }
  }
  SUBCASE("exec") {
    CHECK_THROWS_WITH_AS(db.exec("CREATE TABLE t (x)"), doctest::Contains("already exists"), Error);
    auto f = db.try_exec("CREATE TABLE t (x)");
    REQUIRE(f);
    CHECK(f->op == sqlite::Op::exec);
    CHECK(f->sql == "CREATE TABLE t (x)");
    CHECK_FALSE(f->busy);
  }
  SUBCASE("a caller's mapper words the error") {
    sqlite::Database mapped(dir / "t.db", {.create = false, .busy_timeout_ms = 0, .on_error = [](const sqlite::Failure& f) {
                                             return Error::usage("store: " + f.message + " (in: " + f.sql + ")");
                                           }});
    try {
      mapped.prepare("SELEC 1");
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::usage);
      CHECK(e.message().rfind("store: near \"SELEC\"", 0) == 0);
      CHECK(e.message().find("(in: SELEC 1)") != std::string::npos);
    }
  }
  SUBCASE("opening a missing file without create") {
    bool saw_open = false;
    CHECK_THROWS_AS(sqlite::Database(dir / "missing.db", {.create = false, .busy_timeout_ms = 0,
                                                          .on_error =
                                                              [&](const sqlite::Failure& f) {
                                                                saw_open = f.op == sqlite::Op::open;
                                                                return Error::failure("cannot open: " + f.message);
                                                              }}),
                    Error);
    CHECK(saw_open);
    CHECK_FALSE(std::filesystem::exists(dir / "missing.db"));
  }
}

TEST_CASE("sqlite: a write transaction rolls back on an exception and keeps a commit") {
  test::TempDir dir;
  auto db = open_test_db(dir);
  db.exec("CREATE TABLE t (id INTEGER)");
  try {
    sqlite::WriteTransaction txn(db);
    db.exec("INSERT INTO t VALUES (1)");
    CHECK(count_rows(db) == 1);
    throw std::runtime_error("unwind");
  } catch (const std::runtime_error&) {
  }
  CHECK(count_rows(db) == 0);
  {
    sqlite::WriteTransaction txn(db);
    db.exec("INSERT INTO t VALUES (2)");
    txn.commit();
  }
  CHECK(count_rows(db) == 1);
  // The transaction is over: a new one can begin.
  sqlite::WriteTransaction again(db);
  again.commit();
}

TEST_CASE("sqlite: a second writer gets a busy failure") {
  test::TempDir dir;
  auto first = open_test_db(dir);
  first.exec("CREATE TABLE t (id INTEGER)");
  sqlite::WriteTransaction holding(first);
  bool busy = false;
  sqlite::Database second(dir / "t.db", {.create = false, .busy_timeout_ms = 0, .on_error = [&](const sqlite::Failure& f) {
                                           busy = f.busy;
                                           return sqlite::default_error(f);
                                         }});
  try {
    sqlite::WriteTransaction blocked(second);
    FAIL("expected the lock to be held");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::unavailable);
  }
  CHECK(busy);
}

TEST_CASE("sqlite: cached statements are prepared once and reset after each use") {
  test::TempDir dir;
  auto db = open_test_db(dir);
  db.exec("CREATE TABLE t (id INTEGER, name TEXT)");
  const std::string insert = "INSERT INTO t (id, name) VALUES (?, ?)";
  for (std::int64_t i = 0; i < 3; ++i) {
    auto s = db.cached(insert);
    s.bind(1, i).bind(2, "n" + std::to_string(i));
    CHECK_FALSE(s.step());
  }
  CHECK(count_rows(db) == 3);
  CHECK(db.cached_count() == 1);
  const std::string select = "SELECT name FROM t WHERE id = ?";
  {
    auto s = db.cached(select);
    s.bind(1, std::int64_t{1});
    REQUIRE(s.step());
    CHECK(s.view(0) == "n1");
  }
  {
    // Same SQL: the same prepared statement, rewound and with no bindings left over (NULL matches no id).
    auto s = db.cached(select);
    CHECK_FALSE(s.step());
  }
  {
    auto s = db.cached(select);
    s.bind(1, std::int64_t{2});
    REQUIRE(s.step());
    CHECK(s.text(0) == "n2");
  }
  CHECK(db.cached_count() == 2);
  // A cached statement survives a schema change elsewhere: SQLite re-prepares it on the next step.
  db.exec("CREATE TABLE other (x)");
  auto s = db.cached(select);
  s.bind(1, std::int64_t{0});
  REQUIRE(s.step());
  CHECK(s.view(0) == "n0");
}
