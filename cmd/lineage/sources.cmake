# Sources of cmd/lineage: target_sources(aiot_cli PRIVATE lineage/FILE.cpp)
target_sources(aiot_cli PRIVATE lineage/lineage.cpp)
target_sources(aiot_cli PRIVATE lineage/merge.cpp)
target_sources(aiot_cli PRIVATE lineage/audit.cpp)
