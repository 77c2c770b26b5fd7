# Sources of lib/aiot/storage: target_sources(aiot_core PRIVATE aiot/storage/FILE.cpp)
target_sources(aiot_core PRIVATE
  aiot/http/stream.cpp
  aiot/storage/azure.cpp
  aiot/storage/inputs.cpp
  aiot/storage/object.cpp
  aiot/storage/s3.cpp
  aiot/storage/walk.cpp
  aiot/storage/xml.cpp)
