# SPDX-License-Identifier: BSD-3-Clause
# The protocol parser's fuzz harness (tests/fuzz_proto.c).
#   fuzz_proto_smoke  the harness as a plain program: the built-in messages,
#                     mutations of them and any regression inputs kept in
#                     tests/fuzz_corpus/; a CTest test with any compiler.
#   fuzz_proto        the libFuzzer binary (clang, -DDXL_FUZZ=ON).  Build it
#                     with -DDXL_SANITIZE=address,undefined too, as
#                     scripts/fuzz.sh does: the sanitizers then cover the
#                     whole build and this file adds only the fuzzer, to the
#                     harness (-fsanitize=fuzzer) and to the library, whose
#                     RDMA layer holds the parser (-fsanitize=fuzzer-no-link:
#                     coverage).
option(DXL_FUZZ "Build the libFuzzer harness fuzz_proto (needs clang)" OFF)

if(TARGET daxlease_rdma)
  add_executable(fuzz_proto_smoke ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_proto.c)
  target_compile_definitions(fuzz_proto_smoke PRIVATE DXL_FUZZ_STANDALONE=1)
  target_include_directories(fuzz_proto_smoke PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(fuzz_proto_smoke PRIVATE daxlease_rdma)
  set(fuzz_regressions "")
  if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus)
    set(fuzz_regressions ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus)
  endif()
  add_test(NAME fuzz_proto_smoke COMMAND fuzz_proto_smoke ${fuzz_regressions})
  set_tests_properties(fuzz_proto_smoke PROPERTIES LABELS rdma TIMEOUT 300)

  if(DXL_FUZZ)
    if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
      message(FATAL_ERROR "DXL_FUZZ needs clang (-DCMAKE_C_COMPILER=clang), not ${CMAKE_C_COMPILER_ID}")
    endif()
    target_compile_options(daxlease_obj PRIVATE -fsanitize=fuzzer-no-link)
    add_executable(fuzz_proto ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_proto.c)
    target_include_directories(fuzz_proto PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_compile_options(fuzz_proto PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_proto PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_proto PRIVATE daxlease_rdma)
  endif()
elseif(DXL_FUZZ)
  message(FATAL_ERROR "DXL_FUZZ needs the RDMA layer (DXL_RDMA, libfabric, libsodium)")
endif()
