// Detached signatures (Ed25519, ECDSA P-256) over the artifact statement, and key handling.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "aiot/artifact/artifact.hpp"
#include "aiot/artifact/signing.hpp"
#include "aiot/auth/x509.hpp"
#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "support/harness.hpp"
#include "unit/test_artifact_fixtures.hpp"

using namespace aiot::artifact;

TEST_CASE("sign and verify with both algorithms; a changed message or signature fails") {
  for (auto algorithm : {KeyAlgorithm::ed25519, KeyAlgorithm::ecdsa_p256}) {
    CAPTURE(to_string(algorithm));
    auto pair = generate_key(algorithm);
    CHECK(pair.private_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
    auto key = SigningKey::from_pem(pair.private_pem, "k.pem");
    CHECK(key.algorithm() == algorithm);
    CHECK(key.public_pem() == pair.public_pem);
    CHECK(key.key_id().starts_with("sha256:"));
    CHECK(key.key_id().size() == 71);
    auto sig = key.sign("hello");
    CHECK(verify_signature(pair.public_pem, "hello", sig));
    CHECK_FALSE(verify_signature(pair.public_pem, "hellO", sig));
    auto flipped = sig;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
    CHECK_FALSE(verify_signature(pair.public_pem, "hello", flipped));
    CHECK_FALSE(verify_signature(pair.public_pem, "hello", ""));
    auto other = generate_key(algorithm);
    CHECK_FALSE(verify_signature(other.public_pem, "hello", sig));
  }
}

TEST_CASE("read_public_key accepts a public key, a certificate and a private key; ids agree") {
  auto pair = generate_key(KeyAlgorithm::ed25519);
  auto from_public = read_public_key(pair.public_pem, "pub.pem");
  auto from_private = read_public_key(pair.private_pem, "key.pem");
  CHECK(from_public.key_id == from_private.key_id);
  CHECK(from_public.algorithm == KeyAlgorithm::ed25519);
  // `aiot ca create` keys (ECDSA P-256) sign too; their certificate verifies.
  auto ca = aiot::x509::create_ca("fleet", aiot::test::fixed_now(), std::chrono::hours(24));
  auto from_cert = read_public_key(ca.cert_pem, "ca.cert.pem");
  CHECK(from_cert.algorithm == KeyAlgorithm::ecdsa_p256);
  CHECK(from_cert.key_id == SigningKey::from_pem(ca.key_pem, "ca.key.pem").key_id());
  CHECK_THROWS_AS(read_public_key("not a key", "x.pem"), aiot::Error);
  CHECK_THROWS_AS(parse_key_algorithm("rsa"), aiot::Error);
}

TEST_CASE("SigningKey::load refuses a private key others can read") {
  aiot::test::TempDir dir;
  auto pair = generate_key(KeyAlgorithm::ed25519);
  aiot::fs::write_atomic(dir / "key.pem", pair.private_pem, aiot::fs::Mode::secret);
  CHECK(SigningKey::load(dir / "key.pem").key_id() == public_key_id(pair.public_pem));
  ::chmod((dir / "key.pem").c_str(), 0640);
  try {
    SigningKey::load(dir / "key.pem");
    FAIL("a 0640 key loaded");
  } catch (const aiot::Error& e) {
    CHECK(e.code() == aiot::ExitCode::usage);
    CHECK(e.message().find("mode 0640") != std::string::npos);
    CHECK(e.hint().find("chmod 600") != std::string::npos);
    CHECK(e.message().find("PRIVATE") == std::string::npos);  // never key material
  }
}

TEST_CASE("the statement is canonical and covers digest, size, name, version, kind and metadata") {
  auto r = describe(Kind::model, "vision", "7.0.0", aiot::test::tiny_onnx(), "m.onnx");
  auto s = statement(r);
  CHECK(s == "{\"kind\":\"model\",\"metadataSha256\":\"" + metadata_sha256(r.metadata) + "\",\"name\":\"vision\","
             "\"sha256\":\"" + r.sha256 + "\",\"size\":" + std::to_string(r.size) +
             ",\"type\":\"aiot.dev/artifact-statement/v1\",\"version\":\"7.0.0\"}");
  auto key = SigningKey::from_pem(generate_key(KeyAlgorithm::ed25519).private_pem, "k");
  sign(r, key, "2026-11-23T09:00:00Z");
  REQUIRE(r.signature);
  auto trusted = read_public_key(key.public_pem(), "pub");
  CHECK(verify(r, trusted, std::nullopt).ok());
  CHECK(verify(r, std::nullopt, std::nullopt).ok());  // the recorded key

  SUBCASE("the file's bytes must be the recorded ones") {
    auto bytes = aiot::test::tiny_onnx();
    CHECK(verify(r, trusted, std::string_view(bytes)).ok());
    bytes[bytes.size() - 1] = static_cast<char>(bytes.back() ^ 1);
    CHECK(verify(r, trusted, std::string_view(bytes)).status == VerifyStatus::content_mismatch);
  }
  SUBCASE("another version, digest or metadata no longer verifies") {
    auto other = r;
    other.version = "7.0.1";
    CHECK(verify(other, trusted, std::nullopt).status == VerifyStatus::bad_signature);
    other = r;
    other.metadata["onnx"]["irVersion"] = 9;
    CHECK(verify(other, trusted, std::nullopt).status == VerifyStatus::bad_signature);
  }
  SUBCASE("a flipped signature byte, another key, no signature") {
    auto other = r;
    auto raw = aiot::crypto::base64_decode(other.signature->value);
    raw[0] = static_cast<char>(raw[0] ^ 0x80);
    other.signature->value = aiot::crypto::base64_encode(raw);
    CHECK(verify(other, trusted, std::nullopt).status == VerifyStatus::bad_signature);
    auto stranger = read_public_key(generate_key(KeyAlgorithm::ed25519).public_pem, "x");
    CHECK(verify(r, stranger, std::nullopt).status == VerifyStatus::wrong_key);
    other.signature.reset();
    CHECK(verify(other, trusted, std::nullopt).status == VerifyStatus::unsigned_artifact);
  }
  SUBCASE("desired_fields carry what a device needs to rebuild the statement") {
    auto d = desired_fields(r);
    CHECK(d["kind"] == "model");
    CHECK(d["size"] == r.size);
    CHECK(d["metadataSha256"] == metadata_sha256(r.metadata));
    CHECK(d["signature"] == r.signature->value);
    CHECK(d["signatureAlgorithm"] == "ed25519");
    CHECK(d["keyId"] == key.key_id());
  }
}

TEST_CASE("names and versions are restricted to what statements and twins carry verbatim") {
  CHECK_NOTHROW(validate_name("vision-v2_b.1+x", "name"));
  CHECK_THROWS_AS(validate_name("", "name"), aiot::Error);
  CHECK_THROWS_AS(validate_name("-x", "name"), aiot::Error);
  CHECK_THROWS_AS(validate_name("a b", "name"), aiot::Error);
  CHECK_THROWS_AS(validate_name("caf\xc3\xa9", "name"), aiot::Error);
  CHECK_THROWS_AS(describe(Kind::firmware, "fw", "1", "", "fw.bin"), aiot::Error);
  auto fw = describe(Kind::firmware, "fw", "1.0", "\x7f" "ELF...", "fw.bin");
  CHECK(fw.metadata == nlohmann::json{{"format", "binary"}});
}
