# Sources of lib/aiot/emulator: one `target_sources(aiot_core PRIVATE aiot/emulator/FILE.cpp)` line per file.
# cpp-httplib on Debian is a compiled library found through pkg-config; its -D options (OpenSSL,
# zlib, brotli) must match how the .so was built, so they come with the imported target.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CPP_HTTPLIB)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)
endif()
target_link_libraries(aiot_core PRIVATE PkgConfig::CPP_HTTPLIB)
target_sources(aiot_core PRIVATE aiot/emulator/server.cpp)
target_sources(aiot_core PRIVATE aiot/emulator/http_server.cpp)
target_sources(aiot_core PRIVATE aiot/emulator/azure_emulator.cpp)
target_sources(aiot_core PRIVATE aiot/emulator/azure_configurations.cpp)
target_sources(aiot_core PRIVATE aiot/emulator/aws_jobs.cpp)
target_sources(aiot_core PRIVATE aiot/emulator/aws_search.cpp)
target_sources(aiot_core PRIVATE aiot/emulator/aws_store.cpp)
target_sources(aiot_core PRIVATE aiot/emulator/aws_emulator.cpp)
