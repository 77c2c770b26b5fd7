# Sources of lib/aiot/auth/cloud: target_sources(aiot_core PRIVATE aiot/auth/cloud/FILE.cpp ...)
target_sources(aiot_core PRIVATE aiot/auth/cloud/sas.cpp)
target_sources(aiot_core PRIVATE aiot/auth/cloud/sigv4.cpp)
target_sources(aiot_core PRIVATE aiot/auth/cloud/aws_credentials.cpp)
