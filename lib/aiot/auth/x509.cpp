#include "aiot/auth/x509.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::x509 {

namespace {

// Every OpenSSL object lives in a unique_ptr so that no error path leaks.
template <auto Free>
struct Freer {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
struct OpensslFreer {
  void operator()(void* p) const noexcept { OPENSSL_free(p); }
};

using X509Ptr = std::unique_ptr<X509, Freer<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Freer<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Freer<BN_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Freer<X509_NAME_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Freer<X509_EXTENSION_free>>;
using AsnIntegerPtr = std::unique_ptr<ASN1_INTEGER, Freer<ASN1_INTEGER_free>>;
using CharPtr = std::unique_ptr<char, OpensslFreer>;
using BytePtr = std::unique_ptr<unsigned char, OpensslFreer>;

constexpr auto k_clock_skew = std::chrono::minutes(5);
constexpr int k_serial_bits = 159;  // positive and at most 20 octets (RFC 5280 §4.1.2.2)
constexpr std::size_t k_max_common_name = 64;  // ub-common-name in RFC 5280
constexpr const char* k_ca_organization = "aiot fleet CA";

// Drains the OpenSSL error queue into one line ("no start line; bad base64 decode"), so that a
// stale error never shows up in a later, unrelated message.
std::string openssl_errors() {
  std::vector<std::string> reasons;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    std::string text;
    if (const char* reason = ERR_reason_error_string(code)) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof buf);
      text = buf;
    }
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      text += fmt::format(" ({})", data);
    }
    if (reasons.empty() || reasons.back() != text) {
      reasons.push_back(std::move(text));
    }
  }
  return reasons.empty() ? std::string("unknown OpenSSL error") : str::join(reasons, "; ");
}

[[noreturn]] void fail(std::string_view what) {
  throw Error::failure(fmt::format("{}: {}", what, openssl_errors()));
}

void check(int ok, std::string_view what) {
  if (ok != 1) {
    fail(what);
  }
}

BioPtr read_bio(std::string_view text) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) {
    fail("cannot allocate a memory BIO");
  }
  return bio;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// Never prompts on the terminal for a passphrase: an encrypted key is an input error.
int no_passphrase(char*, int, int, void*) { return -1; }

PkeyPtr generate_p256_key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    fail("cannot generate an ECDSA P-256 key");
  }
  return key;
}

std::string private_key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted with no cipher.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("cannot encode the private key");
  }
  return bio_text(bio.get());
}

std::string certificate_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    fail("cannot encode the certificate");
  }
  return bio_text(bio.get());
}

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

// The first certificate in PEM text, or a DER certificate. Input errors are Error::usage naming `source`.
X509Ptr parse_certificate(std::string_view text, std::string_view source) {
  ERR_clear_error();
  std::string_view trimmed = str::trim(text);
  bool pem = contains(trimmed, "-----BEGIN CERTIFICATE-----") || contains(trimmed, "-----BEGIN X509 CERTIFICATE-----");
  // A DER certificate is an ASN.1 SEQUENCE: its first octet is 0x30.
  bool der = !pem && !text.empty() && static_cast<unsigned char>(text.front()) == 0x30;
  if (!pem && !der) {
    throw Error::usage(fmt::format("{}: not a PEM certificate", source),
                       "expected text with a '-----BEGIN CERTIFICATE-----' block, or a DER certificate");
  }
  X509Ptr cert;
  if (pem) {
    if (!contains(trimmed, "-----END CERTIFICATE-----") && !contains(trimmed, "-----END X509 CERTIFICATE-----")) {
      throw Error::usage(fmt::format("{}: certificate is malformed: the PEM text is truncated (no END CERTIFICATE line)",
                                     source));
    }
    BioPtr bio = read_bio(trimmed);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(text.size())));
  }
  if (!cert) {
    throw Error::usage(fmt::format("{}: certificate is malformed: {}", source, openssl_errors()));
  }
  return cert;
}

PkeyPtr parse_private_key(std::string_view pem, std::string_view source) {
  ERR_clear_error();
  if (contains(pem, "ENCRYPTED")) {
    throw Error::usage(fmt::format("{}: the private key is encrypted; aiot needs an unencrypted key", source),
                       "decrypt it with 'openssl pkey -in KEY -out KEY.plain' and keep the result 0600");
  }
  BioPtr bio = read_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    throw Error::usage(fmt::format("{}: not a PEM private key: {}", source, openssl_errors()));
  }
  return key;
}

bool key_matches(X509* cert, EVP_PKEY* key) {
  bool match = X509_check_private_key(cert, key) == 1;
  ERR_clear_error();  // a mismatch leaves "key values mismatch" on the queue
  return match;
}

bool is_ca_certificate(X509* cert) {
  // EXFLAG_CA is basicConstraints CA:TRUE; X509_check_ca also rejects a keyUsage without keyCertSign.
  return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0 && X509_check_ca(cert) == 1;
}

std::string utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int len = ASN1_STRING_to_UTF8(&out, s);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  BytePtr owned(out);
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
}

// "CN=dev-1, O=aiot fleet CA": RFC 2253 order (most specific first) and escaping, but with ", "
// between attributes and UTF-8 kept as UTF-8, which reads better in tables and JSON.
std::string one_line(const X509_NAME* name) {
  unsigned long flags = (XN_FLAG_RFC2253 & ~XN_FLAG_SEP_MASK & ~ASN1_STRFLGS_ESC_MSB) | XN_FLAG_SEP_CPLUS_SPC |
                        ASN1_STRFLGS_UTF8_CONVERT;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) {
    fail("cannot print a certificate name");
  }
  return bio_text(bio.get());
}

std::string common_name(const X509_NAME* name) {
  // The last CN is the most specific one, as in OpenSSL's host name checks.
  int found = -1;
  for (int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) {
    found = i;
  }
  if (found < 0) {
    return {};
  }
  return utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, found)));
}

TimePoint to_time_point(const ASN1_TIME* t, std::string_view source) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    throw Error::usage(fmt::format("{}: certificate is malformed: bad validity time: {}", source, openssl_errors()));
  }
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string thumbprint(X509* cert, const EVP_MD* md) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // X509_digest hashes the DER encoding: what `openssl x509 -fingerprint` prints.
  if (X509_digest(cert, md, buf, &len) != 1) {
    fail("cannot compute a certificate thumbprint");
  }
  return str::hex(buf, len, /*upper=*/true);
}

void validate_name(std::string_view name, std::string_view what) {
  if (name.empty()) {
    throw Error::usage(fmt::format("the {} is empty", what));
  }
  if (name.size() > k_max_common_name) {
    throw Error::usage(fmt::format("the {} '{}' is {} characters long; a certificate CN holds at most {}", what, name,
                                   name.size(), k_max_common_name));
  }
}

void validate_validity(std::chrono::hours validity) {
  if (validity.count() <= 0) {
    throw Error::usage(fmt::format("the validity must be positive, not {}h", validity.count()));
  }
}

NamePtr make_name(std::string_view common_name, const char* organization) {
  NamePtr name(X509_NAME_new());
  if (!name) {
    fail("cannot allocate a certificate name");
  }
  std::string cn(common_name);
  // DER order is least specific first: O, then CN.
  if (organization != nullptr) {
    check(X509_NAME_add_entry_by_NID(name.get(), NID_organizationName, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(organization), -1, -1, 0),
          "cannot set the certificate organization");
  }
  check(X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
        fmt::format("cannot set the certificate CN '{}'", cn));
  return name;
}

void set_random_serial(X509* cert) {
  BignumPtr bn(BN_new());
  if (!bn) {
    fail("cannot allocate a serial number");
  }
  do {
    check(BN_rand(bn.get(), k_serial_bits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "cannot draw a random serial number");
  } while (BN_is_zero(bn.get()));
  AsnIntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) {
    fail("cannot encode the serial number");
  }
  check(X509_set_serialNumber(cert, serial.get()), "cannot set the serial number");
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext) {
    fail(fmt::format("cannot build the {} extension '{}'", OBJ_nid2sn(nid), value));
  }
  check(X509_add_ext(cert, ext.get(), -1), fmt::format("cannot add the {} extension", OBJ_nid2sn(nid)));
}

enum class Profile { ca, device };

struct Issuer {
  X509* cert = nullptr;  // nullptr: self-signed
  EVP_PKEY* key = nullptr;
};

// Builds and signs (SHA-256) an X.509 v3 certificate for `subject_key`.
X509Ptr build_certificate(Profile profile, const X509_NAME* subject, EVP_PKEY* subject_key, Issuer issuer,
                          TimePoint now, std::chrono::hours validity) {
  X509Ptr cert(X509_new());
  if (!cert) {
    fail("cannot allocate a certificate");
  }
  check(X509_set_version(cert.get(), X509_VERSION_3), "cannot set the certificate version");
  set_random_serial(cert.get());
  check(X509_set_subject_name(cert.get(), subject), "cannot set the subject");
  check(X509_set_issuer_name(cert.get(), issuer.cert != nullptr ? X509_get_subject_name(issuer.cert) : subject),
        "cannot set the issuer");
  // Start a little in the past so that a device whose clock is a few minutes behind accepts it.
  auto not_before = std::chrono::system_clock::to_time_t(now - k_clock_skew);
  auto not_after = std::chrono::system_clock::to_time_t(now + validity);
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_after) == nullptr) {
    fail("cannot set the validity period");
  }
  check(X509_set_pubkey(cert.get(), subject_key), "cannot set the public key");

  X509* issuer_cert = issuer.cert != nullptr ? issuer.cert : cert.get();
  EVP_PKEY* signing_key = issuer.key != nullptr ? issuer.key : subject_key;
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, cert.get(), nullptr, nullptr, 0);
  // Lets OpenSSL derive the authority key id from the key when the issuer has no subject key id.
  check(X509V3_set_issuer_pkey(&ctx, signing_key), "cannot set the issuer key");
  if (profile == Profile::ca) {
    add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), &ctx, NID_ext_key_usage, "clientAuth");
  }
  // The subject key id must exist before the authority key id of a self-signed cert copies it.
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  // "always": OpenSSL would leave the key id out of a self-signed certificate otherwise.
  add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");

  if (X509_sign(cert.get(), signing_key, EVP_sha256()) <= 0) {
    fail("cannot sign the certificate");
  }
  return cert;
}

}  // namespace

KeyAndCert create_ca(std::string_view common_name, TimePoint now, std::chrono::hours validity) {
  validate_name(common_name, "CA name");
  validate_validity(validity);
  ERR_clear_error();
  PkeyPtr key = generate_p256_key();
  NamePtr subject = make_name(common_name, k_ca_organization);
  X509Ptr cert = build_certificate(Profile::ca, subject.get(), key.get(), Issuer{}, now, validity);
  return {private_key_pem(key.get()), certificate_pem(cert.get())};
}

KeyAndCert issue_device_cert(std::string_view device_id, const KeyAndCert& ca, TimePoint now,
                             std::chrono::hours validity) {
  validate_name(device_id, "device id");
  validate_validity(validity);
  X509Ptr ca_cert = parse_certificate(ca.cert_pem, "CA certificate");
  PkeyPtr ca_key = parse_private_key(ca.key_pem, "CA key");
  if (!is_ca_certificate(ca_cert.get())) {
    throw Error::usage(
        fmt::format("the CA certificate ({}) is not a CA: it lacks basicConstraints CA:TRUE or keyUsage keyCertSign",
                    one_line(X509_get_subject_name(ca_cert.get()))),
        "create a fleet CA with 'aiot ca create --out DIR'");
  }
  if (!key_matches(ca_cert.get(), ca_key.get())) {
    throw Error::usage("the CA key does not match the CA certificate",
                       "use the ca.key.pem that was created with this ca.cert.pem");
  }
  PkeyPtr key = generate_p256_key();
  NamePtr subject = make_name(device_id, nullptr);
  X509Ptr cert = build_certificate(Profile::device, subject.get(), key.get(), Issuer{ca_cert.get(), ca_key.get()},
                                   now, validity);
  return {private_key_pem(key.get()), certificate_pem(cert.get())};
}

KeyAndCert create_self_signed(std::string_view device_id, TimePoint now, std::chrono::hours validity) {
  validate_name(device_id, "device id");
  validate_validity(validity);
  ERR_clear_error();
  PkeyPtr key = generate_p256_key();
  NamePtr subject = make_name(device_id, nullptr);
  X509Ptr cert = build_certificate(Profile::device, subject.get(), key.get(), Issuer{}, now, validity);
  return {private_key_pem(key.get()), certificate_pem(cert.get())};
}

CertInfo inspect(std::string_view cert_pem, std::string_view source) {
  X509Ptr cert = parse_certificate(cert_pem, source);
  CertInfo info;
  info.subject = one_line(X509_get_subject_name(cert.get()));
  info.issuer = one_line(X509_get_issuer_name(cert.get()));
  info.common_name = common_name(X509_get_subject_name(cert.get()));

  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  if (!serial) {
    throw Error::usage(fmt::format("{}: certificate is malformed: bad serial number: {}", source, openssl_errors()));
  }
  CharPtr serial_hex(BN_bn2hex(serial.get()));  // upper case, whole octets: as `openssl x509 -serial`
  if (!serial_hex) {
    fail("cannot print the serial number");
  }
  info.serial_hex = serial_hex.get();

  info.not_before = to_time_point(X509_get0_notBefore(cert.get()), source);
  info.not_after = to_time_point(X509_get0_notAfter(cert.get()), source);
  info.is_ca = (X509_get_extension_flags(cert.get()) & EXFLAG_CA) != 0;
  info.thumbprints.sha1 = thumbprint(cert.get(), EVP_sha1());
  info.thumbprints.sha256 = thumbprint(cert.get(), EVP_sha256());
  ERR_clear_error();
  return info;
}

bool verify_signed_by(std::string_view cert_pem, std::string_view ca_cert_pem) {
  X509Ptr cert = parse_certificate(cert_pem, "certificate");
  X509Ptr ca = parse_certificate(ca_cert_pem, "CA certificate");
  // X509_check_issued: issuer name = CA subject, key ids agree, and the CA may sign certificates.
  bool issued = X509_check_issued(ca.get(), cert.get()) == X509_V_OK;
  bool signature_ok = false;
  if (issued) {
    EVP_PKEY* ca_public_key = X509_get0_pubkey(ca.get());
    signature_ok = ca_public_key != nullptr && X509_verify(cert.get(), ca_public_key) == 1;
  }
  ERR_clear_error();
  return issued && signature_ok;
}

namespace {
constexpr const char* k_ca_key_file = "ca.key.pem";
constexpr const char* k_ca_cert_file = "ca.cert.pem";
}  // namespace

KeyAndCert load_ca(const std::filesystem::path& dir) {
  auto cert_path = dir / k_ca_cert_file;
  auto key_path = dir / k_ca_key_file;
  std::error_code ec;
  if (!std::filesystem::exists(cert_path, ec)) {
    throw Error::usage(fmt::format("{} has no {}: create one with 'aiot ca create --out {}'", dir.string(),
                                   k_ca_cert_file, dir.string()));
  }
  if (!std::filesystem::exists(key_path, ec)) {
    throw Error::usage(fmt::format("{} has no {}: the CA's private key must sit beside {}", dir.string(), k_ca_key_file,
                                   k_ca_cert_file),
                       fmt::format("create a new CA with 'aiot ca create --out DIR' or copy the key into {}", dir.string()));
  }
  KeyAndCert ca{fs::read_file(key_path), fs::read_file(cert_path)};
  X509Ptr cert = parse_certificate(ca.cert_pem, cert_path.string());
  PkeyPtr key = parse_private_key(ca.key_pem, key_path.string());
  if (!key_matches(cert.get(), key.get())) {
    throw Error::usage(fmt::format("{} does not match {}", key_path.string(), cert_path.string()),
                       "the key and the certificate must come from the same 'aiot ca create'");
  }
  return ca;
}

void save_ca(const std::filesystem::path& dir, const KeyAndCert& ca) {
  auto key_path = dir / k_ca_key_file;
  std::error_code ec;
  if (std::filesystem::exists(key_path, ec)) {
    throw Error::conflict(fmt::format("a CA already exists in {}", dir.string()),
                          fmt::format("use another --out directory, or delete {} first", key_path.string()));
  }
  // Refuse to store a pair that load_ca would reject later.
  X509Ptr cert = parse_certificate(ca.cert_pem, "CA certificate");
  PkeyPtr key = parse_private_key(ca.key_pem, "CA key");
  if (!key_matches(cert.get(), key.get())) {
    throw Error::usage("the CA key does not match the CA certificate");
  }
  if (!std::filesystem::exists(dir, ec)) {
    fs::ensure_dir(dir, /*private_dir=*/true);  // only a folder we create: never chmod the user's own
  }
  // Certificate first: if writing the key fails, a retry is not refused by a lone key file.
  fs::write_atomic(dir / k_ca_cert_file, ca.cert_pem, fs::Mode::normal);
  fs::write_atomic(key_path, ca.key_pem, fs::Mode::secret);
}

}  // namespace aiot::x509
