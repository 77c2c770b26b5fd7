# Every dependency is a Debian 12 package; packaging/install-deps.sh installs them.
find_package(CLI11 REQUIRED CONFIG)           # 2.1.2
find_package(nlohmann_json 3.11 REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)             # 9.1
find_package(yaml-cpp REQUIRED CONFIG)        # 0.7: target is plain yaml-cpp
find_package(CURL REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)  # Boost.Process v1 is header-only but needs filesystem
if(AIOT_BUILD_TESTS)
  find_package(doctest REQUIRED CONFIG)
endif()
