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
