# Sources of lib/aiot/http: target_sources(aiot_core PRIVATE aiot/http/FILE.cpp ...)
target_sources(aiot_core PRIVATE aiot/http/transport.cpp)
target_sources(aiot_core PRIVATE aiot/http/client.cpp)
