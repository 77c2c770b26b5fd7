# Sources of lib/aiot/lineage: target_sources(aiot_core PRIVATE aiot/lineage/FILE.cpp)
target_sources(aiot_core PRIVATE aiot/lineage/source.cpp aiot/lineage/read_input.cpp aiot/lineage/read_json.cpp
  aiot/lineage/read_csv.cpp aiot/lineage/read_avro.cpp aiot/lineage/read_discover.cpp)
target_sources(aiot_core PRIVATE aiot/lineage/sketch.cpp aiot/lineage/profile.cpp aiot/lineage/drift.cpp)
target_sources(aiot_core PRIVATE aiot/lineage/policy.cpp aiot/lineage/ledger.cpp aiot/lineage/checks.cpp
  aiot/lineage/window_stats.cpp)
target_sources(aiot_core PRIVATE aiot/lineage/openlineage.cpp)
target_sources(aiot_core PRIVATE aiot/lineage/audit.cpp aiot/lineage/audit_json.cpp)
