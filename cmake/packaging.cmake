# Install rules and the Debian package (`cpack -G DEB` in the build tree):
#
#   /usr/bin/ringd                       the binary
#   /usr/lib/systemd/system/ringd.service   the sandboxed unit (deploy/systemd), pointing at /usr/bin
#   /etc/ringd/ringd.json                an example config, a conffile (dpkg keeps local edits)
#   /usr/share/ringd/nginx/              the nginx template, render.sh and Lua files
#   /usr/share/doc/ringd/README.md       the unit's Documentation=
#
# The package does not enable or start the unit: the example config names
# addresses of a made-up network, and an agent started before its node,
# bind, join and service are set would join nothing (or the wrong thing).
# postinst only tells a running systemd about the unit; the operator edits
# /etc/ringd/ringd.json and runs `systemctl enable --now ringd`.
# (deploy/install.sh still installs under /usr/local without a package.)
install(TARGETS ringd RUNTIME DESTINATION bin)

# The unit as installed by the package: the binary and README under /usr.
# Its first comment paragraph, about deploy/install.sh, becomes one about the package.
file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/ringd.service ringd_unit)
string(FIND "${ringd_unit}" "# SIGTERM (systemctl stop)" ringd_unit_notes)
if(ringd_unit_notes LESS 0)
  message(FATAL_ERROR "deploy/systemd/ringd.service: the SIGTERM note packaging.cmake cuts at is gone")
endif()
string(SUBSTRING "${ringd_unit}" ${ringd_unit_notes} -1 ringd_unit)
string(PREPEND ringd_unit "# systemd unit for the ringd agent, installed by the ringd package with the
# binary in /usr/bin, the example config in /etc/ringd/ringd.json, the
# README in /usr/share/doc/ringd/ and the nginx files in /usr/share/ringd/nginx/.
# Nothing is enabled at install:
#
#   editor /etc/ringd/ringd.json         # node, bind, join, service
#   systemctl enable --now ringd
#
")
string(REPLACE "/usr/local/bin/ringd" "/usr/bin/ringd" ringd_unit "${ringd_unit}")
string(REPLACE "/usr/local/share/doc/ringd" "/usr/share/doc/ringd" ringd_unit "${ringd_unit}")
file(WRITE ${CMAKE_BINARY_DIR}/package/ringd.service "${ringd_unit}")
install(FILES ${CMAKE_BINARY_DIR}/package/ringd.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/ringd.json DESTINATION /etc/ringd)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/nginx/ DESTINATION share/ringd/nginx
        USE_SOURCE_PERMISSIONS)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/ringd)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ringd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "consistent-hash routing for nginx over SWIM membership")
set(CPACK_PACKAGE_DESCRIPTION
    "ringd runs on every host of a cluster: agents find each other, keep a SWIM-style membership view over UDP and build the same consistent hash ring of the live backends, which nginx asks per request over the Redis protocol or reads inside nginx.")
set(CPACK_PACKAGE_CONTACT "ringd maintainers <ringd@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Shared libraries the binary needs, found by dpkg-shlibdeps (none beyond
# libc when it is linked statically).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The snapshot mode's Lua loads libxxhash.so.0 through LuaJIT's FFI.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx, libnginx-mod-http-lua, libxxhash0")
# Debian ships binaries stripped: 7.8 MB instead of 10 MB for the static ringd.
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
