# Sources of lib/aiot/artifact: target_sources(aiot_core PRIVATE aiot/artifact/FILE.cpp)
