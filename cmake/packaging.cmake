# The Debian package: `cpack -G DEB` in the build directory makes
# ringd_<version>_<arch>.deb from the install rules below.
#
#   /usr/bin/ringd                       the agent (static: no shared library dependencies)
#   /lib/systemd/system/ringd.service    deploy/systemd/ringd.service with the package's paths
#   /etc/ringd/ringd.json                the example config, a conffile (kept on upgrade and remove)
#   /usr/share/ringd/nginx/              render.sh, nginx.conf.template, lua/
#   /usr/share/doc/ringd/README.md       the unit's Documentation=
#
# These rules describe the package's layout (prefix /usr, absolute /etc and
# /lib). To install a build by hand, use deploy/install.sh (/usr/local).
#
# The package starts nothing and enables nothing (cmake/debian/postinst says
# why): the config it ships is an example, with a node name and seed addresses
# that are wrong on every real host.

set(RINGD_DEB_PREFIX /usr)
set(RINGD_DEB_UNIT_DIR /lib/systemd/system)
set(RINGD_DEB_DOC_DIR ${RINGD_DEB_PREFIX}/share/doc/ringd)
set(RINGD_DEB_MAINTAINER "ringd maintainers <ringd@example.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

# The unit as deploy/install.sh installs it names /usr/local paths; the
# package's copy names its own. Generated at configure time (cmake runs
# again when the source unit changes).
set(unit_src ${PROJECT_SOURCE_DIR}/deploy/systemd/ringd.service)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${unit_src})
file(READ ${unit_src} unit)
string(REGEX REPLACE "\nExecStart=/usr/local/bin/ringd " "\nExecStart=${RINGD_DEB_PREFIX}/bin/ringd " unit "${unit}")
string(REGEX REPLACE "\nDocumentation=[^\n]*" "\nDocumentation=file://${RINGD_DEB_DOC_DIR}/README.md" unit "${unit}")
if(NOT unit MATCHES "\nExecStart=${RINGD_DEB_PREFIX}/bin/ringd ")
  message(FATAL_ERROR "${unit_src}: no ExecStart=/usr/local/bin/ringd line to point at the package's binary")
endif()
# Its opening paragraph is about deploy/install.sh: the header below takes its place.
string(FIND "${unit}" "# systemd unit for the ringd agent." cut_from)
string(FIND "${unit}" "# SIGTERM (systemctl stop)" cut_to)
if(cut_from GREATER -1 AND cut_to GREATER cut_from)
  string(SUBSTRING "${unit}" 0 ${cut_from} head)
  string(SUBSTRING "${unit}" ${cut_to} -1 tail)
  set(unit "${head}${tail}")
endif()
set(unit_header [=[
# systemd unit for the ringd agent, as the Debian package ringd installs it.
#
# Made by cmake/packaging.cmake from deploy/systemd/ringd.service: the
# binary is /usr/bin/ringd, the README /usr/share/doc/ringd/README.md. The
# package starts and enables nothing: edit /etc/ringd/ringd.json (node, bind,
# join, service), then `systemctl enable --now ringd`. Override settings with
# `systemctl edit ringd`.
#
]=])
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/packaging/ringd.service CONTENT "${unit_header}${unit}")

install(TARGETS ringd RUNTIME DESTINATION bin)
install(FILES ${CMAKE_BINARY_DIR}/packaging/ringd.service DESTINATION ${RINGD_DEB_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/ringd.json DESTINATION /etc/ringd)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/nginx/ DESTINATION share/ringd/nginx USE_SOURCE_PERMISSIONS)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/ringd)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ringd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${RINGD_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "gossip membership and consistent-hash routing agent for nginx")
set(CPACK_PACKAGE_DESCRIPTION "\
Every host runs one ringd agent: backend hosts advertise their service,
nginx hosts join as router-only members. The agents keep a SWIM membership
view over UDP and build the same consistent hash ring, which nginx reads
over the Redis protocol to send every request for a resource to the same
backend. The nginx configuration and Lua modules are in /usr/share/ringd/nginx.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${RINGD_DEB_PREFIX})
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The binary is static, so dpkg-shlibdeps finds no library to depend on;
# it stays on so a -DRINGD_STATIC=OFF build gets its real dependencies.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# nginx + its Lua module run the routing side; the snapshot mode's Lua loads
# libxxhash.so.0 with LuaJIT's FFI.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx, libnginx-mod-http-lua, libxxhash0")

set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
# Maintainer scripts 0755, conffiles 0644, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
