# The include rules of docs/architecture.md ("Layers"), checked on every header under
# include/trellis: the front end includes only standard C++ headers and the front end; posix/
# (POSIX helpers) only standard, POSIX and posix/ headers; cli/, plan/ and main.hpp add POSIX
# headers, posix/ and each other, never LibTorch, a library, core/ or backends/; core/ includes
# only core/ and posix/ (no front end, command line, plan, workspace or backend), so a C++ code
# base can use it alone; only backends/ includes backends/.
cmake_minimum_required(VERSION 3.20)
set(front_end "^(trellis|pipeline|pipeline_view|diagnostics|text|fixed_string|models|backend)\\.hpp$|^(stages|params|targets|rules)/")
set(plan_layer "^(cli|plan)/|^main\\.hpp$")
set(posix_layer "^posix/")
set(standard "^[a-z_0-9]+$")  # <cstddef>, <type_traits>: no folder, no extension
set(posix "^((unistd|fcntl|signal|spawn|poll|dirent|netdb|errno|pwd|sched)\\.h|(sys|netinet|arpa)/[a-z_0-9]+\\.h)$")
# Per layer: which headers it has, which other headers it may include (a regex; "" for any),
# which trellis headers it may include ("" for any) and which never.
set(layers front_end posix plan core backends beside)
set(front_end_headers "${front_end}")
set(front_end_others "${standard}")
set(front_end_trellis "${front_end}")
set(front_end_rule "the front end includes only standard C++ headers and the front end")
set(posix_headers "${posix_layer}")
set(posix_others "${standard}|${posix}")
set(posix_trellis "${posix_layer}")
set(posix_rule "posix/ includes only standard C++ and POSIX headers and posix/")
set(plan_headers "${plan_layer}")
set(plan_others "${standard}|${posix}")
set(plan_trellis "${front_end}|${plan_layer}|${posix_layer}")
set(plan_rule "cli/, plan/ and main.hpp include only standard C++ and POSIX headers, the front end, cli/, plan/ and posix/")
set(core_headers "^core/")
set(core_trellis "^core/|${posix_layer}")
set(core_rule "core/ includes only core/ and posix/ (backends/stage_config/ maps the stages onto its options)")
set(backends_headers "^backends")
set(beside_headers ".")  # anything else, e.g. workspace/
set(beside_never "^backends")
set(beside_rule "only backends/ includes backends/")

file(GLOB_RECURSE headers RELATIVE ${ROOT}/include/trellis ${ROOT}/include/trellis/*.hpp)
set(problems "")
foreach(header IN LISTS headers)
  foreach(candidate IN LISTS layers)  # the first layer whose headers match
    if(header MATCHES "${${candidate}_headers}")
      set(layer ${candidate})
      break()
    endif()
  endforeach()
  file(STRINGS ${ROOT}/include/trellis/${header} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  foreach(line IN LISTS includes)
    string(REGEX MATCH "[<\"]([^>\"]+)[>\"]" _ "${line}")
    set(included "${CMAKE_MATCH_1}")
    if(included MATCHES "^trellis/(.+)$")
      set(path "${CMAKE_MATCH_1}")
      set(allowed "${${layer}_trellis}")
    else()
      set(path "${included}")
      set(allowed "${${layer}_others}")
    endif()
    if((NOT allowed STREQUAL "" AND NOT path MATCHES "${allowed}") OR
       (NOT "${${layer}_never}" STREQUAL "" AND included MATCHES "^trellis/" AND path MATCHES "${${layer}_never}"))
      list(APPEND problems "${header} includes <${included}>: ${${layer}_rule}")
    endif()
  endforeach()
endforeach()

list(LENGTH headers count)
if(count LESS 40)
  message(FATAL_ERROR "only ${count} headers found under ${ROOT}/include/trellis")
endif()
if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "headers break the layers of docs/architecture.md:\n  ${text}")
endif()
message(STATUS "${count} headers keep to their layers")
