# One INTERFACE target that every aiot target links: standard, warnings, sanitizers (ccache's habit).
add_library(aiot_settings INTERFACE)
target_compile_features(aiot_settings INTERFACE cxx_std_20)
target_compile_options(aiot_settings INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
target_compile_definitions(aiot_settings INTERFACE AIOT_VERSION="${PROJECT_VERSION}")
if(AIOT_SANITIZE)
  target_compile_options(aiot_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(aiot_settings INTERFACE -fsanitize=address,undefined)
endif()
