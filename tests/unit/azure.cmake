# Test sources for the azure area: target_sources(aiot_tests PRIVATE unit/test_azure_X.cpp ...)
target_sources(aiot_tests PRIVATE unit/test_azure_sas.cpp)
target_sources(aiot_tests PRIVATE unit/test_azure_wire.cpp)
target_sources(aiot_tests PRIVATE unit/test_azure_client.cpp)
