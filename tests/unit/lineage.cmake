# Test sources for lib/aiot/lineage: target_sources(aiot_tests PRIVATE unit/test_lineage_X.cpp)
target_sources(aiot_tests PRIVATE unit/test_lineage_readers.cpp)
target_sources(aiot_tests PRIVATE unit/test_lineage_sketch.cpp unit/test_lineage_drift.cpp)
target_sources(aiot_tests PRIVATE unit/test_lineage_checks.cpp unit/test_lineage_ledger.cpp)
