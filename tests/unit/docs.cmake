target_sources(aiot_tests PRIVATE cli/test_docs.cpp)
