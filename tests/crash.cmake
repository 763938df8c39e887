# SPDX-License-Identifier: BSD-3-Clause
# The crash-state explorer (tests/crash, docs/testing.md): power-failure
# states of every seq-1 workload and a seeded sample of seq-2, and proof
# that it notices a missing fence or flush.
if(DXL_CRASH)
  file(GLOB CX_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/crash/*.c)
  add_executable(crashx ${CX_SOURCES})
  target_include_directories(crashx PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR}/crash
                                            ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(crashx PRIVATE daxlease_traced)
endif()

if(DXL_CRASH)
  # seq-1 in full and a seeded sample of seq-2, both units; under a
  # sanitizer only the 4 KiB seq-1 run (the code under test is the same).
  function(dxl_crash_test name)
    add_test(NAME ${name} COMMAND crashx ${ARGN})
    set_tests_properties(${name} PROPERTIES LABELS crash TIMEOUT 1500
                         PASS_REGULAR_EXPRESSION "crash states: [0-9]+ explored, 0 violations")
  endfunction()
  # A run that must find violations: a test switch took a fence or a
  # flush out of the commit path.
  function(dxl_crash_must_fail name env)
    add_test(NAME ${name} COMMAND crashx --expect-violations --max-report 1 ${ARGN})
    set_tests_properties(${name} PROPERTIES LABELS crash TIMEOUT 600 ENVIRONMENT "${env}"
                         PASS_REGULAR_EXPRESSION "crash states: [0-9]+ explored, [1-9][0-9]* violations")
  endfunction()

  dxl_crash_test(crash_seq1_4k --unit 4k)
  dxl_crash_must_fail(crash_catches_no_commit_fence DXL_TEST_SKIP_DRAIN=commit --unit 4k --only create)
  dxl_crash_must_fail(crash_catches_no_log_flush DXL_TEST_SKIP_FLUSH=log --unit 4k --only write_small)
  # the fence that makes an in-place write durable on return: caught at
  # the crash point after the call returned
  dxl_crash_must_fail(crash_catches_no_write_fence DXL_TEST_SKIP_DRAIN=write --unit 4k --only write_inplace)
  # data before the metadata that maps it
  dxl_crash_must_fail(crash_catches_no_data_fence DXL_TEST_SKIP_DRAIN=data --unit 4k --only write_empty)
  # the in-place apply's fence is only missed once another commit follows
  dxl_crash_must_fail(crash_catches_no_apply_fence DXL_TEST_SKIP_DRAIN=apply
                      --unit 4k --only write_unaligned,unlink_open)
  # recovery's replay must be durable before recovery commits anew (here:
  # reaping an orphan); seen by crashing the recovery itself
  dxl_crash_must_fail(crash_catches_no_replay_fence DXL_TEST_SKIP_DRAIN=replay --unit 4k --only unlink_open)
  # stores the trace does not see must be reported as going around src/pmem
  add_test(NAME crash_catches_untraced_store COMMAND crashx --expect-violations --max-report 1
           --unit 4k --only create)
  set_tests_properties(crash_catches_untraced_store PROPERTIES LABELS crash TIMEOUT 600
                       ENVIRONMENT DXL_TEST_UNTRACED=journal/tx.c
                       PASS_REGULAR_EXPRESSION "stores around the trace: [1-9]")
  # The journal's deferred apply (one flush per commit, as on a pool file:
  # the apply is made durable by the next commit's drain), checked on the
  # DAX model; and what a single header slot would break with it.
  function(dxl_crash_test_env name env)
    add_test(NAME ${name} COMMAND crashx ${ARGN})
    set_tests_properties(${name} PROPERTIES LABELS crash TIMEOUT 1500 ENVIRONMENT "${env}"
                         PASS_REGULAR_EXPRESSION "crash states: [0-9]+ explored, 0 violations")
  endfunction()
  dxl_crash_test_env(crash_deferred_seq1_4k DXL_TEST_DEFER_APPLY=1 --unit 4k)
  dxl_crash_must_fail(crash_catches_one_slot "DXL_TEST_DEFER_APPLY=1;DXL_TEST_JOURNAL_ONE_SLOT=1"
                      --unit 4k --seq 2 --only symlink,unlink_hard)
  # the workloads that found bugs (docs/testing.md), both units
  foreach(w truncate_down punch truncate_unit)
    dxl_crash_test(crash_regress_${w}_2m --unit 2m --only ${w})
  endforeach()
  # the oracle's in-place bytes follow the inode, not the name (a hard link)
  dxl_crash_test(crash_regress_hardlink_inplace --unit 4k --only link,write_unaligned)
  if(NOT DXL_SANITIZE)
    dxl_crash_test(crash_seq1_2m --unit 2m)
    dxl_crash_test(crash_seq2_sample_4k --unit 4k --seq 2 --sample 150 --seed 1)
    dxl_crash_test(crash_seq2_sample_2m --unit 2m --seq 2 --sample 20 --seed 1)
    dxl_crash_test_env(crash_deferred_seq2_sample_4k DXL_TEST_DEFER_APPLY=1
                       --unit 4k --seq 2 --sample 150 --seed 1)
  endif()
  if(DXL_LONG_TESTS)
    dxl_crash_test(crash_seq2_full --seq 2)
    dxl_crash_test(crash_seq1_k3 -k 3)
    set_tests_properties(crash_seq2_full crash_seq1_k3 PROPERTIES TIMEOUT 86400)
  endif()
endif()
