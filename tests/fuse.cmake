# SPDX-License-Identifier: BSD-3-Clause
# Mount tests (daxlease mount through libfuse3). Registered only when the CLI
# was built with FUSE (pkg-config found fuse3); each test exits 77, which
# CTest reports as skipped, where /dev/fuse or mounting is not usable.
if(TARGET daxlease-cli AND FUSE3_FOUND)
  add_test(NAME fuse_tools
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fuse/tools.sh $<TARGET_FILE:daxlease-cli>)

  # fsx through the mount: plain system calls, so it links nothing of ours.
  add_executable(test_fuse_fsx ${CMAKE_CURRENT_SOURCE_DIR}/fuse/fsx.c)
  target_include_directories(test_fuse_fsx PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  set(DXL_FUSE_FSX_OPS 3000)
  if(DXL_LONG_TESTS)
    set(DXL_FUSE_FSX_OPS 100000)
  endif()
  add_test(NAME fuse_fsx
           COMMAND test_fuse_fsx $<TARGET_FILE:daxlease-cli> --ops ${DXL_FUSE_FSX_OPS})
  add_test(NAME fuse_fsx_cached
           COMMAND test_fuse_fsx $<TARGET_FILE:daxlease-cli> --cached --ops ${DXL_FUSE_FSX_OPS})

  # A layout lease held by another process is broken by a truncate through the mount.
  add_executable(test_fuse_lease ${CMAKE_CURRENT_SOURCE_DIR}/fuse/lease.c)
  target_link_libraries(test_fuse_lease PRIVATE daxlease)
  target_include_directories(test_fuse_lease PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  add_test(NAME fuse_lease COMMAND test_fuse_lease $<TARGET_FILE:daxlease-cli>)

  set_tests_properties(fuse_tools fuse_fsx fuse_fsx_cached fuse_lease PROPERTIES
                       SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
