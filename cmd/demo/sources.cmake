# Sources of cmd/demo: target_sources(aiot_cli PRIVATE demo/FILE.cpp)
target_sources(aiot_cli PRIVATE demo/demo.cpp)
