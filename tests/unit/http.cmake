# Test sources for the http area: target_sources(aiot_tests PRIVATE unit/test_http_X.cpp ...)
target_sources(aiot_tests PRIVATE unit/test_http_client.cpp)
