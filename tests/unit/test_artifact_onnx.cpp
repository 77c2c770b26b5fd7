// ONNX inspection, I/O diffs and Triton configs over models built with the protobuf API.
#include <doctest/doctest.h>

#include "aiot/artifact/onnx.hpp"
#include "aiot/core/error.hpp"
#include "unit/test_artifact_fixtures.hpp"

using namespace aiot::artifact;
using aiot::test::tiny_onnx;
using aiot::test::TinyModel;

TEST_CASE("inspect_onnx reads IR version, opsets, producer and typed I/O") {
  auto info = inspect_onnx(tiny_onnx(), "tiny.onnx");
  CHECK(info.ir_version == 8);
  REQUIRE(info.opsets.size() == 1);
  CHECK(info.opsets[0] == std::pair<std::string, std::int64_t>{"", 13});
  CHECK(info.producer_name == "aiot-test");
  CHECK(info.graph_name == "tiny");
  CHECK(info.nodes == 1);
  REQUIRE(info.inputs.size() == 1);
  CHECK(info.inputs[0].name == "image");
  CHECK(info.inputs[0].elem_type == "float");
  CHECK(info.inputs[0].shape == nlohmann::json::array({1, 3, 224, 224}));
  REQUIRE(info.outputs.size() == 1);
  CHECK(describe_tensor(info.outputs[0]) == "float[1,3,224,224]");

  SUBCASE("to_json and from_json round-trip") {
    auto back = OnnxInfo::from_json(info.to_json());
    CHECK(back.to_json() == info.to_json());
    CHECK(back.inputs == info.inputs);
  }
  SUBCASE("a symbolic batch dimension keeps its name") {
    auto dyn = inspect_onnx(tiny_onnx(TinyModel().batch("N")), "dyn.onnx");
    CHECK(dyn.inputs[0].shape == nlohmann::json::array({"N", 3, 224, 224}));
  }
}

TEST_CASE("inspect_onnx refuses what is not an ONNX model, with the file name and a reason") {
  auto bytes = tiny_onnx();
  auto message_of = [](const std::string& b) {
    try {
      inspect_onnx(b, "m.onnx");
    } catch (const aiot::Error& e) {
      CHECK(e.code() == aiot::ExitCode::usage);
      return e.message();
    }
    return std::string("no error");
  };
  CHECK(message_of(bytes.substr(0, bytes.size() / 2)).starts_with("m.onnx: not a valid ONNX model:"));
  CHECK(message_of("PK\x03\x04 this is a zip file, not a model\n").starts_with("m.onnx: not a valid ONNX model:"));
  CHECK(message_of("") == "m.onnx: not a valid ONNX model: the file is empty");
  // A protobuf that parses but is no model: an OperatorSetIdProto on its own.
  onnx::OperatorSetIdProto op;
  op.set_domain("x");
  op.set_version(3);
  CHECK(message_of(op.SerializeAsString()).starts_with("m.onnx: not a valid ONNX model: no"));
}

TEST_CASE("diff_io: a changed input shape is breaking, an added output is not, opsets are reported") {
  auto v1 = inspect_onnx(tiny_onnx(), "v1");
  SUBCASE("same model: no change") { CHECK(diff_io(v1, v1).empty()); }
  SUBCASE("input shape") {
    auto v2 = inspect_onnx(tiny_onnx(TinyModel().dims({1, 3, 320, 320})), "v2");
    auto changes = diff_io(v1, v2);
    REQUIRE(changes.size() == 2);
    CHECK(changes[0].field == "inputs.image.shape");
    CHECK(changes[0].before == "[1,3,224,224]");
    CHECK(changes[0].after == "[1,3,320,320]");
    CHECK(changes[0].breaking);
    CHECK(changes[1].field == "outputs.probs.shape");
    CHECK(changes[1].breaking);
  }
  SUBCASE("input type and name") {
    auto typed = diff_io(v1, inspect_onnx(tiny_onnx(TinyModel().type(onnx::TensorProto_DataType_UINT8)), "v2"));
    CHECK(typed[0].field == "inputs.image.type");
    CHECK(typed[0].after == "uint8");
    CHECK(typed[0].breaking);
    auto renamed = diff_io(v1, inspect_onnx(tiny_onnx(TinyModel().input("pixels")), "v2"));
    REQUIRE(renamed.size() == 2);
    CHECK(renamed[0].field == "inputs.image");  // removed
    CHECK(renamed[0].after.empty());
    CHECK(renamed[1].field == "inputs.pixels");  // added: a caller does not feed it
    CHECK(renamed[1].breaking);
  }
  SUBCASE("an added output and a new opset are not breaking") {
    auto v2 = v1;
    v2.outputs.push_back({"boxes", "float", nlohmann::json::array({1, 4}), true});
    v2.opsets[0].second = 17;
    auto changes = diff_io(v1, v2);
    REQUIRE(changes.size() == 2);
    CHECK(changes[0].field == "outputs.boxes");
    CHECK_FALSE(changes[0].breaking);
    CHECK(changes[1].field == "opset.ai.onnx");
    CHECK(changes[1].before == "13");
    CHECK(changes[1].after == "17");
    CHECK_FALSE(changes[1].breaking);
  }
}

TEST_CASE("triton_config: platform, types, dims and max_batch_size from the first dimension") {
  SUBCASE("a fixed batch of 1: max_batch_size 1, the batch dimension left out") {
    auto text = triton_config("vision", inspect_onnx(tiny_onnx(), "m"));
    CHECK(text ==
          "name: \"vision\"\n"
          "platform: \"onnxruntime_onnx\"\n"
          "max_batch_size: 1\n"
          "input [\n"
          "  {\n"
          "    name: \"image\"\n"
          "    data_type: TYPE_FP32\n"
          "    dims: [ 3, 224, 224 ]\n"
          "  }\n"
          "]\n"
          "output [\n"
          "  {\n"
          "    name: \"probs\"\n"
          "    data_type: TYPE_FP32\n"
          "    dims: [ 3, 224, 224 ]\n"
          "  }\n"
          "]\n");
  }
  SUBCASE("a symbolic batch: the dynamic maximum") {
    auto text = triton_config("vision", inspect_onnx(tiny_onnx(TinyModel().batch("N")), "m"), 16);
    CHECK(text.find("max_batch_size: 16\n") != std::string::npos);
    CHECK(text.find("dims: [ 3, 224, 224 ]") != std::string::npos);
  }
  SUBCASE("a fixed batch above 1: no Triton batching, the full dims") {
    auto text = triton_config("vision", inspect_onnx(tiny_onnx(TinyModel().dims({4, 3, 8, 8})), "m"));
    CHECK(text.find("max_batch_size: 0\n") != std::string::npos);
    CHECK(text.find("dims: [ 4, 3, 8, 8 ]") != std::string::npos);
  }
  SUBCASE("int64 maps to TYPE_INT64; complex has no Triton type") {
    auto text = triton_config("m", inspect_onnx(tiny_onnx(TinyModel().type(onnx::TensorProto_DataType_INT64)), "m"));
    CHECK(text.find("data_type: TYPE_INT64") != std::string::npos);
    auto complex = inspect_onnx(tiny_onnx(TinyModel().type(onnx::TensorProto_DataType_COMPLEX64)), "m");
    CHECK_THROWS_AS(triton_config("m", complex), aiot::Error);
  }
}
