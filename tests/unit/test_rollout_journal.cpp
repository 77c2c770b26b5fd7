#include <doctest/doctest.h>

#include <fstream>

#include "aiot/core/crypto.hpp"
#include "aiot/rollout/journal.hpp"
#include "support/harness.hpp"

using namespace aiot;
using namespace aiot::rollout;
using nlohmann::json;

namespace {
JournalHead write_events(const std::filesystem::path& path, int n) {
  JournalHead head;
  for (int i = 0; i < n; ++i) {
    json e = {{"op", "STEP"}, {"i", i}, {"ts", "2026-11-23T09:00:00Z"}};
    head = chain(e, head);
    append_event(path, e);
  }
  return head;
}

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

void write_lines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::ofstream out(p, std::ios::trunc);
  for (const auto& l : lines) out << l << '\n';
}
}  // namespace

TEST_CASE("journal: the chain is SHA-256 over prev and the canonical event") {
  json e = {{"op", "PLANNED"}, {"b", 1}, {"a", "x"}};
  auto head = chain(e, JournalHead{});
  CHECK(head.seq == 1);
  CHECK(e["prev"] == "");
  // Independent recomputation: canonical JSON has sorted keys and no spaces.
  CHECK(canonical({{"op", "PLANNED"}, {"b", 1}, {"a", "x"}, {"seq", 1}, {"prev", ""}}) ==
        R"({"a":"x","b":1,"op":"PLANNED","prev":"","seq":1})");
  CHECK(head.hash == crypto::sha256_hex(R"({"a":"x","b":1,"op":"PLANNED","prev":"","seq":1})"));
  json e2 = {{"op", "NEXT"}};
  auto head2 = chain(e2, head);
  CHECK(e2["prev"] == head.hash);
  CHECK(head2.hash == crypto::sha256_hex(head.hash + canonical({{"op", "NEXT"}, {"prev", head.hash}, {"seq", 2}})));
}

TEST_CASE("journal: verify passes an intact journal and finds tampering by line") {
  test::TempDir dir;
  auto path = dir / "r.jsonl";
  auto head = write_events(path, 5);
  auto ok = verify_journal(path, head);
  CHECK(ok.ok);
  CHECK(ok.events == 5);
  CHECK(file_head(path) == head);

  SUBCASE("an edited field") {
    auto lines = lines_of(path);
    auto e = json::parse(lines[2]);
    e["i"] = 99;
    lines[2] = canonical(e);
    write_lines(path, lines);
    auto r = verify_journal(path, head);
    CHECK_FALSE(r.ok);
    CHECK(r.bad_line == 3);
    CHECK(r.problem.find("edited") != std::string::npos);
  }
  SUBCASE("a removed line") {
    auto lines = lines_of(path);
    lines.erase(lines.begin() + 1);
    write_lines(path, lines);
    auto r = verify_journal(path, head);
    CHECK_FALSE(r.ok);
    CHECK(r.bad_line == 2);
  }
  SUBCASE("truncated at the end: the chain is intact but shorter than the hub's head") {
    auto lines = lines_of(path);
    lines.pop_back();
    write_lines(path, lines);
    CHECK(verify_journal(path, std::nullopt).ok);  // without the hub's head this cannot be seen
    auto r = verify_journal(path, head);
    CHECK_FALSE(r.ok);
    CHECK(r.problem.find("truncated") != std::string::npos);
  }
  SUBCASE("a line rewritten with a recomputed hash still breaks the next line's prev") {
    auto lines = lines_of(path);
    auto e = json::parse(lines[1]);
    e["i"] = 42;
    e.erase("hash");
    e["hash"] = crypto::sha256_hex(e["prev"].get<std::string>() + canonical(e));
    lines[1] = canonical(e);
    write_lines(path, lines);
    auto r = verify_journal(path, head);
    CHECK_FALSE(r.ok);
    CHECK(r.bad_line == 3);
  }
  SUBCASE("garbage") {
    auto lines = lines_of(path);
    lines[0] = "{not json";
    write_lines(path, lines);
    auto r = verify_journal(path, head);
    CHECK_FALSE(r.ok);
    CHECK(r.bad_line == 1);
  }
}

TEST_CASE("journal: a missing journal is fine only when the hub has no events") {
  test::TempDir dir;
  CHECK(verify_journal(dir / "none.jsonl", JournalHead{}).ok);
  CHECK_FALSE(verify_journal(dir / "none.jsonl", JournalHead{3, "abc"}).ok);
  CHECK(file_head(dir / "none.jsonl").seq == 0);
}

TEST_CASE("journal: an incomplete last line left by a killed writer is cut off") {
  test::TempDir dir;
  auto path = dir / "r.jsonl";
  auto head = write_events(path, 3);
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"op":"HALF","seq":4,"prev":")";  // no newline: the writer died here
  }
  CHECK_FALSE(verify_journal(path, std::nullopt).ok);
  auto repaired = drop_incomplete_tail(path);
  CHECK(repaired == head);
  CHECK(verify_journal(path, head).ok);
  CHECK(drop_incomplete_tail(path) == head);  // nothing more to cut
}
