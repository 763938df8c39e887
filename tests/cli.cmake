# SPDX-License-Identifier: BSD-3-Clause
# Shell tests of the daxlease CLI: each script makes its pools in a temporary
# directory and checks real output, given the built binary.
if(TARGET daxlease-cli)
  foreach(name basic io cp usage leases completion remote)
    add_test(NAME cli_${name}
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/${name}.sh $<TARGET_FILE:daxlease-cli>)
    set_tests_properties(cli_${name} PROPERTIES TIMEOUT 300
                         ENVIRONMENT DXL_PROJECT_VERSION=${PROJECT_VERSION})
  endforeach()
endif()
