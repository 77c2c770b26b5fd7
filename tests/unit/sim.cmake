# Test sources for the fleet simulator: target_sources(aiot_tests PRIVATE unit/test_sim_X.cpp)
target_sources(aiot_tests PRIVATE unit/test_sim_profile.cpp)
target_sources(aiot_tests PRIVATE unit/test_sim_device.cpp)
target_sources(aiot_tests PRIVATE unit/test_sim_simulator.cpp)
