# Sources of lib/aiot/storage: target_sources(aiot_core PRIVATE aiot/storage/FILE.cpp)
