# SPDX-License-Identifier: BSD-3-Clause
# Release checks (issue 12): the licence line in every source file, the
# shared library's exported symbols, and an install used from outside.
add_test(NAME spdx_lines COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-spdx.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(spdx_lines PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
add_test(NAME test_switches COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/release/test_switches.sh
         ${CMAKE_SOURCE_DIR} ${CMAKE_C_COMPILER})
set_tests_properties(test_switches PROPERTIES TIMEOUT 60)

if(TARGET daxlease_shared)
  set(dxl_abi_headers daxlease.h)
  if(DXL_RDMA)
    list(APPEND dxl_abi_headers rdma.h)
  endif()
  add_test(NAME abi_exports COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/release/abi_exports.sh
           $<TARGET_FILE:daxlease_shared> ${CMAKE_SOURCE_DIR}/include ${dxl_abi_headers})
  set_tests_properties(abi_exports PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)

  # the build's sanitizers go to the consumer too (its runtime must come first)
  set(dxl_consumer_flags "")
  if(DXL_SANITIZE)
    set(dxl_consumer_flags "-fsanitize=${DXL_SANITIZE}")
  endif()
  add_test(NAME install_consumer COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/release/install_consumer.sh
           ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_LIBDIR}
           ${PROJECT_VERSION} ${CMAKE_C_COMPILER})
  set_tests_properties(install_consumer PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
                       ENVIRONMENT "DXL_CONSUMER_FLAGS=${dxl_consumer_flags}")
endif()

if(TARGET man)
  add_test(NAME man_pages COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/release/man_pages.sh
           ${CMAKE_BINARY_DIR}/man $<TARGET_FILE:daxlease-cli> ${CMAKE_SOURCE_DIR}/include)
  set_tests_properties(man_pages PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
endif()
