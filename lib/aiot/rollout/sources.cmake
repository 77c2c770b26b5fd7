# Sources of lib/aiot/rollout: target_sources(aiot_core PRIVATE aiot/rollout/FILE.cpp ...)
target_sources(aiot_core PRIVATE aiot/rollout/stats.cpp)
target_sources(aiot_core PRIVATE aiot/rollout/gates.cpp)
