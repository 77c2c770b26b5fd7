# Sources of lib/aiot/report: target_sources(aiot_core PRIVATE aiot/report/FILE.cpp)
# metrics (docs/report-metrics.md)
target_sources(aiot_core PRIVATE aiot/report/intervals.cpp aiot/report/bias.cpp aiot/report/performance.cpp
  aiot/report/cost.cpp aiot/report/carbon.cpp aiot/report/carbon_table.cpp aiot/report/carbon_table_data.cpp
  aiot/report/metrics_csv.cpp aiot/report/security.cpp)
# governance report (docs/report.md): period, policy, inputs, sections, renderers
target_sources(aiot_core PRIVATE aiot/report/period.cpp aiot/report/policy.cpp aiot/report/inputs.cpp aiot/report/report.cpp
  aiot/report/sections_common.cpp aiot/report/sections_fleet.cpp aiot/report/sections_data.cpp aiot/report/sections_cost.cpp
  aiot/report/sections_governance.cpp aiot/report/render_md.cpp aiot/report/render_html.cpp aiot/report/render_json.cpp
  aiot/report/svg.cpp)
