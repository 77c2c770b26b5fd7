#pragma once
// Artifacts (ML models and firmware images) as the registry records them, the statement a
// signature covers, version diffs, and the model card. docs/artifacts.md is the user's reference.
//
// What is signed (the "statement"): the canonical JSON of
//   {"kind", "metadataSha256", "name", "sha256", "size", "type": "aiot.dev/artifact-statement/v1", "version"}
// keys sorted, no whitespace, size an integer, every string plain ASCII (names and versions are
// restricted to [A-Za-z0-9._+-], digests to lower-case hex), so a device rebuilds it byte for byte
// from the desired properties a rollout writes ({name, version, sha256, kind, size, metadataSha256,
// signature, signatureAlgorithm, keyId, uri}). metadataSha256 is the SHA-256 of the canonical JSON
// of the recorded metadata ({"format": "onnx", "onnx": {...}} or {"format": "binary"}). The URI
// is not signed: mirrors may move an artifact, the digest pins its content.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/artifact/onnx.hpp"
#include "aiot/artifact/signing.hpp"

namespace aiot::artifact {

using json = nlohmann::json;

enum class Kind { model, firmware };
std::string_view to_string(Kind k);
Kind parse_kind(std::string_view s);  // Error::usage for another word

inline constexpr const char* k_statement_type = "aiot.dev/artifact-statement/v1";

struct Signature {
  KeyAlgorithm algorithm = KeyAlgorithm::ed25519;
  std::string key_id;      // "sha256:<hex of the DER public key>"
  std::string value;       // base64 of the raw signature bytes
  std::string public_pem;  // the signer's public key, so `show` can name it; trust comes from --key/signedBy
  std::string signed_at;   // RFC 3339
  json to_json() const;    // without the public key PEM unless asked
};

struct ArtifactRecord {
  Kind kind = Kind::model;
  std::string name;
  std::string version;
  std::string sha256;  // lower-case hex of the file
  std::uint64_t size = 0;
  std::string uri;          // where devices download it
  std::string source_path;  // the file that was added (absolute)
  json metadata = json::object();  // {"format": "onnx", "onnx": OnnxInfo::to_json()} or {"format": "binary"}
  json card = json::object();      // the user's model card fields (--card), Model Card Toolkit layout
  std::optional<Signature> signature;
  std::string added_at;  // RFC 3339

  bool is_onnx() const { return metadata.value("format", std::string()) == "onnx"; }
  OnnxInfo onnx() const { return OnnxInfo::from_json(metadata.at("onnx")); }
  json to_json() const;  // what `show -o json` prints (statement included, no key material)
};

// Error::usage unless 1-128 characters of [A-Za-z0-9._+-] starting with a letter or digit.
void validate_name(std::string_view name, std::string_view what);

// SHA-256 hex of the canonical metadata JSON.
std::string metadata_sha256(const json& metadata);
// The exact bytes a signature covers (see the top of this file).
std::string statement(const ArtifactRecord& r);

// A new record for a file's bytes: SHA-256, size and, for a model, the ONNX metadata (an invalid
// ONNX file is Error::usage naming `source`). uri and source_path are the caller's.
ArtifactRecord describe(Kind kind, std::string_view name, std::string_view version, std::string_view bytes,
                        std::string_view source);

// Signs the record's statement; the record gets the signature.
void sign(ArtifactRecord& r, const SigningKey& key, const std::string& now_rfc3339);

enum class VerifyStatus { ok, unsigned_artifact, wrong_key, bad_signature, content_mismatch };
struct VerifyResult {
  VerifyStatus status = VerifyStatus::ok;
  std::string message;  // one line for the user
  bool ok() const { return status == VerifyStatus::ok; }
};
// Checks (1) when `file_bytes` is given, that its SHA-256 and size are the recorded ones; (2) that
// the record carries a signature; (3) when `trusted` is given, that the signature's key is that
// key; (4) the signature over the statement with the trusted key (else the recorded one).
VerifyResult verify(const ArtifactRecord& r, const std::optional<PublicKey>& trusted,
                    const std::optional<std::string_view>& file_bytes);

// The fields a rollout adds to the desired properties beyond {name, version, uri, sha256}, so a
// device can rebuild the statement and check the signature: kind, size, metadataSha256, and when
// signed signature, signatureAlgorithm, keyId.
json desired_fields(const ArtifactRecord& r);

// What changed from `a` to `b`: sha256, size, uri, then for two ONNX models diff_io().
std::vector<Change> diff(const ArtifactRecord& a, const ArtifactRecord& b);

// A model card in the Model Card Toolkit JSON layout (schema 0.0.2), filled from what is known:
// the user's card fields (they win where they set something), the registry record (name,
// version, date, path, I/O formats, architecture from the producer and opsets), the diff from
// `previous` (version.diff), and `performance_metrics` rows the caller gathered (rollout outcomes,
// audit or report metrics), each {type, value, slice}.
json model_card(const ArtifactRecord& r, const ArtifactRecord* previous, const json& performance_metrics);

// The user's card fields (`add --card card.yaml`): YAML or JSON, a mapping in the Model Card
// Toolkit layout (model_details, model_parameters, considerations, ...). Scalars are kept as
// text, as the toolkit's schema has them. Error::usage "card.yaml:3:5: ..." when it is not a
// mapping or does not parse; unknown top-level sections are refused (a typo would vanish).
json parse_card(std::string_view text, std::string_view source);

}  // namespace aiot::artifact
