# The client library for other projects: headers, static libraries, a CMake package
# (find_package(PulseClient) -> Pulse::pulse, Pulse::client) and pkg-config's pulse-client.pc.
# All of it is the install component `dev`; the pulse-broker .deb carries only `broker`
# (see README.md here). Included from packaging/CMakeLists.txt.
include(CMakePackageConfigHelpers)

set(PULSE_CLIENT_LIBRARIES pulse_base pulse_amqp pulse_client pulse_layer)
set(PULSE_CLIENT_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/pulse-client)
set(PULSE_CLIENT_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/PulseClient)

# Exported names: Pulse::base, Pulse::amqp, Pulse::client, Pulse::pulse (the Pulse layer).
set_target_properties(pulse_base PROPERTIES EXPORT_NAME base)
set_target_properties(pulse_amqp PROPERTIES EXPORT_NAME amqp)
set_target_properties(pulse_client PROPERTIES EXPORT_NAME client)
set_target_properties(pulse_layer PROPERTIES EXPORT_NAME pulse)
# Position-independent, so the archives can also go into another project's shared library;
# and a user's target gets C++20, which the headers need.
set_target_properties(${PULSE_CLIENT_LIBRARIES} PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_compile_features(pulse_base INTERFACE cxx_std_20)

# The headers: the public interface and everything it includes, found by following the
# `#include "..."` lines, so a header that starts including another one cannot be forgotten and
# internal headers stay out.
set(PULSE_CLIENT_PUBLIC_HEADERS
  pulse/publisher.h pulse/consumer.h pulse/recovery.h pulse/envelope.h pulse/routing.h
  pulse/backoff.h pulse/endpoints.h
  client/connection.h client/channel.h client/options.h client/types.h)
function(pulse_header_closure out)
  set(todo ${ARGN})
  set(seen)
  while(todo)
    list(POP_FRONT todo header)
    if(header IN_LIST seen)
      continue()
    endif()
    set(file ${PROJECT_SOURCE_DIR}/src/${header})
    if(NOT EXISTS ${file})
      message(FATAL_ERROR "public header ${header} includes a missing src/${header}")
    endif()
    list(APPEND seen ${header})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
    file(STRINGS ${file} includes REGEX "^#include \"[^\"]+\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" inc "${line}")
      list(APPEND todo ${inc})
    endforeach()
  endwhile()
  list(SORT seen)
  set(${out} ${seen} PARENT_SCOPE)
endfunction()
pulse_header_closure(PULSE_CLIENT_HEADERS ${PULSE_CLIENT_PUBLIC_HEADERS})
foreach(header IN LISTS PULSE_CLIENT_HEADERS)
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/src/${header} DESTINATION ${PULSE_CLIENT_INCLUDEDIR}/${dir}
    COMPONENT dev)
endforeach()

# Each installed header must compile on its own (a user may include any one first): one
# translation unit per header, built with the tests.
if(PULSE_BUILD_TESTS)
  set(checks)
  foreach(header IN LISTS PULSE_CLIENT_HEADERS)
    string(MAKE_C_IDENTIFIER ${header} id)
    set(check ${CMAKE_CURRENT_BINARY_DIR}/header_check/${id}.cc)
    file(CONFIGURE OUTPUT ${check} CONTENT "#include \"${header}\"\n")
    list(APPEND checks ${check})
  endforeach()
  add_library(pulse_client_header_check OBJECT ${checks})
  target_link_libraries(pulse_client_header_check PRIVATE pulse_layer)
  # A unity build (CI's, see scripts/build.sh) would put the headers in one TU, checking nothing.
  set_target_properties(pulse_client_header_check PROPERTIES UNITY_BUILD OFF)
endif()

install(TARGETS ${PULSE_CLIENT_LIBRARIES} EXPORT PulseClientTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${PULSE_CLIENT_INCLUDEDIR})
install(EXPORT PulseClientTargets NAMESPACE Pulse:: DESTINATION ${PULSE_CLIENT_CMAKEDIR}
  COMPONENT dev)
configure_package_config_file(client/PulseClientConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/PulseClientConfig.cmake INSTALL_DESTINATION ${PULSE_CLIENT_CMAKEDIR})
# 0.x: a new minor version may break the interface.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/PulseClientConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/PulseClientConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/PulseClientConfigVersion.cmake
  DESTINATION ${PULSE_CLIENT_CMAKEDIR} COMPONENT dev)

# pkg-config: the prefix is computed from the .pc file's own place (${pcfiledir}), so the
# install can be moved or made with `cmake --install --prefix` after configuring.
file(RELATIVE_PATH PULSE_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" PULSE_PC_TO_PREFIX "${PULSE_PC_TO_PREFIX}")
configure_file(client/pulse-client.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pulse-client.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pulse-client.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
