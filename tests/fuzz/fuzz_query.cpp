// The device query language: parse, evaluate, compile to SQL; a parsed query re-printed in
// canonical form parses again to the same canonical form.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "aiot/core/error.hpp"
#include "aiot/hub/query.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using aiot::hub::query::Query;
  static const auto twin = nlohmann::json::parse(
      R"({"deviceId":"d1","status":"enabled","tags":{"site":"berlin","ring":2,"hw":"pi5"},
          "properties":{"reported":{"aiot":{"model":{"version":"2.0"},"health":{"crashes_1h":0}}}}})");
  Query q;
  try {
    q = Query::parse(aiot::fuzz::as_text(data, size));
  } catch (const aiot::Error&) {
    return 0;
  }
  (void)q.matches(twin);
  std::vector<nlohmann::json> params;
  (void)q.to_sql(params);
  const auto canonical = q.to_string();
  try {
    if (Query::parse(canonical).to_string() != canonical) std::abort();
  } catch (const aiot::Error&) {
    std::abort();  // what we print must parse again
  }
  return 0;
}
