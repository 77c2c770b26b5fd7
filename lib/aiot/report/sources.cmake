# Sources of lib/aiot/report: target_sources(aiot_core PRIVATE aiot/report/FILE.cpp)
