#pragma once
// Detached signatures with OpenSSL 3: Ed25519 (pure, over the message) or ECDSA P-256 (SHA-256,
// DER-encoded signature), the two that `openssl pkeyutl` verifies as
//   Ed25519: openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in statement.json -sigfile sig.bin
//   P-256:   openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sha256 -in statement.json -sigfile sig.bin
// Private keys never leave these functions except as the PEM keygen returns for writing 0600.
#include <filesystem>
#include <string>
#include <string_view>

namespace aiot::artifact {

enum class KeyAlgorithm { ed25519, ecdsa_p256 };

// "ed25519", "ecdsa-p256": the names the CLI, the registry and the desired properties use.
std::string_view to_string(KeyAlgorithm a);
// Error::usage for another name.
KeyAlgorithm parse_key_algorithm(std::string_view name);

struct KeyPair {
  std::string private_pem;  // PKCS#8; a secret
  std::string public_pem;   // SubjectPublicKeyInfo
};
KeyPair generate_key(KeyAlgorithm algorithm);

// A private key loaded from a PEM file: refuses (Error::usage) a file that group or others may
// read or write (like ssh), and a key of another type than Ed25519 or ECDSA P-256.
class SigningKey {
 public:
  static SigningKey load(const std::filesystem::path& pem_file);
  static SigningKey from_pem(std::string_view private_pem, std::string_view source);
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  KeyAlgorithm algorithm() const { return algorithm_; }
  std::string public_pem() const;
  std::string key_id() const;  // public_key_id(public_pem())
  std::string sign(std::string_view message) const;  // raw signature bytes

 private:
  SigningKey() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*
  KeyAlgorithm algorithm_ = KeyAlgorithm::ed25519;
};

// Reads a public key from PEM text: a public key, a certificate (its key; `aiot ca` certs work)
// or a private key (its public half). Error::usage when none of these, or another key type.
struct PublicKey {
  std::string pem;  // SubjectPublicKeyInfo PEM
  KeyAlgorithm algorithm = KeyAlgorithm::ed25519;
  std::string key_id;
};
PublicKey read_public_key(std::string_view pem_text, std::string_view source);

// "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo: the same as
// `openssl pkey -pubin -in pub.pem -outform DER | sha256sum`.
std::string public_key_id(std::string_view public_pem);

// True when `signature` is a valid signature of `message` by the key. False for a wrong or
// malformed signature; Error::usage only when the key itself does not load.
bool verify_signature(std::string_view public_pem, std::string_view message, std::string_view signature);

}  // namespace aiot::artifact
