# SPDX-License-Identifier: BSD-3-Clause
# RDMA over loopback (tcp;ofi_rxm): tests/rdma_test.c, one mode per test.
if(TARGET daxlease_rdma)
  add_executable(rdma_test ${CMAKE_CURRENT_SOURCE_DIR}/rdma_test.c)
  target_include_directories(rdma_test PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(rdma_test PRIVATE daxlease_rdma)
  foreach(mode truncate_race truncate_race_noq recall crash server_stop access commit register many late_challenge)
    add_test(NAME rdma_${mode} COMMAND rdma_test ${mode})
    set_tests_properties(rdma_${mode} PROPERTIES LABELS rdma TIMEOUT 300 RUN_SERIAL TRUE)
  endforeach()
endif()
