# Test sources for the aws area: target_sources(aiot_tests PRIVATE unit/test_aws_X.cpp ...)
target_sources(aiot_tests PRIVATE unit/test_aws_sigv4.cpp)
target_sources(aiot_tests PRIVATE unit/test_aws_credentials.cpp)
