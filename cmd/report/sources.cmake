# Sources of cmd/report: target_sources(aiot_cli PRIVATE report/FILE.cpp)
target_sources(aiot_cli PRIVATE report/report.cpp)
target_sources(aiot_cli PRIVATE report/governance.cpp)
