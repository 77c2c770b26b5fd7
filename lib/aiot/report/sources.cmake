# Sources of lib/aiot/report: target_sources(aiot_core PRIVATE aiot/report/FILE.cpp)
# metrics (docs/report-metrics.md)
target_sources(aiot_core PRIVATE aiot/report/intervals.cpp aiot/report/bias.cpp aiot/report/performance.cpp
  aiot/report/cost.cpp aiot/report/carbon.cpp aiot/report/carbon_table.cpp aiot/report/carbon_table_data.cpp
  aiot/report/metrics_csv.cpp aiot/report/security.cpp)
