# The CMake package: `cmake --install` puts the headers and the package config under a prefix,
# and a consumer project gets trellis::trellis from it with find_package, and from the source
# tree with add_subdirectory; both consumers build and plan a pipeline (--dry-run).
# Arguments: SOURCE_DIR, BUILD_DIR (a configured trellis build), WORK, GENERATOR, CXX, DATASET.
file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${status}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(installed include/trellis/trellis.hpp include/trellis/main.hpp)
  if(NOT EXISTS ${prefix}/${installed})
    message(FATAL_ERROR "cmake --install did not install ${installed} under ${prefix}")
  endif()
endforeach()
file(GLOB_RECURSE configs ${prefix}/*/trellisConfig.cmake)
file(GLOB_RECURSE versions ${prefix}/*/trellisConfigVersion.cmake)
if(NOT configs OR NOT versions)
  message(FATAL_ERROR "cmake --install did not install trellisConfig.cmake and its version file")
endif()

# mode: package or subdirectory; `expected_includes` must be where its headers come from.
function(consume mode expected_includes)
  set(build ${WORK}/consumer-${mode})
  run("configuring the ${mode} consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer
      -B ${build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DTRELLIS_CONSUME=${mode}
      -DCMAKE_PREFIX_PATH=${prefix} -DTRELLIS_SOURCE_DIR=${SOURCE_DIR} -DDATASET=${DATASET})
  string(REGEX MATCH "trellis includes: [^\n]*" includes "${output}")
  if(NOT includes STREQUAL "trellis includes: ${expected_includes}")
    message(FATAL_ERROR "the ${mode} consumer's trellis::trellis reads '${includes}', "
                        "not '${expected_includes}'")
  endif()
  run("building the ${mode} consumer" ${CMAKE_COMMAND} --build ${build})
  run("the ${mode} consumer's dry run" ${build}/consumer --dry-run --workspace=${build}/ws)
  if(NOT EXISTS ${build}/ws/dry-run/plan.json)
    message(FATAL_ERROR "the ${mode} consumer's dry run wrote no plan:\n${output}")
  endif()
endfunction()

consume(package "${prefix}/include")
consume(subdirectory "$<BUILD_INTERFACE:${SOURCE_DIR}/include>;$<INSTALL_INTERFACE:include>")
