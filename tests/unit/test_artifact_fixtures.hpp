#pragma once
// ONNX models built in the tests with the protobuf API (no binary fixtures): a tiny graph
// input float[dims] -> Relu -> output, the shape and names chosen by the test.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aiot::test {

struct TinyModel {
  std::vector<std::int64_t> input_dims = {1, 3, 224, 224};
  std::string batch_param;  // non-empty: the first dimension is this symbolic name instead
  std::string input_name = "image";
  std::string output_name = "probs";
  int elem_type = onnx::TensorProto_DataType_FLOAT;
  std::int64_t opset = 13;
  std::string producer = "aiot-test";

  // Chainable setters: TinyModel().dims({1, 3, 320, 320}).type(onnx::TensorProto_DataType_UINT8)
  TinyModel& dims(std::vector<std::int64_t> d) { input_dims = std::move(d); return *this; }
  TinyModel& batch(std::string name) { batch_param = std::move(name); return *this; }
  TinyModel& input(std::string name) { input_name = std::move(name); return *this; }
  TinyModel& type(int t) { elem_type = t; return *this; }
};

inline void set_shape(onnx::ValueInfoProto* v, const TinyModel& m) {
  v->set_name(v->name());
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(m.elem_type);
  auto* shape = tensor->mutable_shape();
  for (std::size_t i = 0; i < m.input_dims.size(); ++i) {
    auto* d = shape->add_dim();
    if (i == 0 && !m.batch_param.empty()) {
      d->set_dim_param(m.batch_param);
    } else {
      d->set_dim_value(m.input_dims[i]);
    }
  }
}

// The serialized ModelProto.
inline std::string tiny_onnx(const TinyModel& m = {}) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name(m.producer);
  model.set_producer_version("1.0");
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(m.opset);
  auto* g = model.mutable_graph();
  g->set_name("tiny");
  auto* in = g->add_input();
  in->set_name(m.input_name);
  set_shape(in, m);
  auto* out = g->add_output();
  out->set_name(m.output_name);
  set_shape(out, m);
  auto* node = g->add_node();
  node->set_op_type("Relu");
  node->add_input(m.input_name);
  node->add_output(m.output_name);
  return model.SerializeAsString();
}

}  // namespace aiot::test
