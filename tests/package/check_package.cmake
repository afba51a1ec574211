# The CMake package: `cmake --install` puts the headers, the package config and trellis::core's
# parts under a prefix, and a consumer project gets trellis::trellis and trellis::core from it
# with find_package, and from the source tree with add_subdirectory. Both consumers build and plan
# a pipeline (--dry-run), and build and run a two-rank DDP training written against the core
# alone (CORE_PROGRAM, when trellis has its core).
# Arguments: SOURCE_DIR, BUILD_DIR (a built trellis build), WORK, GENERATOR, CXX, DATASET,
# CORE_PROGRAM (empty: the front end only).
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
set(expected include/trellis/trellis.hpp include/trellis/main.hpp "*/trellisConfig.cmake"
    "*/trellisConfigVersion.cmake")
if(CORE_PROGRAM)
  list(APPEND expected include/trellis/core/tensorboard/event.pb.h "*/trellisCoreTargets.cmake"
       "*/libtrellis_tensorboard_proto.a")
endif()
foreach(installed IN LISTS expected)
  file(GLOB_RECURSE found ${prefix}/${installed})
  if(NOT found)
    message(FATAL_ERROR "cmake --install did not install ${installed} under ${prefix}")
  endif()
endforeach()

# mode: package or subdirectory; `expected_includes` must be where its headers come from.
function(consume mode expected_includes)
  set(build ${WORK}/consumer-${mode})
  run("configuring the ${mode} consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer
      -B ${build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DTRELLIS_CONSUME=${mode}
      -DCMAKE_PREFIX_PATH=${prefix} -DTRELLIS_SOURCE_DIR=${SOURCE_DIR} -DDATASET=${DATASET}
      -DCORE_PROGRAM=${CORE_PROGRAM})
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
  if(CORE_PROGRAM)
    # It exits non-zero unless both ranks finished with equal weights, model.pt and an accuracy
    # well above chance.
    run("the ${mode} consumer's core training" ${build}/core_training ${DATASET} ${build}/core-run)
    message(STATUS "${mode} consumer, core training: ${output}")
  endif()
endfunction()

consume(package "${prefix}/include")
consume(subdirectory "$<BUILD_INTERFACE:${SOURCE_DIR}/include>;$<INSTALL_INTERFACE:include>")
