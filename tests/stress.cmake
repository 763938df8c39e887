# SPDX-License-Identifier: BSD-3-Clause
# Extra registrations of the random-operation, kill and bad-input tests.
# The default runs (test_fsx, test_kill, test_badinput with no arguments)
# come from tests/CMakeLists.txt; this file adds modes and environment.
# See docs/testing.md.
#
# Short modes run in the normal suite and in the ASan+UBSan build
# (-DDXL_SANITIZE=address,undefined); each stays well under a minute there.
# Long modes are registered only with -DDXL_LONG_TESTS=ON (label "long").

# Pools of the default runs live on tmpfs when there is one: on a disk file
# the plain-file backend msyncs every transaction, which makes the test
# disk-bound (minutes instead of seconds) without testing anything more —
# these tests kill processes, not power.  The *_file_backend runs below keep
# the plain-file backend covered.
set(DXL_FAST_TMP "")
if(EXISTS /dev/shm AND IS_DIRECTORY /dev/shm)
  set(DXL_FAST_TMP "TMPDIR=/dev/shm")
endif()

foreach(t test_fsx test_kill test_badinput)
  if(TARGET ${t} AND DXL_FAST_TMP)
    set_tests_properties(${t} PROPERTIES ENVIRONMENT "${DXL_FAST_TMP}")
  endif()
endforeach()

if(TARGET test_fsx)
  # 2 MiB allocation unit (device-DAX alignment): larger pool, fewer ops.
  add_test(NAME fsx_unit2m
           COMMAND test_fsx --unit 2m --ops 3000 --phase-ops 500 --check-every 100 --seed 2)
  # Another seed with small files: many unit boundaries per operation.
  add_test(NAME fsx_small_files
           COMMAND test_fsx --seed 3 --ops 10000 --max-size 64k --check-every 100)
  # The plain-file backend (msync durability) on a disk file.
  add_test(NAME fsx_file_backend COMMAND test_fsx --seed 4 --ops 1500)
  set_tests_properties(fsx_file_backend PROPERTIES ENVIRONMENT "TMPDIR=/var/tmp")
  if(DXL_FAST_TMP)
    set_tests_properties(fsx_unit2m fsx_small_files PROPERTIES ENVIRONMENT "${DXL_FAST_TMP}")
  endif()
  set_tests_properties(fsx_unit2m fsx_small_files fsx_file_backend PROPERTIES TIMEOUT 600)
endif()

if(TARGET test_kill)
  add_test(NAME kill_unit2m COMMAND test_kill --unit 2m --rounds 10 --seed 5)
  add_test(NAME kill_file_backend COMMAND test_kill --rounds 10 --seed 6)
  set_tests_properties(kill_file_backend PROPERTIES ENVIRONMENT "TMPDIR=/var/tmp")
  if(DXL_FAST_TMP)
    set_tests_properties(kill_unit2m PROPERTIES ENVIRONMENT "${DXL_FAST_TMP}")
  endif()
  set_tests_properties(kill_unit2m kill_file_backend PROPERTIES TIMEOUT 600)
endif()

if(DXL_LONG_TESTS)
  # --seed 0: a new seed each run (printed at start; rerun with it to reproduce).
  if(TARGET test_fsx)
    add_test(NAME fsx_long COMMAND test_fsx --ops 1000000 --seed 0)
    add_test(NAME fsx_long_unit2m COMMAND test_fsx --unit 2m --ops 100000 --seed 0)
    set_tests_properties(fsx_long fsx_long_unit2m PROPERTIES TIMEOUT 14400 LABELS long)
    if(DXL_FAST_TMP)
      set_tests_properties(fsx_long fsx_long_unit2m PROPERTIES ENVIRONMENT "${DXL_FAST_TMP}")
    endif()
  endif()
  if(TARGET test_kill)
    add_test(NAME kill_long COMMAND test_kill --rounds 2000 --seed 0)
    set_tests_properties(kill_long PROPERTIES TIMEOUT 14400 LABELS long)
    if(DXL_FAST_TMP)
      set_tests_properties(kill_long PROPERTIES ENVIRONMENT "${DXL_FAST_TMP}")
    endif()
  endif()
  if(TARGET test_badinput)
    add_test(NAME badinput_long COMMAND test_badinput --flips 20000 --seed 0)
    set_tests_properties(badinput_long PROPERTIES TIMEOUT 14400 LABELS long)
    if(DXL_FAST_TMP)
      set_tests_properties(badinput_long PROPERTIES ENVIRONMENT "${DXL_FAST_TMP}")
    endif()
  endif()
endif()
