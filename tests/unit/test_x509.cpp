#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>

#include "aiot/auth/x509.hpp"
#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"

using namespace aiot;
using namespace std::chrono_literals;

namespace {

TimePoint test_now() { return *parse_rfc3339("2026-11-23T09:00:00Z"); }

constexpr std::chrono::hours k_ca_validity = 24h * 3650;
constexpr std::chrono::hours k_device_validity = 24h * 365;

// A private temporary folder per test, removed at the end (tests may run in parallel processes).
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
      auto p = base / ("aiot-x509-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
      if (std::filesystem::create_directory(p)) {
        path_ = p;
        return;
      }
    }
    throw std::runtime_error("cannot create a temporary directory");
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned file_mode(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    return 0;
  }
  return st.st_mode & 07777;
}

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command, capturing stdout (stderr is discarded).
CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) {
    result.out.append(buf, n);
  }
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool have_openssl_cli() {
  static const bool present = run_command("openssl version").exit_code == 0;
  return present;
}

// "sha1 Fingerprint=AB:CD:..." -> "ABCD..."
std::string fingerprint_from_cli(const std::filesystem::path& cert, const char* digest) {
  auto result = run_command("openssl x509 -noout -fingerprint -" + std::string(digest) + " -in " + quoted(cert));
  REQUIRE(result.exit_code == 0);
  auto eq = result.out.find('=');
  REQUIRE(eq != std::string::npos);
  std::string hex;
  for (char c : result.out.substr(eq + 1)) {
    if (c != ':' && c != '\n' && c != '\r') {
      hex += c;
    }
  }
  return hex;
}

// The DER bytes of a PEM certificate.
std::string der_of(const std::string& pem) {
  std::string body;
  bool inside = false;
  std::size_t start = 0;
  while (start < pem.size()) {
    auto end = pem.find('\n', start);
    if (end == std::string::npos) {
      end = pem.size();
    }
    std::string line = pem.substr(start, end - start);
    start = end + 1;
    if (line.rfind("-----BEGIN", 0) == 0) {
      inside = true;
    } else if (line.rfind("-----END", 0) == 0) {
      break;
    } else if (inside) {
      body += line;
    }
  }
  return crypto::base64_decode(body);
}

template <typename F>
ExitCode exit_code_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::ok;
}

template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.message();
  }
  return {};
}

}  // namespace

TEST_CASE("x509: the fleet CA is a self-signed CA with the requested validity") {
  auto now = test_now();
  auto ca = x509::create_ca("Contoso fleet", now, k_ca_validity);

  CHECK(ca.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(ca.cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);

  auto info = x509::inspect(ca.cert_pem);
  CHECK(info.common_name == "Contoso fleet");
  CHECK(info.subject == "CN=Contoso fleet, O=aiot fleet CA");
  CHECK(info.issuer == info.subject);
  CHECK(info.is_ca);
  CHECK(info.not_before == now - 5min);
  CHECK(info.not_after == now + k_ca_validity);
  CHECK(info.thumbprints.sha1.size() == 40);
  CHECK(info.thumbprints.sha256.size() == 64);
  // A positive serial of at most 159 bits: 20 octets, the top bit clear.
  CHECK(info.serial_hex.size() <= 40);
  CHECK(info.serial_hex.size() % 2 == 0);
  CHECK(info.serial_hex.front() != '-');
  CHECK(info.serial_hex.find_first_not_of("0123456789ABCDEF") == std::string::npos);

  CHECK(x509::verify_signed_by(ca.cert_pem, ca.cert_pem));
}

TEST_CASE("x509: a device certificate is signed by the CA and honours the validity window") {
  auto now = test_now();
  auto ca = x509::create_ca("Contoso fleet", now, k_ca_validity);
  auto dev = x509::issue_device_cert("dev-1", ca, now, k_device_validity);

  auto info = x509::inspect(dev.cert_pem, "dev.pem");
  CHECK(info.common_name == "dev-1");
  CHECK(info.subject == "CN=dev-1");
  CHECK(info.issuer == "CN=Contoso fleet, O=aiot fleet CA");
  CHECK_FALSE(info.is_ca);
  CHECK(info.not_before == now - 5min);
  CHECK(info.not_after == now + k_device_validity);
  CHECK(info.serial_hex != x509::inspect(ca.cert_pem).serial_hex);
  CHECK(info.thumbprints != x509::inspect(ca.cert_pem).thumbprints);

  CHECK(x509::verify_signed_by(dev.cert_pem, ca.cert_pem));

  SUBCASE("two certificates for the same device differ in key, serial and thumbprint") {
    auto again = x509::issue_device_cert("dev-1", ca, now, k_device_validity);
    CHECK(again.key_pem != dev.key_pem);
    CHECK(x509::inspect(again.cert_pem).serial_hex != info.serial_hex);
    CHECK(x509::inspect(again.cert_pem).thumbprints != info.thumbprints);
  }
  SUBCASE("a certificate from another CA does not verify, even when that CA has the same name") {
    auto other_ca = x509::create_ca("Contoso fleet", now, k_ca_validity);
    auto stranger = x509::issue_device_cert("dev-1", other_ca, now, k_device_validity);
    CHECK_FALSE(x509::verify_signed_by(stranger.cert_pem, ca.cert_pem));
    CHECK_FALSE(x509::verify_signed_by(dev.cert_pem, other_ca.cert_pem));
    auto renamed_ca = x509::create_ca("Fabrikam fleet", now, k_ca_validity);
    CHECK_FALSE(x509::verify_signed_by(dev.cert_pem, renamed_ca.cert_pem));
  }
  SUBCASE("a flipped byte in the signature fails verification") {
    std::string der = der_of(dev.cert_pem);
    REQUIRE(der.size() > 100);
    CHECK(x509::verify_signed_by(der, ca.cert_pem));  // DER input is accepted as it is
    der[der.size() - 1] = static_cast<char>(der[der.size() - 1] ^ 0x01);
    CHECK_FALSE(x509::verify_signed_by(der, ca.cert_pem));
  }
  SUBCASE("a device certificate is not a CA") {
    CHECK_FALSE(x509::verify_signed_by(ca.cert_pem, dev.cert_pem));
  }
}

TEST_CASE("x509: inspect reads DER as well as PEM, and the first certificate of a bundle") {
  auto now = test_now();
  auto ca = x509::create_ca("Contoso fleet", now, k_ca_validity);
  auto dev = x509::issue_device_cert("dev-7", ca, now, k_device_validity);
  auto from_pem = x509::inspect(dev.cert_pem);

  auto from_der = x509::inspect(der_of(dev.cert_pem));
  CHECK(from_der.thumbprints == from_pem.thumbprints);
  CHECK(from_der.common_name == "dev-7");

  auto from_bundle = x509::inspect(dev.key_pem + dev.cert_pem + ca.cert_pem);
  CHECK(from_bundle.thumbprints == from_pem.thumbprints);
}

TEST_CASE("x509: a self-signed device certificate") {
  auto now = test_now();
  auto dev = x509::create_self_signed("dev-2", now, 24h);
  auto info = x509::inspect(dev.cert_pem);
  CHECK(info.subject == "CN=dev-2");
  CHECK(info.issuer == "CN=dev-2");
  CHECK_FALSE(info.is_ca);
  CHECK(info.not_before == now - 5min);
  CHECK(info.not_after == now + 24h);
  CHECK(dev.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
}

TEST_CASE("x509: bad input to issue and create is a usage error") {
  auto now = test_now();
  auto ca = x509::create_ca("Contoso fleet", now, k_ca_validity);

  CHECK(exit_code_of([&] { x509::issue_device_cert("", ca, now, k_device_validity); }) == ExitCode::usage);
  CHECK(exit_code_of([&] { x509::create_self_signed("", now, k_device_validity); }) == ExitCode::usage);
  CHECK(exit_code_of([&] { x509::create_ca("", now, k_ca_validity); }) == ExitCode::usage);
  CHECK(exit_code_of([&] { x509::issue_device_cert(std::string(65, 'd'), ca, now, k_device_validity); }) ==
        ExitCode::usage);
  CHECK(exit_code_of([&] { x509::issue_device_cert("dev-1", ca, now, 0h); }) == ExitCode::usage);

  SUBCASE("a certificate that is not a CA cannot issue") {
    auto not_a_ca = x509::create_self_signed("dev-3", now, k_device_validity);
    CHECK(exit_code_of([&] { x509::issue_device_cert("dev-1", not_a_ca, now, k_device_validity); }) ==
          ExitCode::usage);
    CHECK(message_of([&] { x509::issue_device_cert("dev-1", not_a_ca, now, k_device_validity); })
              .find("is not a CA") != std::string::npos);
  }
  SUBCASE("a CA key that does not match the CA certificate cannot issue") {
    auto other = x509::create_ca("Contoso fleet", now, k_ca_validity);
    x509::KeyAndCert mixed{other.key_pem, ca.cert_pem};
    CHECK(exit_code_of([&] { x509::issue_device_cert("dev-1", mixed, now, k_device_validity); }) == ExitCode::usage);
    CHECK(message_of([&] { x509::issue_device_cert("dev-1", mixed, now, k_device_validity); })
              .find("does not match") != std::string::npos);
  }
  SUBCASE("a CA key that is not a key cannot issue") {
    x509::KeyAndCert broken{"not a key", ca.cert_pem};
    CHECK(exit_code_of([&] { x509::issue_device_cert("dev-1", broken, now, k_device_validity); }) == ExitCode::usage);
  }
}

TEST_CASE("x509: inspect rejects garbage, truncated and empty input with a usage error") {
  auto dev = x509::create_self_signed("dev-1", test_now(), 24h);

  CHECK(exit_code_of([] { x509::inspect("", "empty.pem"); }) == ExitCode::usage);
  CHECK(message_of([] { x509::inspect("", "empty.pem"); }) == "empty.pem: not a PEM certificate");
  CHECK(exit_code_of([] { x509::inspect("hello, world\n", "garbage.pem"); }) == ExitCode::usage);
  CHECK(message_of([] { x509::inspect("hello, world\n", "garbage.pem"); }) == "garbage.pem: not a PEM certificate");
  CHECK(exit_code_of([&] { x509::inspect(dev.key_pem, "key.pem"); }) == ExitCode::usage);

  std::string truncated = dev.cert_pem.substr(0, dev.cert_pem.size() / 2);
  CHECK(exit_code_of([&] { x509::inspect(truncated, "dev.pem"); }) == ExitCode::usage);
  CHECK(message_of([&] { x509::inspect(truncated, "dev.pem"); }).rfind("dev.pem: certificate is malformed: ", 0) == 0);

  std::string cut_body = dev.cert_pem.substr(0, 100) + "\n-----END CERTIFICATE-----\n";
  CHECK(exit_code_of([&] { x509::inspect(cut_body, "dev.pem"); }) == ExitCode::usage);
  CHECK(message_of([&] { x509::inspect(cut_body, "dev.pem"); }).rfind("dev.pem: certificate is malformed: ", 0) == 0);

  std::string bad_der("\x30\x03\x02\x01\x00", 5);
  CHECK(exit_code_of([&] { x509::inspect(bad_der, "dev.der"); }) == ExitCode::usage);

  CHECK(exit_code_of([&] { x509::verify_signed_by("garbage", dev.cert_pem); }) == ExitCode::usage);
}

TEST_CASE("x509: save_ca and load_ca") {
  ScratchDir tmp;
  auto now = test_now();
  auto ca = x509::create_ca("Contoso fleet", now, k_ca_validity);
  auto dir = tmp / "fleet-ca";

  x509::save_ca(dir, ca);
  CHECK(file_mode(dir / "ca.key.pem") == 0600);
  CHECK(file_mode(dir / "ca.cert.pem") == 0644);
  CHECK(read_text(dir / "ca.key.pem") == ca.key_pem);
  CHECK(read_text(dir / "ca.cert.pem") == ca.cert_pem);

  SUBCASE("load_ca round-trips and the loaded CA can issue") {
    auto loaded = x509::load_ca(dir);
    CHECK(loaded.key_pem == ca.key_pem);
    CHECK(loaded.cert_pem == ca.cert_pem);
    auto dev = x509::issue_device_cert("dev-1", loaded, now, k_device_validity);
    CHECK(x509::verify_signed_by(dev.cert_pem, ca.cert_pem));
  }
  SUBCASE("save_ca refuses to overwrite an existing CA") {
    auto other = x509::create_ca("Other", now, k_ca_validity);
    try {
      x509::save_ca(dir, other);
      FAIL("save_ca overwrote an existing CA");
    } catch (const Error& e) {
      CHECK(e.reason() == Reason::conflict);
      CHECK(e.message() == "a CA already exists in " + dir.string());
      CHECK_FALSE(e.hint().empty());
    }
    CHECK(read_text(dir / "ca.key.pem") == ca.key_pem);
    CHECK(read_text(dir / "ca.cert.pem") == ca.cert_pem);
  }
  SUBCASE("load_ca names what is missing") {
    auto empty = tmp / "empty";
    std::filesystem::create_directories(empty);
    CHECK(exit_code_of([&] { x509::load_ca(empty); }) == ExitCode::usage);
    CHECK(message_of([&] { x509::load_ca(empty); }) ==
          empty.string() + " has no ca.cert.pem: create one with 'aiot ca create --out " + empty.string() + "'");
    std::filesystem::remove(dir / "ca.key.pem");
    CHECK(exit_code_of([&] { x509::load_ca(dir); }) == ExitCode::usage);
    CHECK(message_of([&] { x509::load_ca(dir); }).find("has no ca.key.pem") != std::string::npos);
  }
  SUBCASE("load_ca refuses a key that does not match the certificate") {
    auto other = x509::create_ca("Contoso fleet", now, k_ca_validity);
    write_text(dir / "ca.key.pem", other.key_pem);
    CHECK(exit_code_of([&] { x509::load_ca(dir); }) == ExitCode::usage);
    CHECK(message_of([&] { x509::load_ca(dir); }).find("does not match") != std::string::npos);
  }
}

TEST_CASE("x509: the openssl command line agrees") {
  if (!have_openssl_cli()) {
    MESSAGE("skipped: the openssl command is not installed");
    return;
  }
  ScratchDir tmp;
  auto now = test_now();
  auto ca = x509::create_ca("Contoso fleet", now, k_ca_validity);
  auto dev = x509::issue_device_cert("dev-1", ca, now, k_device_validity);
  write_text(tmp / "ca.pem", ca.cert_pem);
  write_text(tmp / "dev.pem", dev.cert_pem);
  write_text(tmp / "key.pem", dev.key_pem);
  // Verify at the test's fixed time, not the machine's clock.
  std::string at_time = " -attime " + std::to_string(std::chrono::system_clock::to_time_t(now));

  SUBCASE("openssl verify accepts the device certificate against the CA") {
    auto result = run_command("openssl verify" + at_time + " -CAfile " + quoted(tmp / "ca.pem") + " " +
                              quoted(tmp / "dev.pem"));
    CHECK(result.exit_code == 0);
    CHECK(result.out.find(": OK") != std::string::npos);
  }
  SUBCASE("openssl verify rejects it against another CA") {
    auto other = x509::create_ca("Contoso fleet", now, k_ca_validity);
    write_text(tmp / "other.pem", other.cert_pem);
    auto result = run_command("openssl verify" + at_time + " -CAfile " + quoted(tmp / "other.pem") + " " +
                              quoted(tmp / "dev.pem"));
    CHECK(result.exit_code != 0);
  }
  SUBCASE("openssl verify rejects it before notBefore and after notAfter") {
    auto before = std::chrono::system_clock::to_time_t(now - 10min);
    auto after = std::chrono::system_clock::to_time_t(now + k_device_validity + 1h);
    for (auto t : {before, after}) {
      auto result = run_command("openssl verify -attime " + std::to_string(t) + " -CAfile " + quoted(tmp / "ca.pem") +
                                " " + quoted(tmp / "dev.pem"));
      CHECK(result.exit_code != 0);
    }
  }
  SUBCASE("thumbprints equal openssl's fingerprints") {
    auto info = x509::inspect(dev.cert_pem);
    CHECK(info.thumbprints.sha1 == fingerprint_from_cli(tmp / "dev.pem", "sha1"));
    CHECK(info.thumbprints.sha256 == fingerprint_from_cli(tmp / "dev.pem", "sha256"));
    auto ca_info = x509::inspect(ca.cert_pem);
    CHECK(ca_info.thumbprints.sha1 == fingerprint_from_cli(tmp / "ca.pem", "sha1"));
  }
  SUBCASE("the serial equals openssl's") {
    auto result = run_command("openssl x509 -noout -serial -in " + quoted(tmp / "dev.pem"));
    REQUIRE(result.exit_code == 0);
    CHECK(result.out == "serial=" + x509::inspect(dev.cert_pem).serial_hex + "\n");
  }
  SUBCASE("the private key parses back") {
    CHECK(run_command("openssl pkey -noout -in " + quoted(tmp / "key.pem")).exit_code == 0);
    // and it belongs to the certificate
    auto cert_pub = run_command("openssl x509 -noout -pubkey -in " + quoted(tmp / "dev.pem"));
    auto key_pub = run_command("openssl pkey -pubout -in " + quoted(tmp / "key.pem"));
    CHECK(cert_pub.exit_code == 0);
    CHECK(cert_pub.out == key_pub.out);
  }
}
