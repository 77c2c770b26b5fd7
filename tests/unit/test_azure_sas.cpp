// SAS tokens and service connection strings (reference azure-iothub.md §2, vectors V1-V6).
#include <doctest/doctest.h>

#include <string>

#include "aiot/auth/cloud/sas.hpp"
#include "aiot/core/error.hpp"

using namespace aiot;
namespace sas = aiot::auth::sas;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The message of the Error thrown by parsing `text`, or "" when it parsed.
std::string parse_error(const std::string& text) {
  try {
    sas::parse_service_connection_string(text, "TEST");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::usage);
    return e.message();
  }
  return "";
}

}  // namespace

TEST_CASE("SAS vector V1: signature over uri/12345 with key 'password'") {
  auto token = sas::make_token("uri", "cGFzc3dvcmQ=", 12345, "name");
  CHECK(contains(token, "sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D"));
  CHECK(contains(token, "se=12345"));
  CHECK(contains(token, "skn=name"));
}

TEST_CASE("SAS vector V2: the policy name is strictly encoded") {
  auto token = sas::make_token("uri", "cGFzc3dvcmQ=", 12345, "encode('Me')");
  CHECK(contains(token, "skn=encode%28%27Me%27%29"));
  CHECK(sas::url_encode("!'()*") == "%21%27%28%29%2A");
}

TEST_CASE("SAS vector V3: hub token with an unpadded key, fields in any order") {
  auto token = sas::make_token("host", "key", 12345, "policy");
  auto ours = sas::parse_token(token);
  auto node = sas::parse_token(
      "SharedAccessSignature sr=host&sig=88JmrIsVYOGmRSjCO1x1LLbv0K001Gikh1rjfJqbQXA%3D&skn=policy&se=12345");
  REQUIRE(ours);
  REQUIRE(node);
  CHECK(ours->sr == node->sr);
  CHECK(ours->sig == node->sig);
  CHECK(ours->se == node->se);
  CHECK(ours->skn == node->skn);
}

TEST_CASE("SAS vector V4: raw signing") {
  CHECK(sas::sign("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=", "sign this message") ==
        "8NJRMT83CcplGrAGaUVIUM/md5914KpWVNngSVoF9/M=");
}

TEST_CASE("SAS vector V5: hub-level service token, exact text") {
  CHECK(sas::make_token("myhub.azure-devices.net", "cGFzc3dvcmQ=", 1700000000, "iothubowner") ==
        "SharedAccessSignature sr=myhub.azure-devices.net&sig=QSsTq4hIq8YzaKkHvHYM34vUvXN2XD%2FX%2Byr4pyjF%2ByY%3D"
        "&se=1700000000&skn=iothubowner");
}

TEST_CASE("SAS vector V6: device scope, no skn") {
  auto token = sas::make_token("myhub.azure-devices.net/devices/dev-01", "cGFzc3dvcmQ=", 1700000000);
  CHECK(contains(token, "sr=myhub.azure-devices.net%2Fdevices%2Fdev-01"));
  CHECK(contains(token, "sig=7rEfmKEpoSHNzgmIaKnDZXwsVq26MWUSjuqtS9VZMfE%3D"));
  CHECK_FALSE(contains(token, "skn="));
}

TEST_CASE("SAS: an emulator host with a port is signed as given, colon encoded") {
  auto token = sas::make_token("127.0.0.1:41234", "cGFzc3dvcmQ=", 1700000000, "iothubowner");
  CHECK(contains(token, "sr=127.0.0.1%3A41234&"));
  CHECK(sas::check_token(token, "127.0.0.1:41234", "iothubowner", "cGFzc3dvcmQ=", 1699999999) ==
        sas::TokenCheck::valid);
}

TEST_CASE("SAS: check_token tells each failure apart") {
  const std::string key = "cGFzc3dvcmQ=";
  auto token = sas::make_token("myhub.azure-devices.net", key, 1000, "iothubowner");
  CHECK(sas::check_token(token, "myhub.azure-devices.net", "iothubowner", key, 999) == sas::TokenCheck::valid);
  CHECK(sas::check_token(token, "MyHub.azure-devices.net", "iothubowner", key, 999) == sas::TokenCheck::valid);
  CHECK(sas::check_token(token, "myhub.azure-devices.net", "iothubowner", key, 1000) == sas::TokenCheck::expired);
  CHECK(sas::check_token(token, "other.azure-devices.net", "iothubowner", key, 999) ==
        sas::TokenCheck::wrong_resource);
  CHECK(sas::check_token(token, "myhub.azure-devices.net", "service", key, 999) == sas::TokenCheck::unknown_key_name);
  CHECK(sas::check_token(token, "myhub.azure-devices.net", "iothubowner", "b3RoZXI=", 999) ==
        sas::TokenCheck::bad_signature);
  CHECK(sas::check_token("Bearer abc", "myhub.azure-devices.net", "iothubowner", key, 999) ==
        sas::TokenCheck::malformed);
  CHECK(sas::check_token("SharedAccessSignature sr=x&sig=y&se=soon", "x", "", key, 0) == sas::TokenCheck::malformed);
  // A device-scope token is covered by the hub (per-segment prefix), a look-alike host is not.
  auto device = sas::make_token("myhub.azure-devices.net/devices/d1", key, 1000, "iothubowner");
  CHECK(sas::check_token(device, "myhub.azure-devices.net", "iothubowner", key, 999) == sas::TokenCheck::valid);
  auto lookalike = sas::make_token("myhub.azure-devices.net.evil", key, 1000, "iothubowner");
  CHECK(sas::check_token(lookalike, "myhub.azure-devices.net", "iothubowner", key, 999) ==
        sas::TokenCheck::wrong_resource);
}

TEST_CASE("SAS: a token whose header value a server already percent-decoded still checks") {
  const std::string key = "x5IycMSgmWQ1m/Zh+ojUEC28GgXQCmzpdZ0A1AHumus=";
  auto token = sas::make_token("127.0.0.1:50471", key, 1000, "iothubowner");
  auto decoded = "SharedAccessSignature " + sas::url_decode(token.substr(22));
  CHECK(decoded.find("sr=127.0.0.1:50471&") != std::string::npos);
  CHECK(sas::check_token(decoded, "127.0.0.1:50471", "iothubowner", key, 999) == sas::TokenCheck::valid);
  // url_decode turns '+' into ' '; a signature holding '+' must survive either way.
  for (std::int64_t se = 1000; se < 1100; ++se) {
    auto t = sas::make_token("h", key, se, "p");
    auto f = sas::parse_token(t);
    if (sas::url_decode(f->sig).find('+') == std::string::npos) continue;
    std::string raw_sig = "SharedAccessSignature sr=h&sig=" + sas::url_decode(f->sig) + "&se=" + f->se + "&skn=p";
    CHECK(sas::check_token(raw_sig, "h", "p", key, 999) == sas::TokenCheck::valid);
    break;
  }
}

TEST_CASE("SAS: url_decode accepts both hex cases and rejects broken escapes") {
  CHECK(sas::url_decode("a%2fb%2Fc") == "a/b/c");
  CHECK_THROWS_AS(sas::url_decode("abc%2"), Error);
  CHECK_THROWS_AS(sas::url_decode("%zz"), Error);
}

TEST_CASE("SAS: the token cache re-signs only in the last five minutes") {
  std::int64_t now = 1'700'000'000;
  sas::TokenCache cache({"myhub.azure-devices.net", "iothubowner", "cGFzc3dvcmQ="}, [&] { return now; });
  auto first = cache.token();
  CHECK(contains(first, "se=1700003600"));
  now += 3600 - 301;
  CHECK(cache.token() == first);
  CHECK(cache.tokens_made() == 1);
  now += 2;  // 299 s left: renew
  auto second = cache.token();
  CHECK(second != first);
  CHECK(cache.tokens_made() == 2);
  CHECK(contains(second, "se=" + std::to_string(now + 3600)));
}

TEST_CASE("connection string: the three service fields, in any order and case") {
  auto cs = sas::parse_service_connection_string(
      "SharedAccessKey=cGFzc3dvcmQ=;hostname=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;", "TEST");
  CHECK(cs.host_name == "myhub.azure-devices.net");
  CHECK(cs.key_name == "iothubowner");
  CHECK(cs.key == "cGFzc3dvcmQ=");  // split at the first '=' only: the padding stays
}

TEST_CASE("connection string: a later duplicate wins, ports are kept") {
  auto cs = sas::parse_service_connection_string(
      "HostName=a;HostName=127.0.0.1:8080;SharedAccessKeyName=p;SharedAccessKey=a2V5", "TEST");
  CHECK(cs.host_name == "127.0.0.1:8080");
}

TEST_CASE("connection string: bad ones get clear errors that never quote the key") {
  const std::string secret = "c2VjcmV0c2VjcmV0c2VjcmV0";
  CHECK(contains(parse_error(""), "is empty"));
  CHECK(contains(parse_error("HostName=h;SharedAccessKeyName=p"), "has no SharedAccessKey"));
  CHECK(contains(parse_error("HostName=h;SharedAccessKey=" + secret), "has no SharedAccessKeyName"));
  CHECK(contains(parse_error("SharedAccessKeyName=p;SharedAccessKey=" + secret), "has no HostName"));
  CHECK(contains(parse_error("HostName=h;DeviceId=d1;SharedAccessKey=" + secret), "device connection string"));
  CHECK(contains(parse_error("HostName=h;SharedAccessKeyName=p;SharedAccessSignature=SharedAccessSignature sr=h"),
                 "SharedAccessSignature instead of a SharedAccessKey"));
  CHECK(contains(parse_error("HostName=https://h;SharedAccessKeyName=p;SharedAccessKey=" + secret),
                 "bare host name"));
  auto not_base64 = parse_error("HostName=h;SharedAccessKeyName=p;SharedAccessKey=not*base64!");
  CHECK(contains(not_base64, "not base64"));
  CHECK_FALSE(contains(not_base64, "not*base64!"));
  auto stray = parse_error("HostName=h;SharedAccessKeyName=p;" + secret);
  CHECK(contains(stray, "without 'Name=value'"));
  CHECK_FALSE(contains(stray, secret));
  CHECK(contains(parse_error("HostName=h"), "from TEST"));
}
