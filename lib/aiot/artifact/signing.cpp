#include "aiot/artifact/signing.hpp"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <memory>
#include <optional>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"

namespace aiot::artifact {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

Bio mem_bio(std::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

[[noreturn]] void openssl_failure(const char* what) {
  throw Error::failure(fmt::format("OpenSSL: {} failed", what));
}

// Ed25519 or a P-256 EC key; nullopt for anything else.
std::optional<KeyAlgorithm> algorithm_of(EVP_PKEY* key) {
  if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519) {
    return KeyAlgorithm::ed25519;
  }
  if (EVP_PKEY_get_id(key) == EVP_PKEY_EC) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 && std::string_view(group) == "prime256v1") {
      return KeyAlgorithm::ecdsa_p256;
    }
  }
  return std::nullopt;
}

KeyAlgorithm require_supported(EVP_PKEY* key, std::string_view source) {
  auto a = algorithm_of(key);
  if (!a) {
    throw Error::usage(fmt::format("{}: the key is neither Ed25519 nor ECDSA P-256", source),
                       "Create one with 'aiot model keygen --out KEY.pem' (Ed25519).");
  }
  return *a;
}

std::string public_pem_of(EVP_PKEY* key) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PUBKEY(b.get(), key) != 1) openssl_failure("writing a public key");
  return bio_text(b.get());
}

// The digest an algorithm signs with: none for Ed25519 (it hashes internally), SHA-256 for P-256.
const EVP_MD* digest_for(KeyAlgorithm a) { return a == KeyAlgorithm::ed25519 ? nullptr : EVP_sha256(); }

}  // namespace

std::string_view to_string(KeyAlgorithm a) { return a == KeyAlgorithm::ed25519 ? "ed25519" : "ecdsa-p256"; }

KeyAlgorithm parse_key_algorithm(std::string_view name) {
  if (name == "ed25519") return KeyAlgorithm::ed25519;
  if (name == "ecdsa-p256" || name == "p256" || name == "ecdsa") return KeyAlgorithm::ecdsa_p256;
  throw Error::usage(fmt::format("'{}' is not a signing algorithm", name), "Use ed25519 or ecdsa-p256.");
}

KeyPair generate_key(KeyAlgorithm algorithm) {
  EVP_PKEY* raw = algorithm == KeyAlgorithm::ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!raw) openssl_failure("key generation");
  Pkey key(raw);
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    openssl_failure("writing a private key");
  }
  return {bio_text(b.get()), public_pem_of(key.get())};
}

SigningKey SigningKey::load(const std::filesystem::path& pem_file) {
  struct stat st {};
  if (::stat(pem_file.c_str(), &st) != 0) {
    throw Error::not_found(fmt::format("{}: no such key file", pem_file.string()));
  }
  // Like ssh: a private key others can read is no longer private, and signing with it would
  // vouch for artifacts anyone on the machine could have signed.
  if ((st.st_mode & 077) != 0) {
    throw Error::usage(fmt::format("{}: the private key is accessible by others (mode {:04o})", pem_file.string(),
                                   st.st_mode & 0777),
                       fmt::format("Restrict it first: chmod 600 {}", pem_file.string()));
  }
  return from_pem(fs::read_file(pem_file), pem_file.string());
}

SigningKey SigningKey::from_pem(std::string_view private_pem, std::string_view source) {
  auto b = mem_bio(private_pem);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr);
  if (!raw) {
    ERR_clear_error();
    throw Error::usage(fmt::format("{}: not an unencrypted PEM private key", source),
                       "aiot signs with an unencrypted PKCS#8 or EC PEM key (aiot model keygen writes one).");
  }
  Pkey key(raw);
  SigningKey k;
  k.algorithm_ = require_supported(key.get(), source);
  k.pkey_ = key.release();
  return k;
}

SigningKey::SigningKey(SigningKey&& other) noexcept : pkey_(other.pkey_), algorithm_(other.algorithm_) {
  other.pkey_ = nullptr;
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_));
    pkey_ = other.pkey_;
    algorithm_ = other.algorithm_;
    other.pkey_ = nullptr;
  }
  return *this;
}

SigningKey::~SigningKey() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }

std::string SigningKey::public_pem() const { return public_pem_of(static_cast<EVP_PKEY*>(pkey_)); }

std::string SigningKey::key_id() const { return public_key_id(public_pem()); }

std::string SigningKey::sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, digest_for(algorithm_), nullptr, static_cast<EVP_PKEY*>(pkey_)) != 1) {
    openssl_failure("signing init");
  }
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, message.size()) != 1) openssl_failure("signing");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, message.size()) != 1) {
    openssl_failure("signing");
  }
  sig.resize(len);
  return sig;
}

PublicKey read_public_key(std::string_view pem_text, std::string_view source) {
  Pkey key;
  {
    auto b = mem_bio(pem_text);
    key.reset(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    auto b = mem_bio(pem_text);
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (cert) key.reset(X509_get_pubkey(cert.get()));
  }
  if (!key) {
    auto b = mem_bio(pem_text);
    key.reset(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  }
  ERR_clear_error();  // the failed attempts above left entries on OpenSSL's error queue
  if (!key) {
    throw Error::usage(fmt::format("{}: not a PEM public key, certificate or private key", source));
  }
  PublicKey pk;
  pk.algorithm = require_supported(key.get(), source);
  pk.pem = public_pem_of(key.get());
  pk.key_id = public_key_id(pk.pem);
  return pk;
}

std::string public_key_id(std::string_view public_pem) {
  auto b = mem_bio(public_pem);
  Pkey key(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
  if (!key) throw Error::usage("not a PEM public key");
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) openssl_failure("encoding a public key");
  std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return "sha256:" + crypto::sha256_hex(bytes);
}

bool verify_signature(std::string_view public_pem, std::string_view message, std::string_view signature) {
  auto b = mem_bio(public_pem);
  Pkey key(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
  if (!key) throw Error::usage("not a PEM public key");
  auto algorithm = require_supported(key.get(), "public key");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(algorithm), nullptr, key.get()) != 1) {
    openssl_failure("verify init");
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();  // a bad signature leaves its reason on the queue; the answer is rc
  return rc == 1;
}

}  // namespace aiot::artifact
