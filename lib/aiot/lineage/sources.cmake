# Sources of lib/aiot/lineage: target_sources(aiot_core PRIVATE aiot/lineage/FILE.cpp)
