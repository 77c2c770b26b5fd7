# Test sources for the rollout area: target_sources(aiot_tests PRIVATE unit/test_rollout_X.cpp ...)
target_sources(aiot_tests PRIVATE unit/test_rollout_stats.cpp)
target_sources(aiot_tests PRIVATE unit/test_rollout_gates.cpp)
