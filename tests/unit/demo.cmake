# Test sources of the demo: target_sources(aiot_tests PRIVATE cli/test_demo.cpp)
target_sources(aiot_tests PRIVATE cli/test_demo.cpp)
