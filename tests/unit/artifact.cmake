# Test sources for lib/aiot/artifact: target_sources(aiot_tests PRIVATE unit/test_artifact_X.cpp)
target_sources(aiot_tests PRIVATE
  unit/test_artifact_onnx.cpp
  unit/test_artifact_signing.cpp
  cli/test_model.cpp
  cli/test_rollout_artifact.cpp
)
# The tests build ONNX models with the protobuf API: the ONNX definitions and their compile flags.
target_link_libraries(aiot_tests PRIVATE onnx_proto protobuf::libprotobuf)
