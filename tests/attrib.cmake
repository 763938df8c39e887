# SPDX-License-Identifier: BSD-3-Clause
# Registrations of the attribution test (tests/test_attrib.c, "the fsx of
# leases"): every stored word names the file it was aimed at, and after each
# phase no word may be found in a file no reflink could have brought it to.
# The default run (test_attrib, no arguments: 3 workers, 12 phases of 500
# operations per worker, seed 1) comes from tests/CMakeLists.txt; this file
# sets its label and timeout and adds the modes below.  The timeouts are
# liveness bounds; nothing asserts timings.  See docs/testing-leases.md.

if(TARGET test_attrib)
  set_tests_properties(test_attrib PROPERTIES TIMEOUT 600 LABELS lease)

  # The proof that the check can fail: without quarantine (the allocator
  # ignores pins) a DMA still storing into units freed under its pin reaches
  # the files they go to next.  Passes only if a violation is found.
  add_test(NAME attrib_no_quarantine COMMAND test_attrib --expect-violations --seed 1 --phases 30)
  set_tests_properties(attrib_no_quarantine PROPERTIES ENVIRONMENT "DXL_TEST_NO_QUARANTINE=1")

  # Without the rule "a reflink copies a pinned unit instead of sharing it",
  # stores through pins and mappings after a reflink show up in the clone.
  add_test(NAME attrib_share_pinned COMMAND test_attrib --expect-violations --seed 2 --phases 30)
  set_tests_properties(attrib_share_pinned PROPERTIES ENVIRONMENT "DXL_TEST_SHARE_PINNED=1")

  # 2 MiB units (the device-DAX unit): fewer, bigger units per file.
  add_test(NAME attrib_unit2m COMMAND test_attrib --unit 2m --seed 3 --phases 4 --phase-ops 300)

  set_tests_properties(attrib_no_quarantine attrib_share_pinned attrib_unit2m
                       PROPERTIES TIMEOUT 600 LABELS lease)

  if(DXL_LONG_TESTS)
    # --seed 0: a new seed each run (printed at start; rerun with it).
    add_test(NAME attrib_long COMMAND test_attrib --seconds 1800 --seed 0 --workers 4 --phase-ops 2000)
    set_tests_properties(attrib_long PROPERTIES TIMEOUT 14400 LABELS "lease;long")
  endif()
endif()
