# Sources of lib/aiot/artifact: target_sources(aiot_core PRIVATE aiot/artifact/FILE.cpp)
target_sources(aiot_core PRIVATE
  aiot/artifact/onnx.cpp
  aiot/artifact/signing.cpp
  aiot/artifact/artifact.cpp
  aiot/artifact/store.cpp
  aiot/artifact/rollout_link.cpp
)
