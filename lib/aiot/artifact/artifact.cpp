#include "aiot/artifact/artifact.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include <yaml-cpp/yaml.h>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"

namespace aiot::artifact {

namespace {

// nlohmann::json objects are std::map-ordered and dump() has no whitespace: with ASCII keys and
// values that is already the canonical form (RFC 8785 for this subset).
std::string canonical(const json& j) { return j.dump(); }

std::string formats_text(const std::vector<TensorSpec>& tensors) {
  std::vector<std::string> parts;
  for (const auto& t : tensors) parts.push_back(t.name + ": " + describe_tensor(t));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
  return out;
}

json format_map(const std::vector<TensorSpec>& tensors) {
  json m = json::array();
  for (const auto& t : tensors) m.push_back({{"key", t.name}, {"value", describe_tensor(t)}});
  return m;
}

// Fills `into` with `from` where `into` has nothing (user-given card fields win).
void fill_missing(json& into, const json& from) {
  for (const auto& [key, value] : from.items()) {
    if (!into.contains(key) || into[key].is_null() || (into[key].is_string() && into[key].get<std::string>().empty()) ||
        (into[key].is_array() && into[key].empty())) {
      into[key] = value;
    } else if (into[key].is_object() && value.is_object()) {
      fill_missing(into[key], value);
    }
  }
}

json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json j = json::object();
      for (auto it = n.begin(); it != n.end(); ++it) {
        std::string key = it->first.Scalar();
        j[key] = yaml_to_json(it->second);
      }
      return j;
    }
    case YAML::NodeType::Sequence: {
      json j = json::array();
      for (const auto& item : n) j.push_back(yaml_to_json(item));
      return j;
    }
    case YAML::NodeType::Scalar: return n.Scalar();
    default: return nullptr;
  }
}

}  // namespace

json parse_card(std::string_view text, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root.IsMap()) {
    throw Error::usage(fmt::format("{}: a model card is a mapping (model_details, model_parameters, "
                                   "quantitative_analysis, considerations)",
                                   source));
  }
  static const std::vector<std::string> k_sections = {"model_details", "model_parameters", "quantitative_analysis",
                                                      "considerations", "schema_version"};
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = it->first.Scalar();
    if (std::find(k_sections.begin(), k_sections.end(), key) == k_sections.end()) {
      throw Error::usage(fmt::format("{}:{}: unknown model card section '{}'", source, it->first.Mark().line + 1, key),
                         "Sections: model_details, model_parameters, quantitative_analysis, considerations.");
    }
  }
  return yaml_to_json(root);
}

std::string_view to_string(Kind k) { return k == Kind::model ? "model" : "firmware"; }

Kind parse_kind(std::string_view s) {
  if (s == "model") return Kind::model;
  if (s == "firmware") return Kind::firmware;
  throw Error::usage(fmt::format("'{}' is not an artifact kind (model or firmware)", s));
}

json Signature::to_json() const {
  return {{"algorithm", std::string(artifact::to_string(algorithm))},
          {"keyId", key_id},
          {"value", value},
          {"signedAt", signed_at}};
}

json ArtifactRecord::to_json() const {
  json j = {{"kind", std::string(artifact::to_string(kind))},
            {"name", name},
            {"version", version},
            {"sha256", sha256},
            {"size", size},
            {"uri", uri},
            {"source", source_path},
            {"metadata", metadata},
            {"metadataSha256", metadata_sha256(metadata)},
            {"statement", statement(*this)},
            {"addedAt", added_at},
            {"signed", signature.has_value()}};
  j["signature"] = signature ? signature->to_json() : json();
  if (!card.empty()) j["card"] = card;
  return j;
}

void validate_name(std::string_view name, std::string_view what) {
  bool ok = !name.empty() && name.size() <= 128 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '+' && c != '-') ok = false;
  }
  if (!ok) {
    throw Error::usage(fmt::format("{} '{}' is not valid", what, name),
                       "Use 1-128 letters, digits and . _ + -, starting with a letter or digit (they end up in "
                       "signed statements and device twins).");
  }
}

std::string metadata_sha256(const json& metadata) { return crypto::sha256_hex(canonical(metadata)); }

std::string statement(const ArtifactRecord& r) {
  json s = {{"type", k_statement_type},
            {"kind", std::string(to_string(r.kind))},
            {"name", r.name},
            {"version", r.version},
            {"sha256", r.sha256},
            {"size", r.size},
            {"metadataSha256", metadata_sha256(r.metadata)}};
  return canonical(s);
}

ArtifactRecord describe(Kind kind, std::string_view name, std::string_view version, std::string_view bytes,
                        std::string_view source) {
  validate_name(name, "name");
  validate_name(version, "version");
  ArtifactRecord r;
  r.kind = kind;
  r.name = name;
  r.version = version;
  r.sha256 = crypto::sha256_hex(bytes);
  r.size = bytes.size();
  if (kind == Kind::model) {
    r.metadata = {{"format", "onnx"}, {"onnx", inspect_onnx(bytes, source).to_json()}};
  } else {
    if (bytes.empty()) throw Error::usage(fmt::format("{}: the file is empty", source));
    r.metadata = {{"format", "binary"}};
  }
  return r;
}

void sign(ArtifactRecord& r, const SigningKey& key, const std::string& now_rfc3339) {
  Signature s;
  s.algorithm = key.algorithm();
  s.public_pem = key.public_pem();
  s.key_id = public_key_id(s.public_pem);
  s.value = crypto::base64_encode(key.sign(statement(r)));
  s.signed_at = now_rfc3339;
  r.signature = std::move(s);
}

VerifyResult verify(const ArtifactRecord& r, const std::optional<PublicKey>& trusted,
                    const std::optional<std::string_view>& file_bytes) {
  std::string label = fmt::format("{} {} {}", to_string(r.kind), r.name, r.version);
  if (file_bytes) {
    std::string got = crypto::sha256_hex(*file_bytes);
    if (got != r.sha256 || file_bytes->size() != r.size) {
      return {VerifyStatus::content_mismatch,
              fmt::format("{}: the file's SHA-256 is {} ({} bytes), the registry recorded {} ({} bytes)", label, got,
                          file_bytes->size(), r.sha256, r.size)};
    }
  }
  if (!r.signature) {
    return {VerifyStatus::unsigned_artifact, fmt::format("{} is not signed", label)};
  }
  if (trusted && trusted->key_id != r.signature->key_id) {
    return {VerifyStatus::wrong_key, fmt::format("{} is signed by {}, not by the given key {}", label,
                                                 r.signature->key_id, trusted->key_id)};
  }
  std::string sig;
  try {
    sig = crypto::base64_decode(r.signature->value);
  } catch (const Error&) {
    return {VerifyStatus::bad_signature, fmt::format("{}: the recorded signature is not base64", label)};
  }
  const std::string& pem = trusted ? trusted->pem : r.signature->public_pem;
  if (!verify_signature(pem, statement(r), sig)) {
    return {VerifyStatus::bad_signature,
            fmt::format("{}: the signature does not match the artifact's statement (digest or metadata changed, or "
                        "the signature was altered)",
                        label)};
  }
  return {VerifyStatus::ok, fmt::format("{}: signature by {} verified{}", label, r.signature->key_id,
                                        file_bytes ? ", file content matches" : "")};
}

json desired_fields(const ArtifactRecord& r) {
  json d = {{"kind", std::string(to_string(r.kind))}, {"size", r.size}, {"metadataSha256", metadata_sha256(r.metadata)}};
  if (r.signature) {
    d["signature"] = r.signature->value;
    d["signatureAlgorithm"] = std::string(to_string(r.signature->algorithm));
    d["keyId"] = r.signature->key_id;
  }
  return d;
}

std::vector<Change> diff(const ArtifactRecord& a, const ArtifactRecord& b) {
  std::vector<Change> out;
  auto text = [&out](const std::string& field, const std::string& x, const std::string& y) {
    if (x != y) out.push_back({field, x, y, false});
  };
  text("sha256", a.sha256, b.sha256);
  text("size", std::to_string(a.size), std::to_string(b.size));
  text("uri", a.uri, b.uri);
  text("format", a.metadata.value("format", std::string()), b.metadata.value("format", std::string()));
  if (a.is_onnx() && b.is_onnx()) {
    auto io = diff_io(a.onnx(), b.onnx());
    out.insert(out.end(), io.begin(), io.end());
  }
  return out;
}

json model_card(const ArtifactRecord& r, const ArtifactRecord* previous, const json& performance_metrics) {
  json details = {{"name", r.name},
                  {"version", {{"name", r.version}, {"date", r.added_at}}},
                  {"path", r.uri}};
  if (previous) {
    std::vector<std::string> lines;
    for (const auto& c : diff(*previous, r)) {
      if (c.field == "sha256" || c.field == "size" || c.field == "uri") continue;
      lines.push_back(fmt::format("{}: {} -> {}{}", c.field, c.before.empty() ? "(none)" : c.before,
                                  c.after.empty() ? "(none)" : c.after, c.breaking ? " (breaking)" : ""));
    }
    std::string text = fmt::format("Changes from {}: ", previous->version);
    text += lines.empty() ? "none in the I/O signature or metadata" : "";
    for (std::size_t i = 0; i < lines.size(); ++i) text += (i ? "; " : "") + lines[i];
    details["version"]["diff"] = text;
  }
  json parameters = json::object();
  if (r.is_onnx()) {
    OnnxInfo info = r.onnx();
    std::vector<std::string> ops;
    for (const auto& [d, v] : info.opsets) ops.push_back(fmt::format("{} {}", d.empty() ? "ai.onnx" : d, v));
    std::string opset_text;
    for (std::size_t i = 0; i < ops.size(); ++i) opset_text += (i ? ", " : "") + ops[i];
    parameters["model_architecture"] =
        fmt::format("ONNX IR {} graph '{}' with {} nodes (opsets: {}; produced by {} {})", info.ir_version,
                    info.graph_name, info.nodes, opset_text, info.producer_name.empty() ? "unknown" : info.producer_name,
                    info.producer_version);
    parameters["input_format"] = formats_text(info.inputs);
    parameters["output_format"] = formats_text(info.outputs);
    parameters["input_format_map"] = format_map(info.inputs);
    parameters["output_format_map"] = format_map(info.outputs);
    if (!info.doc_string.empty()) details["overview"] = info.doc_string;
  }
  json references = json::array({{{"reference", r.uri}}});
  details["references"] = references;
  json card = {{"schema_version", "0.0.2"},
               {"model_details", details},
               {"model_parameters", parameters},
               {"quantitative_analysis", {{"performance_metrics", performance_metrics}}},
               {"considerations", json::object()}};
  // The user's fields first: what they wrote wins, the registry fills the gaps.
  json merged = r.card.is_object() ? r.card : json::object();
  fill_missing(merged, card);
  const json* user_rows = nullptr;
  if (r.card.contains("quantitative_analysis") && r.card["quantitative_analysis"].is_object() &&
      r.card["quantitative_analysis"].contains("performance_metrics")) {
    user_rows = &r.card["quantitative_analysis"]["performance_metrics"];
  }
  if (user_rows && user_rows->is_array() && !user_rows->empty()) {
    // Both lists count: the user's evaluation numbers and what the fleet measured.
    auto& rows = merged["quantitative_analysis"]["performance_metrics"];
    for (const auto& row : performance_metrics) rows.push_back(row);
  }
  return merged;
}

}  // namespace aiot::artifact
