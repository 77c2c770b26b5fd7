#include <doctest/doctest.h>

#include "aiot/core/crypto.hpp"
#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/core/time.hpp"
#include "support/harness.hpp"

using namespace aiot;
using namespace std::chrono;

TEST_CASE("durations parse the units of design.md") {
  CHECK(parse_duration("90s") == milliseconds(90'000));
  CHECK(parse_duration("15m") == minutes(15));
  CHECK(parse_duration("4h") == hours(4));
  CHECK(parse_duration("7d") == hours(168));
  CHECK(parse_duration("1h30m") == minutes(90));
  CHECK(parse_duration("250ms") == milliseconds(250));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("5"));
  CHECK_FALSE(parse_duration("h"));
  CHECK_FALSE(parse_duration("3 days"));
  CHECK(format_duration(minutes(90)) == "1h30m");
  CHECK(format_duration(milliseconds(0)) == "0s");
}

TEST_CASE("RFC 3339 round trip and offsets") {
  auto t = parse_rfc3339("2026-11-23T09:00:00Z");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-11-23T09:00:00Z");
  CHECK(format_rfc3339(*parse_rfc3339("2026-11-23T10:30:00+01:30")) == "2026-11-23T09:00:00Z");
  CHECK(format_rfc3339(*parse_rfc3339("2026-11-23T09:00:00.250Z")) == "2026-11-23T09:00:00.250Z");
  CHECK(duration_cast<seconds>(t->time_since_epoch()).count() == 1795424400);
  CHECK_FALSE(parse_rfc3339("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-23 09:00"));
  CHECK_FALSE(parse_rfc3339("2026-11-23T09:00:00"));
  CHECK(format_relative(*t - hours(3), *t) == "3 hours ago");
  CHECK(format_relative(*t - seconds(10), *t) == "just now");
}

TEST_CASE("crypto helpers match known vectors") {
  CHECK(crypto::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2
  CHECK(str::hex(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(crypto::base64_encode("foobar") == "Zm9vYmFy");
  CHECK(crypto::base64_decode("Zm9vYg==") == "foob");
  CHECK(crypto::base64_decode("Zm8=") == "fo");
  CHECK_THROWS_AS(crypto::base64_decode("Zm9"), Error);
  CHECK(crypto::random_bytes(32).size() == 32);
  CHECK(crypto::random_bytes(16) != crypto::random_bytes(16));
}

TEST_CASE("atomic writes: secrets are 0600, no temp file left behind") {
  test::TempDir dir;
  auto secret = dir / "sub" / "key.pem";
  fs::write_atomic(secret, "s3cret", fs::Mode::secret);
  CHECK(test::read_text(secret) == "s3cret");
  CHECK(test::file_mode(secret) == 0600);
  fs::write_atomic(dir / "plain.txt", "hello");
  CHECK(test::file_mode(dir / "plain.txt") == 0644);
  fs::write_atomic(dir / "plain.txt", "replaced");
  CHECK(test::read_text(dir / "plain.txt") == "replaced");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 2);  // sub/ and plain.txt: no temp file left behind
  CHECK_THROWS_AS(fs::read_file(dir / "missing"), Error);
}

TEST_CASE("env: empty values count as unset for has()") {
  Env env;
  env.set("A", "");
  env.set("B", "x");
  CHECK_FALSE(env.has("A"));
  CHECK(env.has("B"));
  CHECK(env.get("A") == std::optional<std::string>(""));
  CHECK(env.get_or("A", "d") == "d");
}

TEST_CASE("the exit-code table is complete and ordered") {
  auto t = exit_code_table();
  REQUIRE(t.size() == 8);
  CHECK(to_int(t[0].code) == 0);
  CHECK(to_int(t[2].code) == 2);
  CHECK(to_int(t[6].code) == 6);
  CHECK(to_int(t[7].code) == 130);
}
