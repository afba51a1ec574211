# A dataset folder that does not exist fails the dry run, names the folder, starts nothing.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${PROGRAM} --dry-run --workspace=${WORK}/ws WORKING_DIRECTORY ${WORK}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(status EQUAL 0)
  message(FATAL_ERROR "dry run passed without its dataset:\n${out}")
endif()
if(NOT out MATCHES "FAILED\\] dataset.layout: 'data/fashion-target/train' is not a folder")
  message(FATAL_ERROR "the failure does not name the dataset folder:\n${out}")
endif()
execute_process(COMMAND ${PROGRAM} --workspace=${WORK}/ws WORKING_DIRECTORY ${WORK}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(status EQUAL 0 OR NOT out MATCHES "check dataset.layout failed" OR NOT out MATCHES "nothing was started")
  message(FATAL_ERROR "a run without its dataset did not stop before starting:\n${out}")
endif()
