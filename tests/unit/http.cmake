# Test sources for the http area: target_sources(aiot_tests PRIVATE unit/test_http_X.cpp ...)
target_sources(aiot_tests PRIVATE unit/test_http_client.cpp)
target_sources(aiot_tests PRIVATE unit/test_http_emulator.cpp)
# The one unit test with real (loopback) sockets: curl against the emulator's cpp-httplib server.
target_sources(aiot_tests PRIVATE unit/test_http_curl.cpp)
# http_server.hpp does not include httplib.h, but the imported target (defined GLOBAL in
# lib/aiot/emulator/sources.cmake) keeps the tests' link line and -D options in step with aiot_core.
target_link_libraries(aiot_tests PRIVATE PkgConfig::CPP_HTTPLIB)
