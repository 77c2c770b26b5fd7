# Sources of lib/aiot/hub/azure: target_sources(aiot_core PRIVATE aiot/hub/azure/FILE.cpp ...)
target_sources(aiot_core PRIVATE aiot/hub/azure/azure_wire.cpp)
target_sources(aiot_core PRIVATE aiot/hub/azure/azure_client.cpp)
target_sources(aiot_core PRIVATE aiot/hub/azure/azure_hub.cpp)
