# Install layout and packages (cpack: .deb, .tar.gz, and .rpm when rpmbuild is present).
include(GNUInstallDirs)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 FILES_MATCHING PATTERN "*.1")
install(FILES ${PROJECT_SOURCE_DIR}/completions/aiot.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME aiot)
# zsh looks in site-functions on most systems; Debian's zsh looks in vendor-completions instead.
if(EXISTS /etc/debian_version)
  set(AIOT_ZSH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions CACHE STRING "zsh completion folder")
else()
  set(AIOT_ZSH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/zsh/site-functions CACHE STRING "zsh completion folder")
endif()
install(FILES ${PROJECT_SOURCE_DIR}/completions/_aiot DESTINATION ${AIOT_ZSH_COMPLETION_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/completions/aiot.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/THIRD-PARTY.md ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

set(CPACK_PACKAGE_NAME aiot)
set(CPACK_PACKAGE_VENDOR "aiot developers")
set(CPACK_PACKAGE_CONTACT "aiot developers <aiot@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://example.invalid/aiot")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_PACKAGE_INSTALL_DIRECTORY aiot)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/;/\\\\.git/;/\\\\.cache/")

set(CPACK_GENERATOR "TGZ")
find_program(AIOT_DPKG dpkg)
if(AIOT_DPKG)
  list(APPEND CPACK_GENERATOR DEB)
endif()
find_program(AIOT_RPMBUILD rpmbuild)
if(AIOT_RPMBUILD)
  list(APPEND CPACK_GENERATOR RPM)
endif()

# .deb: runtime dependencies from the binary's shared libraries (dpkg-shlibdeps), plus openssl for
# `aiot ca` users who inspect certificates; file names in Debian's own style.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openssl, bash-completion")
# .rpm: AutoReqProv finds the shared-library requirements.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/share/man /usr/share/man/man1 /usr/share/bash-completion /usr/share/bash-completion/completions
    /usr/share/zsh /usr/share/zsh/site-functions /usr/share/fish /usr/share/fish/vendor_completions.d)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

include(CPack)
