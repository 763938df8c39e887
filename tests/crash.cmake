# SPDX-License-Identifier: BSD-3-Clause
# The crash-state explorer (tests/crash, docs/testing.md): power-failure
# states of every seq-1 workload and a seeded sample of seq-2, and proof
# that it notices a missing fence or flush.
if(DXL_CRASH)
  file(GLOB CX_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/crash/*.c)
  add_executable(crashx ${CX_SOURCES})
  target_include_directories(crashx PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR}/crash)
  target_link_libraries(crashx PRIVATE daxlease_traced)
endif()
