# Test sources for lib/aiot/storage: target_sources(aiot_tests PRIVATE unit/test_storage_X.cpp)
target_sources(aiot_tests PRIVATE unit/test_storage_wire.cpp unit/test_storage_inputs.cpp)
