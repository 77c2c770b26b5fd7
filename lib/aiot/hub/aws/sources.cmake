# Sources of lib/aiot/hub/aws: target_sources(aiot_core PRIVATE aiot/hub/aws/FILE.cpp ...)
target_sources(aiot_core PRIVATE aiot/hub/aws/aws_client.cpp)
target_sources(aiot_core PRIVATE aiot/hub/aws/aws_mapping.cpp)
target_sources(aiot_core PRIVATE aiot/hub/aws/aws_hub.cpp)
