# Test sources for lib/aiot/artifact: target_sources(aiot_tests PRIVATE unit/test_artifact_X.cpp)
