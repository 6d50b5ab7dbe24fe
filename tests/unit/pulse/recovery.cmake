# The recovering Publisher and Consumer against a real pulsed (one per test, on free ports)
# and against peers that refuse or hang up. Included from tests/unit/CMakeLists.txt; the rest
# of tests/unit/pulse has its own CMakeLists.txt.
add_executable(pulse_recovery_test
  ${CMAKE_CURRENT_LIST_DIR}/publisher_live_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/consumer_live_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/consumer_manual_ack_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/recovery_backoff_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/recovery_heartbeat_test.cc)
target_link_libraries(pulse_recovery_test PRIVATE pulse_layer GTest::gtest GTest::gtest_main)
target_compile_definitions(pulse_recovery_test PRIVATE PULSED_BIN="$<TARGET_FILE:pulsed>")
add_dependencies(pulse_recovery_test pulsed)
# Its kExchange is consumer_live_test.cc's too: a TU of its own in a unity build (scripts/build.sh).
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/recovery_heartbeat_test.cc
  PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
gtest_discover_tests(pulse_recovery_test DISCOVERY_TIMEOUT 30
  PROPERTIES LABELS live TIMEOUT 90)
