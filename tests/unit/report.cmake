# Test sources for lib/aiot/report: target_sources(aiot_tests PRIVATE unit/test_report_X.cpp)
target_sources(aiot_tests PRIVATE unit/test_report_metrics.cpp)
target_sources(aiot_tests PRIVATE unit/test_report_metrics_cost_carbon.cpp)
target_sources(aiot_tests PRIVATE unit/test_report_period.cpp unit/test_report_policy.cpp unit/test_report_build.cpp)
