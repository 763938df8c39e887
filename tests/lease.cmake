# SPDX-License-Identifier: BSD-3-Clause
# Registrations of the lease tests (issue 3): tests/test_lease_*.c.
# The default runs come from tests/CMakeLists.txt (one per file, no
# arguments); this file sets their timeouts and adds the long modes.
# Pools live in /dev/shm (see tests/lease_common.h); nothing here asserts
# timings — the timeouts are liveness bounds.  See docs/testing-leases.md.

foreach(t test_lease_basic test_lease_break test_lease_mmap)
  if(TARGET ${t})
    set_tests_properties(${t} PROPERTIES TIMEOUT 300 LABELS lease)
  endif()
endforeach()

if(TARGET test_lease_race)
  # 2000 rounds with quarantine, 200 without (both outcomes asserted)
  set_tests_properties(test_lease_race PROPERTIES TIMEOUT 600 LABELS lease)
  # a bigger /f1 (16 units, so several segments per pin)
  add_test(NAME lease_race_unit_many COMMAND test_lease_race --rounds 500 --nq-rounds 50 --units 16)
  # 2 MiB units: the devdax allocation unit
  add_test(NAME lease_race_unit2m COMMAND test_lease_race --unit 2097152 --rounds 100 --nq-rounds 20)
  set_tests_properties(lease_race_unit_many lease_race_unit2m PROPERTIES TIMEOUT 600 LABELS lease)
endif()

if(TARGET test_lease_stress)
  # default: 4 workers, 20 s, a SIGKILL every ~300 ms, seed 1
  set_tests_properties(test_lease_stress PROPERTIES TIMEOUT 600 LABELS lease)
  add_test(NAME lease_stress_seed2 COMMAND test_lease_stress --seconds 20 --seed 2 --workers 6)
  set_tests_properties(lease_stress_seed2 PROPERTIES TIMEOUT 600 LABELS lease)
endif()

if(DXL_LONG_TESTS)
  if(TARGET test_lease_race)
    add_test(NAME lease_race_long COMMAND test_lease_race --rounds 100000 --nq-rounds 1000)
    set_tests_properties(lease_race_long PROPERTIES TIMEOUT 14400 LABELS "lease;long")
  endif()
  if(TARGET test_lease_stress)
    # --seed 0: a new seed each run (printed at start)
    add_test(NAME lease_stress_long COMMAND test_lease_stress --seconds 1800 --seed 0 --workers 8)
    set_tests_properties(lease_stress_long PROPERTIES TIMEOUT 14400 LABELS "lease;long")
  endif()
endif()

# Issue 7: the safety property where features meet.
foreach(t test_lease_reflink test_lease_fork test_lease_misuse test_lease_fanout test_lease_revoke)
  if(TARGET ${t})
    set_tests_properties(${t} PROPERTIES TIMEOUT 600 LABELS lease)
  endif()
endforeach()
if(TARGET test_lease_reflink)
  # the "never share a pinned unit" rule switched off: the test must see it
  add_test(NAME lease_reflink_share_pinned COMMAND test_lease_reflink --share-pinned)
  set_tests_properties(lease_reflink_share_pinned PROPERTIES TIMEOUT 600 LABELS lease)
endif()
if(TARGET test_lease_fanout)
  # 1000 leases over 100 processes (fewer under the sanitizers, which
  # make 100 processes slow on two cores), and leases with their own fds
  if(DXL_SANITIZE)
    add_test(NAME lease_fanout_procs COMMAND test_lease_fanout --procs 20 --leases 10)
  else()
    add_test(NAME lease_fanout_procs COMMAND test_lease_fanout --procs 100 --leases 10)
  endif()
  add_test(NAME lease_fanout_own_fd COMMAND test_lease_fanout --leases 30 --own-fd)
  # a socket each for 1000-2000 leases: the breaker's send buffer fills
  # (a datagram is charged to it until read), so wakes must be sent again
  if(DXL_SANITIZE)
    add_test(NAME lease_fanout_own_fd_procs COMMAND test_lease_fanout --procs 10 --leases 100 --own-fd)
  else()
    add_test(NAME lease_fanout_own_fd_procs COMMAND test_lease_fanout --procs 20 --leases 100 --own-fd)
  endif()
  set_tests_properties(lease_fanout_procs lease_fanout_own_fd lease_fanout_own_fd_procs
                       PROPERTIES TIMEOUT 600 LABELS lease)
endif()
