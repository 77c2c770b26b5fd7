target_sources(aiot_core PRIVATE aiot/proc/plugin.cpp)
