# SPDX-License-Identifier: BSD-3-Clause
# cmake -DPAGE=daxlease.8|libdaxlease.3 -DIN=... -DOUT=... -DSCDOC=...
#       [-DCLI=daxlease] [-DHEADER=daxlease.h] -P man.cmake
# Makes a man page from its scdoc source in docs/man, filling the parts
# that must not drift from the code: daxlease(8)'s COMMANDS from every
# command's own --help, libdaxlease(3)'s API from the public header.

cmake_minimum_required(VERSION 3.20) # the policies of the project (CMP0053)

# text as an scdoc literal block (scdoc reads backslashes as escapes)
function(literal text out)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REGEX REPLACE "\n+$" "" text "${text}")
  set(${out} "```\n${text}\n```" PARENT_SCOPE)
endfunction()

file(READ ${IN} src)
if(PAGE STREQUAL "daxlease.8")
  execute_process(COMMAND ${CLI} --help OUTPUT_VARIABLE overview RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${CLI} --help failed (${rc})")
  endif()
  # the command lines of the overview: "  NAME  summary", after "Commands:"
  string(REGEX REPLACE ".*Commands:\n" "" cmds "${overview}")
  string(REGEX REPLACE "\n\n.*" "" cmds "${cmds}")
  string(REPLACE "\n" ";" cmds "${cmds}")
  set(body "")
  set(n 0)
  foreach(line ${cmds})
    string(REGEX MATCH "^  ([a-z]+) +(.*)$" m "${line}")
    if(NOT m)
      continue()
    endif()
    set(name ${CMAKE_MATCH_1})
    execute_process(COMMAND ${CLI} help ${name} OUTPUT_VARIABLE help RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${CLI} help ${name} failed (${rc})")
    endif()
    literal("${help}" block)
    string(APPEND body "## ${name}\n\n${block}\n\n")
    math(EXPR n "${n} + 1")
  endforeach()
  if(n LESS 5)
    message(FATAL_ERROR "found ${n} commands in ${CLI} --help: has its layout changed?")
  endif()
  string(REPLACE "@COMMANDS@" "${body}" src "${src}")
elseif(PAGE STREQUAL "libdaxlease.3")
  file(READ ${HEADER} header)
  literal("${header}" block)
  string(REPLACE "@HEADER@" "${block}" src "${src}")
else()
  message(FATAL_ERROR "unknown page ${PAGE}")
endif()

file(WRITE ${OUT}.scd "${src}")
execute_process(COMMAND ${SCDOC} INPUT_FILE ${OUT}.scd OUTPUT_FILE ${OUT} RESULT_VARIABLE rc
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "scdoc ${OUT}.scd: ${err}")
endif()
