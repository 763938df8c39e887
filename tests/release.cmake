# SPDX-License-Identifier: BSD-3-Clause
# Release checks (issue 12): the licence line in every source file, the
# shared library's exported symbols, and an install used from outside.
add_test(NAME spdx_lines COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/check-spdx.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(spdx_lines PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
