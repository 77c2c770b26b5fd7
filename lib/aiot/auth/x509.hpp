#pragma once
// X.509 for device identities with OpenSSL 3: the fleet CA, device certificates it signs,
// self-signed device certificates, and the thumbprints IoT Hub and AWS IoT key devices by.
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "aiot/core/time.hpp"
#include "aiot/hub/hub.hpp"

namespace aiot::x509 {

struct KeyAndCert {
  std::string key_pem;   // PKCS#8 private key; a secret
  std::string cert_pem;
};

struct CertInfo {
  std::string subject;      // "CN=dev-1"
  std::string issuer;
  std::string common_name;
  std::string serial_hex;
  TimePoint not_before{};
  TimePoint not_after{};
  bool is_ca = false;
  hub::Thumbprints thumbprints;  // of the DER encoding
};

// ECDSA P-256 key and a self-signed CA certificate (basicConstraints CA:TRUE critical,
// keyUsage keyCertSign+cRLSign, subject key id), valid from `now` for `validity`.
KeyAndCert create_ca(std::string_view common_name, TimePoint now, std::chrono::hours validity);

// An ECDSA P-256 key and a certificate with CN=device_id signed by the CA (basicConstraints
// CA:FALSE, keyUsage digitalSignature, extendedKeyUsage clientAuth, authority key id).
KeyAndCert issue_device_cert(std::string_view device_id, const KeyAndCert& ca, TimePoint now,
                             std::chrono::hours validity);

// A self-signed ECDSA P-256 device certificate with CN=device_id (clientAuth).
KeyAndCert create_self_signed(std::string_view device_id, TimePoint now, std::chrono::hours validity);

// Parses a PEM certificate (the first one in the text). Throws Error::usage naming `source`
// ("dev.pem: not a PEM certificate") when it is not one.
CertInfo inspect(std::string_view cert_pem, std::string_view source = "certificate");

// True when cert_pem was signed by ca_cert_pem (signature check and issuer name match).
bool verify_signed_by(std::string_view cert_pem, std::string_view ca_cert_pem);

// The CA as stored by `aiot ca create --out DIR`: DIR/ca.key.pem (0600), DIR/ca.cert.pem.
KeyAndCert load_ca(const std::filesystem::path& dir);
void save_ca(const std::filesystem::path& dir, const KeyAndCert& ca);

}  // namespace aiot::x509
