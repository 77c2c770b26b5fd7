# Every dependency is a Debian 12 package; packaging/install-deps.sh installs them.
find_package(CLI11 REQUIRED CONFIG)           # 2.1.2
find_package(nlohmann_json 3.11 REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)             # 9.1
find_package(yaml-cpp REQUIRED CONFIG)        # 0.7: target is plain yaml-cpp
find_package(CURL REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)  # Boost.Process v1 is header-only but needs filesystem
if(AIOT_BUILD_TESTS)
  find_package(doctest REQUIRED CONFIG)
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(AVRO REQUIRED IMPORTED_TARGET avro-c)   # 1.11 (Avro C: IoT Hub routing exports)
find_package(simdjson REQUIRED CONFIG)        # 3.0.1 (telemetry hot path)
find_package(ZLIB REQUIRED)                   # gzip'd exports
find_package(Protobuf REQUIRED)               # 3.21, for the ONNX model definitions
find_package(ONNX REQUIRED CONFIG)            # 1.12: onnx_proto (ONNX_ML=1, namespace onnx)
