#include "aiot/fleet/enroll.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/core/fs.hpp"

namespace aiot::fleet {

std::filesystem::path default_out_dir(const std::filesystem::path& cwd) { return cwd / "aiot-devices"; }

Prepared prepare(hub::Device spec, const std::string& cert_file, const EnrollOptions& options) {
  Prepared p;
  switch (spec.auth.type) {
    case hub::AuthType::self_signed:
      if (!cert_file.empty()) {
        auto info = x509::inspect(fs::read_file(cert_file), cert_file);
        if (info.common_name != spec.id)
          throw Error::usage(fmt::format("{}: the certificate's CN is '{}', not the device id '{}'", cert_file,
                                         info.common_name, spec.id),
                             "IoT hubs match a device certificate by its CN: issue one with CN=" + spec.id + ".");
        if (options.now > info.not_after)
          throw Error::usage(fmt::format("{}: the certificate expired on {}", cert_file, format_rfc3339(info.not_after)));
        spec.auth.primary = info.thumbprints;
      } else if (spec.auth.primary.empty()) {
        p.self_signed = x509::create_self_signed(spec.id, options.now, options.validity);
        spec.auth.primary = x509::inspect(p.self_signed->cert_pem).thumbprints;
      }
      break;
    case hub::AuthType::certificate_authority:
      if (!cert_file.empty()) {
        auto info = x509::inspect(fs::read_file(cert_file), cert_file);
        if (info.common_name != spec.id)
          throw Error::usage(fmt::format("{}: the certificate's CN is '{}', not the device id '{}'", cert_file,
                                         info.common_name, spec.id));
        if (options.ca && !x509::verify_signed_by(fs::read_file(cert_file), options.ca->cert_pem))
          throw Error::usage(fmt::format("{}: the certificate was not signed by the fleet CA", cert_file));
      } else if (!options.ca) {
        throw Error::usage("x509-ca devices need the fleet CA: pass --ca DIR (made by 'aiot ca create')",
                           "Or set it once: aiot config set ca_dir DIR");
      }
      break;
    case hub::AuthType::sas:
    case hub::AuthType::none:
      if (!cert_file.empty()) throw Error::usage("--cert goes with --auth x509-self-signed or x509-ca");
      break;
  }
  p.spec = std::move(spec);
  return p;
}

std::vector<std::filesystem::path> write_credentials(const hub::Device& stored, const Prepared& prepared,
                                                     const EnrollOptions& options) {
  std::vector<std::filesystem::path> written;
  std::optional<x509::KeyAndCert> kc = prepared.self_signed;
  if (stored.auth.type == hub::AuthType::certificate_authority && options.ca)
    kc = x509::issue_device_cert(stored.id, *options.ca, options.now, options.validity);
  if (kc) {
    auto dir = options.out_dir.value_or(std::filesystem::path("."));
    fs::ensure_dir(dir, true);
    auto key = dir / (stored.id + ".key.pem");
    auto cert = dir / (stored.id + ".cert.pem");
    fs::write_atomic(key, kc->key_pem, fs::Mode::secret);
    fs::write_atomic(cert, kc->cert_pem);
    written.push_back(key);
    written.push_back(cert);
  } else if (stored.auth.type == hub::AuthType::sas && options.out_dir) {
    fs::ensure_dir(*options.out_dir, true);
    auto file = *options.out_dir / (stored.id + ".keys.json");
    nlohmann::json keys = {{"deviceId", stored.id},
                           {"primaryKey", stored.auth.primary_key},
                           {"secondaryKey", stored.auth.secondary_key}};
    fs::write_atomic(file, keys.dump(2) + "\n", fs::Mode::secret);
    written.push_back(file);
  }
  return written;
}

}  // namespace aiot::fleet
