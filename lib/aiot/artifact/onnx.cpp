#include "aiot/artifact/onnx.hpp"

#include <onnx/onnx_pb.h>

#include <fmt/format.h>

#include <map>
#include <set>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::artifact {

namespace {

std::string type_name(int elem_type) {
  if (!onnx::TensorProto_DataType_IsValid(elem_type) || elem_type == onnx::TensorProto_DataType_UNDEFINED) {
    return {};
  }
  return str::to_lower(onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(elem_type)));
}

[[noreturn]] void invalid(std::string_view source, const std::string& why) {
  throw Error::usage(fmt::format("{}: not a valid ONNX model: {}", source, why),
                     "aiot model add reads ONNX models (.onnx); use 'aiot firmware add' for other files.");
}

TensorSpec tensor_spec(const onnx::ValueInfoProto& v, std::string_view source, std::string_view role) {
  TensorSpec t;
  t.name = v.name();
  if (t.name.empty()) {
    invalid(source, fmt::format("a graph {} has no name", role));
  }
  if (!v.has_type() || !v.type().has_tensor_type()) {
    // Sequences and maps exist in ONNX-ML, but a device pipeline feeds tensors: say so clearly.
    invalid(source, fmt::format("graph {} '{}' is not a tensor (sequence/map inputs are not supported)", role, t.name));
  }
  const auto& tt = v.type().tensor_type();
  t.elem_type = type_name(tt.elem_type());
  if (t.elem_type.empty()) {
    invalid(source, fmt::format("graph {} '{}' has no element type", role, t.name));
  }
  if (tt.has_shape()) {
    t.has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        t.shape.push_back(d.dim_value());
      } else if (d.has_dim_param() && !d.dim_param().empty()) {
        t.shape.push_back(d.dim_param());
      } else {
        t.shape.push_back("?");
      }
    }
  }
  return t;
}

json tensor_json(const TensorSpec& t) {
  json j = {{"name", t.name}, {"type", t.elem_type}};
  j["shape"] = t.has_shape ? t.shape : json();
  return j;
}

TensorSpec tensor_from_json(const json& j) {
  TensorSpec t;
  t.name = j.at("name").get<std::string>();
  t.elem_type = j.at("type").get<std::string>();
  if (j.contains("shape") && !j["shape"].is_null()) {
    t.has_shape = true;
    t.shape = j["shape"];
  }
  return t;
}

std::string shape_text(const TensorSpec& t) {
  if (!t.has_shape) {
    return "[*]";
  }
  std::vector<std::string> dims;
  for (const auto& d : t.shape) {
    dims.push_back(d.is_string() ? d.get<std::string>() : d.dump());
  }
  return "[" + str::join(dims, ",") + "]";
}

// Compares one side (inputs or outputs) by tensor name.
void diff_tensors(const std::vector<TensorSpec>& before, const std::vector<TensorSpec>& after, const std::string& side,
                  bool added_breaks, std::vector<Change>& out) {
  std::map<std::string, const TensorSpec*> old_by_name, new_by_name;
  for (const auto& t : before) old_by_name[t.name] = &t;
  for (const auto& t : after) new_by_name[t.name] = &t;
  for (const auto& [name, t] : old_by_name) {
    auto it = new_by_name.find(name);
    std::string field = side + "." + name;
    if (it == new_by_name.end()) {
      out.push_back({field, describe_tensor(*t), "", true});
      continue;
    }
    const TensorSpec& n = *it->second;
    if (t->elem_type != n.elem_type) {
      out.push_back({field + ".type", t->elem_type, n.elem_type, true});
    }
    if (t->has_shape != n.has_shape || t->shape != n.shape) {
      out.push_back({field + ".shape", shape_text(*t), shape_text(n), true});
    }
  }
  for (const auto& [name, t] : new_by_name) {
    if (!old_by_name.count(name)) {
      out.push_back({side + "." + name, "", describe_tensor(*t), added_breaks});
    }
  }
}

void diff_text(const std::string& field, const std::string& a, const std::string& b, std::vector<Change>& out) {
  if (a != b) {
    out.push_back({field, a, b, false});
  }
}

// Triton's data types (model_config.proto DataType) for ONNX element types.
const std::map<std::string, std::string> k_triton_types = {
    {"bool", "TYPE_BOOL"},     {"uint8", "TYPE_UINT8"},   {"uint16", "TYPE_UINT16"}, {"uint32", "TYPE_UINT32"},
    {"uint64", "TYPE_UINT64"}, {"int8", "TYPE_INT8"},     {"int16", "TYPE_INT16"},   {"int32", "TYPE_INT32"},
    {"int64", "TYPE_INT64"},   {"float16", "TYPE_FP16"},  {"float", "TYPE_FP32"},    {"double", "TYPE_FP64"},
    {"string", "TYPE_STRING"}, {"bfloat16", "TYPE_BF16"},
};

std::string triton_dims(const TensorSpec& t, bool drop_first) {
  std::vector<std::string> dims;
  if (!t.has_shape) {
    dims.push_back("-1");  // any rank is not expressible; one variable dimension is the closest
  } else {
    for (std::size_t i = drop_first ? 1 : 0; i < t.shape.size(); ++i) {
      dims.push_back(t.shape[i].is_number_integer() ? t.shape[i].dump() : "-1");
    }
  }
  return "[ " + str::join(dims, ", ") + " ]";
}

// Protobuf text format string literal: names may hold any character.
std::string pbtxt_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string describe_tensor(const TensorSpec& t) { return t.elem_type + shape_text(t); }

json OnnxInfo::to_json() const {
  json ops = json::array();
  for (const auto& [domain, version] : opsets) {
    ops.push_back({{"domain", domain.empty() ? "ai.onnx" : domain}, {"version", version}});
  }
  json ins = json::array(), outs = json::array();
  for (const auto& t : inputs) ins.push_back(tensor_json(t));
  for (const auto& t : outputs) outs.push_back(tensor_json(t));
  return {{"irVersion", ir_version},
          {"opsets", ops},
          {"producer", {{"name", producer_name}, {"version", producer_version}}},
          {"domain", domain},
          {"modelVersion", model_version},
          {"docString", doc_string},
          {"graph", {{"name", graph_name}, {"nodes", nodes}, {"initializers", initializers}}},
          {"inputs", ins},
          {"outputs", outs},
          {"metadataProps", metadata_props}};
}

OnnxInfo OnnxInfo::from_json(const json& j) {
  OnnxInfo info;
  info.ir_version = j.value("irVersion", std::int64_t{0});
  for (const auto& o : j.value("opsets", json::array())) {
    std::string domain = o.value("domain", std::string());
    info.opsets.emplace_back(domain == "ai.onnx" ? "" : domain, o.value("version", std::int64_t{0}));
  }
  if (j.contains("producer")) {
    info.producer_name = j["producer"].value("name", std::string());
    info.producer_version = j["producer"].value("version", std::string());
  }
  info.domain = j.value("domain", std::string());
  info.model_version = j.value("modelVersion", std::int64_t{0});
  info.doc_string = j.value("docString", std::string());
  if (j.contains("graph")) {
    info.graph_name = j["graph"].value("name", std::string());
    info.nodes = j["graph"].value("nodes", std::size_t{0});
    info.initializers = j["graph"].value("initializers", std::size_t{0});
  }
  for (const auto& t : j.value("inputs", json::array())) info.inputs.push_back(tensor_from_json(t));
  for (const auto& t : j.value("outputs", json::array())) info.outputs.push_back(tensor_from_json(t));
  info.metadata_props = j.value("metadataProps", json::object());
  return info;
}

OnnxInfo inspect_onnx(std::string_view bytes, std::string_view source) {
  if (bytes.empty()) {
    invalid(source, "the file is empty");
  }
  onnx::ModelProto model;
  // ParseFromArray fails on a cut-off field or bytes that are not protobuf; an int cast limits
  // the size to 2 GiB, which is also protobuf's own message limit.
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    invalid(source, "the protobuf does not parse (a truncated file, or not ONNX)");
  }
  // Many byte strings happen to parse as some protobuf message: ask for what every model has.
  if (!model.has_ir_version() || model.ir_version() <= 0) {
    invalid(source, "no IR version");
  }
  if (!model.has_graph()) {
    invalid(source, "no graph");
  }
  const auto& g = model.graph();
  if (g.output_size() == 0) {
    invalid(source, "the graph has no outputs");
  }
  OnnxInfo info;
  info.ir_version = model.ir_version();
  for (const auto& op : model.opset_import()) {
    info.opsets.emplace_back(op.domain() == "ai.onnx" ? "" : op.domain(), op.version());
  }
  if (info.opsets.empty() && info.ir_version >= 3) {
    invalid(source, "no opset imports (required since IR version 3)");
  }
  info.producer_name = model.producer_name();
  info.producer_version = model.producer_version();
  info.domain = model.domain();
  info.model_version = model.model_version();
  info.doc_string = model.doc_string();
  info.graph_name = g.name();
  info.nodes = static_cast<std::size_t>(g.node_size());
  info.initializers = static_cast<std::size_t>(g.initializer_size());
  // Before IR 4 initializers also appeared as graph inputs; they are weights, not what a caller feeds.
  std::set<std::string> weights;
  for (const auto& init : g.initializer()) weights.insert(init.name());
  for (const auto& v : g.input()) {
    if (!weights.count(v.name())) info.inputs.push_back(tensor_spec(v, source, "input"));
  }
  for (const auto& v : g.output()) info.outputs.push_back(tensor_spec(v, source, "output"));
  for (const auto& p : model.metadata_props()) info.metadata_props[p.key()] = p.value();
  return info;
}

json Change::to_json() const {
  json j = {{"field", field}, {"breaking", breaking}};
  j["before"] = before.empty() ? json() : json(before);
  j["after"] = after.empty() ? json() : json(after);
  return j;
}

std::vector<Change> diff_io(const OnnxInfo& before, const OnnxInfo& after) {
  std::vector<Change> out;
  diff_tensors(before.inputs, after.inputs, "inputs", true, out);
  diff_tensors(before.outputs, after.outputs, "outputs", false, out);
  diff_text("irVersion", std::to_string(before.ir_version), std::to_string(after.ir_version), out);
  std::map<std::string, std::int64_t> old_ops(before.opsets.begin(), before.opsets.end());
  std::map<std::string, std::int64_t> new_ops(after.opsets.begin(), after.opsets.end());
  std::set<std::string> domains;
  for (const auto& [d, v] : old_ops) domains.insert(d);
  for (const auto& [d, v] : new_ops) domains.insert(d);
  for (const auto& d : domains) {
    auto text = [&d](const std::map<std::string, std::int64_t>& m) {
      auto it = m.find(d);
      return it == m.end() ? std::string() : std::to_string(it->second);
    };
    diff_text("opset." + (d.empty() ? std::string("ai.onnx") : d), text(old_ops), text(new_ops), out);
  }
  diff_text("producer", (before.producer_name + " " + before.producer_version),
            (after.producer_name + " " + after.producer_version), out);
  return out;
}

std::string triton_config(const std::string& model_name, const OnnxInfo& info, int dynamic_max_batch) {
  // The batch dimension Triton adds must be the first dimension of every input and output.
  bool all_dynamic = true, all_one = true;
  auto look = [&](const TensorSpec& t) {
    if (!t.has_shape || t.shape.empty()) {
      all_dynamic = all_one = false;
      return;
    }
    const json& first = t.shape[0];
    if (first.is_number_integer()) {
      all_dynamic = false;
      if (first.get<std::int64_t>() != 1) all_one = false;
    } else {
      all_one = false;
    }
  };
  for (const auto& t : info.inputs) look(t);
  for (const auto& t : info.outputs) look(t);
  int max_batch = all_dynamic ? dynamic_max_batch : all_one ? 1 : 0;
  bool drop_first = max_batch > 0;

  std::string out = fmt::format("name: {}\nplatform: \"onnxruntime_onnx\"\nmax_batch_size: {}\n", pbtxt_string(model_name),
                                max_batch);
  auto section = [&](const char* key, const std::vector<TensorSpec>& tensors) {
    out += fmt::format("{} [\n", key);
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const auto& t = tensors[i];
      auto type = k_triton_types.find(t.elem_type);
      if (type == k_triton_types.end()) {
        throw Error::usage(fmt::format("{} '{}': Triton has no data type for ONNX '{}'", key, t.name, t.elem_type));
      }
      out += fmt::format("  {{\n    name: {}\n    data_type: {}\n    dims: {}\n  }}{}\n", pbtxt_string(t.name),
                         type->second, triton_dims(t, drop_first), i + 1 < tensors.size() ? "," : "");
    }
    out += "]\n";
  };
  section("input", info.inputs);
  section("output", info.outputs);
  return out;
}

}  // namespace aiot::artifact
