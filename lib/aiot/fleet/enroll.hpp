#pragma once
// Enrolment: what happens around Registry::create for one device. Credentials the hub cannot
// make (X.509 keys and certificates) are made here; secrets go to files, 0600, never to output.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "aiot/auth/x509.hpp"
#include "aiot/hub/hub.hpp"

namespace aiot::fleet {

struct EnrollOptions {
  std::optional<std::filesystem::path> out_dir;  // where secrets are written; none = do not write SAS keys
  std::optional<x509::KeyAndCert> ca;            // the fleet CA, for x509-ca
  TimePoint now{};
  std::chrono::hours validity{24 * 365};
};

struct Prepared {
  hub::Device spec;
  std::optional<x509::KeyAndCert> self_signed;  // generated here: written once the hub accepted the device
};

// x509-self-signed: with cert_file, takes that certificate's thumbprints; with neither a file nor
// thumbprints, generates a self-signed certificate. x509-ca: checks a CA was given.
// Throws Error::usage with the reason.
Prepared prepare(hub::Device spec, const std::string& cert_file, const EnrollOptions& options);

// After the hub stored the device: issues the CA-signed certificate for x509-ca, and writes
// ID.key.pem (0600) + ID.cert.pem, or ID.keys.json (0600, SAS) when out_dir is set.
// Returns the files written.
std::vector<std::filesystem::path> write_credentials(const hub::Device& stored, const Prepared& prepared,
                                                     const EnrollOptions& options);

// Where generated X.509 keys go when --out-dir is not given.
std::filesystem::path default_out_dir(const std::filesystem::path& cwd);

}  // namespace aiot::fleet
