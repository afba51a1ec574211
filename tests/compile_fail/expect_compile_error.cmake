# Compiles SOURCE with COMPILER and fails unless: the compile fails, the output has exactly
# one error, that error matches the `// expect-error: <regex>` on the file's first line, the
# output matches every `// expect-also: <regex>` line of the file (values the printed types
# must show), and the whole diagnostic stays within MAX_LINES lines.
file(STRINGS ${SOURCE} first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^// expect-error: (.+)$")
  message(FATAL_ERROR "${SOURCE}: first line must be '// expect-error: <regex>'")
endif()
set(expected "${CMAKE_MATCH_1}")
file(STRINGS ${SOURCE} also_lines REGEX "^// expect-also: ")

execute_process(
  COMMAND ${COMPILER} -std=c++20 -fsyntax-only -fdiagnostics-color=never -I${INCLUDE_DIR} ${SOURCE}
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)

if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but must fail with: ${expected}")
endif()
if(NOT output MATCHES "${expected}")
  message(FATAL_ERROR "${SOURCE}: the diagnostic does not match '${expected}':\n${output}")
endif()
foreach(line IN LISTS also_lines)
  string(REGEX REPLACE "^// expect-also: " "" also "${line}")
  if(NOT output MATCHES "${also}")
    message(FATAL_ERROR "${SOURCE}: the diagnostic does not show '${also}':\n${output}")
  endif()
endforeach()
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors error_count)
if(NOT error_count EQUAL 1)
  message(FATAL_ERROR "${SOURCE}: expected exactly one error, got ${error_count}:\n${output}")
endif()
string(REGEX MATCHALL "\n" newlines "${output}")
list(LENGTH newlines line_count)
if(line_count GREATER MAX_LINES)
  message(FATAL_ERROR "${SOURCE}: ${line_count} diagnostic lines exceed the budget of ${MAX_LINES}:\n${output}")
endif()
message(STATUS "${SOURCE}: one error, ${line_count} lines")
