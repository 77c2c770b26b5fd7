// `aiot model` and `aiot firmware` in-process on the local hub: ONNX files built with the protobuf
// API, a truncated one, a non-ONNX file; add/list/show/diff, keygen/sign/verify, card, Triton.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include "aiot/artifact/store.hpp"
#include "aiot/core/crypto.hpp"
#include "support/harness.hpp"
#include "unit/test_artifact_fixtures.hpp"

using aiot::test::Harness;
using aiot::test::TinyModel;
using aiot::test::tiny_onnx;
using nlohmann::json;

namespace {

// Writes a model file and registers it; returns the parsed `add -o json`.
json add_model(Harness& h, const std::string& file, const std::string& version, const TinyModel& m = {},
               std::vector<std::string> extra = {}) {
  aiot::test::write_text(h.cwd / file, tiny_onnx(m));
  std::vector<std::string> args = {"model", "add", file, "--name", "vision", "--version", version, "-o", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = h.run(args);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return json::parse(r.out);
}

void keygen(Harness& h, const std::string& name = "signer.pem", const std::string& algorithm = "ed25519") {
  auto r = h.run({"model", "keygen", "--out", name, "--algorithm", algorithm});
  REQUIRE_MESSAGE(r.code == 0, r.err);
}

}  // namespace

TEST_CASE("model add: digest, size, ONNX metadata and a file:// URI; re-adding is idempotent") {
  Harness h;
  auto j = add_model(h, "vision-7.onnx", "7.0.0");
  auto bytes = tiny_onnx();
  CHECK(j["outcome"] == "created");
  CHECK(j["kind"] == "model");
  CHECK(j["sha256"] == aiot::crypto::sha256_hex(bytes));
  CHECK(j["size"] == bytes.size());
  CHECK(j["uri"] == "file://" + (h.cwd / "vision-7.onnx").string());
  CHECK(j["signed"] == false);
  const auto& onnx = j["metadata"]["onnx"];
  CHECK(j["metadata"]["format"] == "onnx");
  CHECK(onnx["irVersion"] == 8);
  CHECK(onnx["opsets"] == json::array({{{"domain", "ai.onnx"}, {"version", 13}}}));
  CHECK(onnx["producer"]["name"] == "aiot-test");
  CHECK(onnx["inputs"] == json::array({{{"name", "image"}, {"type", "float"}, {"shape", {1, 3, 224, 224}}}}));
  CHECK(onnx["outputs"][0]["name"] == "probs");

  auto again = h.run({"model", "add", "vision-7.onnx", "--name", "vision", "--version", "7.0.0", "-o", "json"});
  CHECK(again.code == 0);
  CHECK(json::parse(again.out)["outcome"] == "unchanged");

  SUBCASE("other bytes under the same version are a conflict (exit 1)") {
    aiot::test::write_text(h.cwd / "other.onnx", tiny_onnx(TinyModel().dims({1, 3, 64, 64})));
    auto r = h.run({"model", "add", "other.onnx", "--name", "vision", "--version", "7.0.0"});
    CHECK(r.code == 1);
    CHECK(r.err.find("already registered") != std::string::npos);
  }
  SUBCASE("--uri names where devices download it") {
    auto r = h.run({"model", "add", "vision-7.onnx", "--name", "vision", "--version", "7.0.1", "--uri",
                    "https://cdn.example/vision-7.0.1.onnx", "-o", "json"});
    REQUIRE(r.code == 0);
    CHECK(json::parse(r.out)["uri"] == "https://cdn.example/vision-7.0.1.onnx");
  }
}

TEST_CASE("model add refuses a truncated ONNX file and a non-ONNX file (exit 2, clear message)") {
  Harness h;
  auto bytes = tiny_onnx();
  aiot::test::write_text(h.cwd / "cut.onnx", bytes.substr(0, bytes.size() / 2));
  auto cut = h.run({"model", "add", "cut.onnx", "--name", "vision", "--version", "1"});
  CHECK(cut.code == 2);
  CHECK(cut.err.find("cut.onnx: not a valid ONNX model: the protobuf does not parse") != std::string::npos);
  aiot::test::write_text(h.cwd / "notes.txt", "these are release notes, not a model\n");
  auto text = h.run({"model", "add", "notes.txt", "--name", "vision", "--version", "1"});
  CHECK(text.code == 2);
  CHECK(text.err.find("notes.txt: not a valid ONNX model") != std::string::npos);
  CHECK(text.err.find("aiot firmware add") != std::string::npos);  // the hint
  CHECK(h.run({"model", "add", "missing.onnx", "--name", "vision", "--version", "1"}).code == 2);
  // Nothing was registered.
  CHECK(json::parse(h.run({"model", "list", "-o", "json"}).out).empty());
}

TEST_CASE("firmware add takes any non-empty file; list, show and diff work the same") {
  Harness h;
  aiot::test::write_text(h.cwd / "fw-1.bin", std::string("\x7f" "ELF firmware one", 17));
  aiot::test::write_text(h.cwd / "fw-2.bin", std::string("\x7f" "ELF firmware two!", 18));
  REQUIRE(h.run({"firmware", "add", "fw-1.bin", "--name", "gw", "--version", "1.0"}).code == 0);
  REQUIRE(h.run({"firmware", "add", "fw-2.bin", "--name", "gw", "--version", "1.1"}).code == 0);
  auto list = json::parse(h.run({"firmware", "list", "-o", "json"}).out);
  REQUIRE(list.size() == 2);
  CHECK(list[0]["version"] == "1.0");
  CHECK(json::parse(h.run({"firmware", "show", "gw", "-o", "json"}).out)["version"] == "1.1");  // latest
  auto diff = json::parse(h.run({"firmware", "diff", "gw", "1.0", "1.1", "-o", "json"}).out);
  CHECK(diff["breaking"] == false);
  CHECK(diff["changes"][0]["field"] == "sha256");
  // Models and firmware are separate registries.
  CHECK(json::parse(h.run({"model", "list", "-o", "json"}).out).empty());
}

TEST_CASE("model list, show and diff: a changed input shape is flagged breaking") {
  Harness h;
  add_model(h, "v1.onnx", "1.0.0");
  add_model(h, "v2.onnx", "2.0.0", TinyModel().dims({1, 3, 320, 320}));

  auto table = h.run({"model", "list"});
  REQUIRE(table.code == 0);
  CHECK(table.out.find("NAME\tVERSION\tSIZE\tSHA256\tSIGNED\tINPUTS\tADDED") != std::string::npos);
  CHECK(table.out.find("vision\t1.0.0\t") != std::string::npos);
  CHECK(table.out.find("image:float[1,3,224,224]") != std::string::npos);

  auto show = h.run({"model", "show", "vision", "1.0.0"});
  REQUIRE(show.code == 0);
  CHECK(show.out.find("onnx.inputs.image\tfloat[1,3,224,224]") != std::string::npos);
  CHECK(show.out.find("signature\tunsigned") != std::string::npos);
  CHECK(h.run({"model", "show", "vision", "9.9.9"}).code == 1);

  auto d = h.run({"model", "diff", "vision", "1.0.0", "2.0.0", "-o", "json"});
  REQUIRE(d.code == 0);
  auto j = json::parse(d.out);
  CHECK(j["breaking"] == true);
  bool found = false;
  for (const auto& c : j["changes"]) {
    if (c["field"] == "inputs.image.shape") {
      found = true;
      CHECK(c["before"] == "[1,3,224,224]");
      CHECK(c["after"] == "[1,3,320,320]");
      CHECK(c["breaking"] == true);
    }
  }
  CHECK(found);
  CHECK(d.err.find("breaking the I/O signature") != std::string::npos);
  CHECK(h.run({"model", "diff", "vision", "1.0.0", "2.0.0", "--fail-on-breaking"}).code == 3);
  CHECK(h.run({"model", "diff", "vision", "1.0.0", "1.0.0", "--fail-on-breaking"}).code == 0);
}

TEST_CASE("keygen, sign and verify; a flipped byte in the file or the signature fails with exit 3") {
  Harness h;
  keygen(h);
  CHECK(aiot::test::file_mode(h.cwd / "signer.pem") == 0600);
  auto pub = aiot::test::read_text(h.cwd / "signer.pub.pem");
  CHECK(pub.find("BEGIN PUBLIC KEY") != std::string::npos);
  add_model(h, "v1.onnx", "1.0.0");

  auto unsigned_verify = h.run({"model", "verify", "vision", "1.0.0", "--key", "signer.pub.pem"});
  CHECK(unsigned_verify.code == 3);
  CHECK(unsigned_verify.err.find("is not signed") != std::string::npos);

  auto s = h.run({"model", "sign", "vision", "1.0.0", "--key", "signer.pem", "--signature-out", "v1.sig",
                  "--statement-out", "v1.statement.json", "-o", "json"});
  REQUIRE_MESSAGE(s.code == 0, s.err);
  CHECK(s.out.find("PRIVATE") == std::string::npos);
  CHECK(s.err.find("PRIVATE") == std::string::npos);
  auto sj = json::parse(s.out);
  CHECK(sj["signature"]["algorithm"] == "ed25519");
  CHECK(aiot::crypto::base64_encode(aiot::test::read_text(h.cwd / "v1.sig")) == sj["signature"]["value"]);
  auto statement = json::parse(aiot::test::read_text(h.cwd / "v1.statement.json"));
  CHECK(statement["sha256"] == aiot::crypto::sha256_hex(tiny_onnx()));
  CHECK(statement["type"] == "aiot.dev/artifact-statement/v1");

  auto ok = h.run({"model", "verify", "vision", "1.0.0", "--key", "signer.pub.pem", "-o", "json"});
  CHECK_MESSAGE(ok.code == 0, ok.err);
  CHECK(json::parse(ok.out)["verified"] == true);

  SUBCASE("a flipped byte in the artifact file") {
    auto bytes = tiny_onnx();
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    aiot::test::write_text(h.cwd / "v1.onnx", bytes);
    auto bad = h.run({"model", "verify", "vision", "1.0.0", "--key", "signer.pub.pem", "-o", "json"});
    CHECK(bad.code == 3);
    CHECK(json::parse(bad.out)["status"] == "content-mismatch");
  }
  SUBCASE("a flipped byte in the recorded signature") {
    aiot::artifact::Store store(h.hub_path());
    auto r = store.need(aiot::artifact::Kind::model, "vision", "1.0.0");
    auto raw = aiot::crypto::base64_decode(r.signature->value);
    raw[5] = static_cast<char>(raw[5] ^ 0x01);
    r.signature->value = aiot::crypto::base64_encode(raw);
    store.set_signature(aiot::artifact::Kind::model, "vision", "1.0.0", *r.signature);
    auto bad = h.run({"model", "verify", "vision", "1.0.0", "--key", "signer.pub.pem", "-o", "json"});
    CHECK(bad.code == 3);
    CHECK(json::parse(bad.out)["status"] == "bad-signature");
  }
  SUBCASE("another key") {
    keygen(h, "other.pem", "ecdsa-p256");
    auto bad = h.run({"model", "verify", "vision", "1.0.0", "--key", "other.pub.pem", "-o", "json"});
    CHECK(bad.code == 3);
    CHECK(json::parse(bad.out)["status"] == "wrong-key");
  }
  SUBCASE("a private key others can read is refused (exit 2), and nothing is signed") {
    ::chmod((h.cwd / "signer.pem").c_str(), 0644);
    auto refused = h.run({"model", "add", "v1.onnx", "--name", "vision", "--version", "1.0.1", "--sign-key", "signer.pem"});
    CHECK(refused.code == 2);
    CHECK(refused.err.find("chmod 600") != std::string::npos);
    CHECK(h.run({"model", "show", "vision", "1.0.1"}).code == 1);
  }
  SUBCASE("keygen does not overwrite a key") {
    CHECK(h.run({"model", "keygen", "--out", "signer.pem"}).code == 1);
  }
}

TEST_CASE("model add --sign-key signs at once, ECDSA P-256 included") {
  Harness h;
  keygen(h, "p256.pem", "ecdsa-p256");
  auto j = add_model(h, "v1.onnx", "1.0.0", {}, {"--sign-key", "p256.pem"});
  CHECK(j["signed"] == true);
  CHECK(j["signature"]["algorithm"] == "ecdsa-p256");
  CHECK(h.run({"model", "verify", "vision", "1.0.0", "--key", "p256.pub.pem"}).code == 0);
}

TEST_CASE("model card: Model Card Toolkit JSON filled from the registry and the user's fields") {
  Harness h;
  aiot::test::write_text(h.cwd / "card.yaml",
                         "model_details:\n"
                         "  overview: Detects people at doors.\n"
                         "  owners: [{name: Vision team, contact: vision@example.com}]\n"
                         "  licenses: [{identifier: Apache-2.0}]\n"
                         "considerations:\n"
                         "  limitations: [{description: Not evaluated at night.}]\n");
  add_model(h, "v1.onnx", "1.0.0", {}, {"--card", "card.yaml"});
  add_model(h, "v2.onnx", "2.0.0", TinyModel().dims({1, 3, 320, 320}), {"--card", "card.yaml"});
  aiot::test::write_text(h.cwd / "metrics.json", R"([{"type": "accuracy", "value": 0.91, "slice": "eval-2026-11"}])");
  auto r = h.run({"model", "card", "vision", "2.0.0", "--metrics", "metrics.json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  auto card = json::parse(r.out);
  CHECK(card["schema_version"] == "0.0.2");
  const auto& details = card["model_details"];
  CHECK(details["name"] == "vision");
  CHECK(details["overview"] == "Detects people at doors.");
  CHECK(details["owners"][0]["contact"] == "vision@example.com");
  CHECK(details["licenses"][0]["identifier"] == "Apache-2.0");
  CHECK(details["version"]["name"] == "2.0.0");
  CHECK(details["version"]["date"] == "2026-11-23T09:00:00Z");
  CHECK(details["version"]["diff"].get<std::string>().find("inputs.image.shape: [1,3,224,224] -> [1,3,320,320] (breaking)") !=
        std::string::npos);
  CHECK(details["path"].get<std::string>().starts_with("file://"));
  const auto& params = card["model_parameters"];
  CHECK(params["input_format"] == "image: float[1,3,320,320]");
  CHECK(params["input_format_map"] == json::array({{{"key", "image"}, {"value", "float[1,3,320,320]"}}}));
  CHECK(params["model_architecture"].get<std::string>().find("ONNX IR 8") != std::string::npos);
  CHECK(card["quantitative_analysis"]["performance_metrics"] ==
        json::array({{{"type", "accuracy"}, {"value", "0.91"}, {"slice", "eval-2026-11"}}}));
  CHECK(card["considerations"]["limitations"][0]["description"] == "Not evaluated at night.");

  aiot::test::write_text(h.cwd / "bad-card.yaml", "model_detials: {}\n");
  auto bad = h.run({"model", "add", "v1.onnx", "--name", "vision", "--version", "3", "--card", "bad-card.yaml"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("bad-card.yaml:1: unknown model card section 'model_detials'") != std::string::npos);
}

TEST_CASE("model add --triton writes config.pbtxt and the model in a Triton repository layout") {
  Harness h;
  add_model(h, "v1.onnx", "1.0.0", TinyModel().batch("N"), {"--triton", "repo", "--triton-max-batch", "4"});
  auto config = aiot::test::read_text(h.cwd / "repo" / "vision" / "config.pbtxt");
  CHECK(config.starts_with("name: \"vision\"\nplatform: \"onnxruntime_onnx\"\nmax_batch_size: 4\n"));
  CHECK(config.find("    name: \"image\"\n    data_type: TYPE_FP32\n    dims: [ 3, 224, 224 ]\n") != std::string::npos);
  CHECK(config.find("output [\n  {\n    name: \"probs\"") != std::string::npos);
  CHECK(aiot::test::read_text(h.cwd / "repo" / "vision" / "1" / "model.onnx") == tiny_onnx(TinyModel().batch("N")));
  aiot::test::write_text(h.cwd / "fw.bin", "firmware");
  CHECK(h.run({"firmware", "add", "fw.bin", "--name", "gw", "--version", "1", "--triton", "repo"}).code == 2);
}
