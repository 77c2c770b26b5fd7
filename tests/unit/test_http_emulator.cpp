// The dialect-neutral emulator pieces: --throttle and --faults specs, and the Governor.
#include <doctest/doctest.h>

#include <map>

#include "aiot/core/error.hpp"
#include "aiot/emulator/server.hpp"

using namespace aiot;
using namespace aiot::emulator;

namespace {

std::string usage_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::usage);
    return e.message();
  }
  FAIL_CHECK("expected Error::usage");
  return {};
}

}  // namespace

TEST_CASE("parse_throttle reads rates per operation class") {
  const auto spec = parse_throttle("identity=100/s, query=20/min,twin=50/s,jobs=36/h,raw=3");
  REQUIRE(spec.per_second.size() == 5);
  CHECK(spec.per_second.at("identity") == doctest::Approx(100));
  CHECK(spec.per_second.at("query") == doctest::Approx(20.0 / 60));
  CHECK(spec.per_second.at("twin") == doctest::Approx(50));
  CHECK(spec.per_second.at("jobs") == doctest::Approx(0.01));
  CHECK(spec.per_second.at("raw") == doctest::Approx(3));
  CHECK(parse_throttle("").per_second.empty());

  CHECK(usage_message([] { parse_throttle("identity=100/s,query"); }).find("'query'") != std::string::npos);
  CHECK(usage_message([] { parse_throttle("identity=fast/s"); }).find("'identity=fast/s'") != std::string::npos);
  CHECK(usage_message([] { parse_throttle("identity=10/day"); }).find("/day") != std::string::npos);
  CHECK(usage_message([] { parse_throttle("identity=0/s"); }).find("positive") != std::string::npos);
  CHECK(usage_message([] { parse_throttle("a=1/s,a=2/s"); }).find("twice") != std::string::npos);
}

TEST_CASE("parse_faults reads probabilities and the delay") {
  const auto f = parse_faults("429=0.2,503=0.05,reset=0.02,delay=0.1:200ms");
  CHECK(f.throttle == doctest::Approx(0.2));
  CHECK(f.unavailable == doctest::Approx(0.05));
  CHECK(f.reset == doctest::Approx(0.02));
  CHECK(f.delay == doctest::Approx(0.1));
  CHECK(f.delay_by == std::chrono::milliseconds(200));
  CHECK(parse_faults("throttle=1").throttle == doctest::Approx(1.0));
  CHECK(parse_faults("").throttle == 0);

  CHECK(usage_message([] { parse_faults("429=1.5"); }).find("'429=1.5'") != std::string::npos);
  CHECK(usage_message([] { parse_faults("429=-0.1"); }).find("0 to 1") != std::string::npos);
  CHECK(usage_message([] { parse_faults("delay=0.1"); }).find("duration") != std::string::npos);
  CHECK(usage_message([] { parse_faults("delay=0.1:soon"); }).find("'delay=0.1:soon'") != std::string::npos);
  CHECK(usage_message([] { parse_faults("boom=0.1"); }).find("unknown kind") != std::string::npos);
  CHECK(usage_message([] { parse_faults("429=0.1,throttle=0.2"); }).find("twice") != std::string::npos);
  CHECK(usage_message([] { parse_faults("429=0.6,503=0.5"); }).find("more than 1") != std::string::npos);
}

TEST_CASE("Governor draws faults with the configured frequencies, repeatably from the seed") {
  FaultSpec f;
  f.throttle = 0.2;
  f.unavailable = 0.1;
  f.reset = 0.05;
  f.delay = 0.15;
  Governor a({}, f, 99);
  Governor b({}, f, 99);
  std::map<Fault, int> counts;
  bool same = true;
  for (int i = 0; i < 20'000; ++i) {
    const Fault x = a.draw_fault();
    same = same && x == b.draw_fault();
    ++counts[x];
  }
  CHECK(same);
  CHECK(counts[Fault::throttle] == doctest::Approx(4000).epsilon(0.1));
  CHECK(counts[Fault::unavailable] == doctest::Approx(2000).epsilon(0.1));
  CHECK(counts[Fault::reset] == doctest::Approx(1000).epsilon(0.15));
  CHECK(counts[Fault::delay] == doctest::Approx(3000).epsilon(0.1));
  CHECK(counts[Fault::none] == doctest::Approx(10000).epsilon(0.05));

  Governor quiet({}, {}, 1);
  for (int i = 0; i < 100; ++i) {
    CHECK(quiet.draw_fault() == Fault::none);
  }
}

TEST_CASE("Governor::over_limit: a bucket of one second's operations, bulk costs leave a debt") {
  // Rates low enough that the refill during the test is negligible.
  ThrottleSpec t;
  t.per_second["identity"] = 5.0 / 3600;  // capacity 1
  t.per_second["twin"] = 3.0;             // capacity 3
  Governor g(t, {}, 1);
  CHECK_FALSE(g.over_limit("unlimited", 1000));
  CHECK_FALSE(g.over_limit("identity"));
  CHECK(g.over_limit("identity"));
  CHECK_FALSE(g.over_limit("twin"));
  CHECK_FALSE(g.over_limit("twin"));
  CHECK_FALSE(g.over_limit("twin"));
  CHECK(g.over_limit("twin"));

  ThrottleSpec bulk;
  bulk.per_second["identity"] = 10.0 / 3600;  // capacity 1, practically no refill
  Governor h(bulk, {}, 1);
  CHECK_FALSE(h.over_limit("identity", 100));  // full bucket: the bulk call goes
  CHECK(h.over_limit("identity", 1));          // and the debt blocks what follows
}
