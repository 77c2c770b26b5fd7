#pragma once
// ONNX inspection with the protobuf definitions Debian ships (libonnx-dev: onnx/onnx_pb.h,
// ONNX_ML=1, namespace onnx): what the registry records about a model, how two models' I/O
// signatures compare, and the Triton config.pbtxt made from it. Pure: bytes in, values out.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::artifact {

using json = nlohmann::json;

// One graph input or output. A dimension is a number (dim_value), a name (dim_param, e.g. "N")
// or "?" (unknown), kept as JSON: [1, 3, 224, 224] or ["N", 3, 224, 224].
struct TensorSpec {
  std::string name;
  std::string elem_type;  // ONNX TensorProto.DataType name in lower case: "float", "int64", "uint8", ...
  json shape = json::array();
  bool has_shape = false;  // false: the model gives no shape (any rank)
  bool operator==(const TensorSpec&) const = default;
};

struct OnnxInfo {
  std::int64_t ir_version = 0;
  std::vector<std::pair<std::string, std::int64_t>> opsets;  // (domain, version); "" is ai.onnx
  std::string producer_name, producer_version, domain, doc_string, graph_name;
  std::int64_t model_version = 0;
  std::vector<TensorSpec> inputs;   // graph inputs that are not initializers (real inputs)
  std::vector<TensorSpec> outputs;
  json metadata_props = json::object();  // model.metadata_props as key -> value
  std::size_t nodes = 0;
  std::size_t initializers = 0;

  json to_json() const;
  static OnnxInfo from_json(const json& j);
};

// Parses an ONNX model. Throws Error::usage "SOURCE: not a valid ONNX model: WHY" when the bytes
// do not parse as a ModelProto (truncated, another format) or lack what every model has (an IR
// version, a graph with at least one output, typed inputs and outputs).
OnnxInfo inspect_onnx(std::string_view bytes, std::string_view source);

// How two I/O signatures differ. Breaking for a device that feeds the old inputs and reads the old
// outputs: an input removed, added, retyped or reshaped; an output removed, retyped or reshaped.
// An added output is not breaking. Metadata changes (IR version, opsets, producer) are reported,
// never breaking.
struct Change {
  std::string field;   // "inputs.image.shape", "opset.ai.onnx", "producer", "sha256", ...
  std::string before;  // "" when added
  std::string after;   // "" when removed
  bool breaking = false;
  json to_json() const;
};
std::vector<Change> diff_io(const OnnxInfo& before, const OnnxInfo& after);

// "float[1,3,224,224]" style text (ONNX type names; "float[*]" without a shape) for tables and the model card.
std::string describe_tensor(const TensorSpec& t);

// A minimal Triton model configuration (protobuf text format) for the onnxruntime backend:
//   name, platform "onnxruntime_onnx", max_batch_size, input [...], output [...]
// max_batch_size from the first dimension of every input and output: all dynamic (a name or
// unknown) -> `dynamic_max_batch` and the dims without it; all exactly 1 -> 1 and the dims without
// it; otherwise (fixed batch > 1, rank 0, mixed) -> 0 and the full dims. Unknown dims are -1.
// Throws Error::usage for an element type Triton has no TYPE_ for.
std::string triton_config(const std::string& model_name, const OnnxInfo& info, int dynamic_max_batch = 8);

}  // namespace aiot::artifact
