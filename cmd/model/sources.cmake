# Sources of cmd/model: target_sources(aiot_cli PRIVATE model/FILE.cpp)
target_sources(aiot_cli PRIVATE model/model.cpp)
