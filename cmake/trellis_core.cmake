# trellis::core: the LibTorch side (DDP core, data, models, ONNX, workspace, backends).
# Found when LibTorch is: Debian's libtorch-dev here (Gloo), pip torch on GPU machines (NCCL).
# Installed beside the front end (trellisCoreTargets.cmake); trellisConfig.cmake finds what it
# links again, from TRELLIS_CORE_PACKAGES.
if(DEFINED ENV{GPU_DEPS})
  include_directories(BEFORE SYSTEM $ENV{GPU_DEPS}/include)
  link_directories($ENV{GPU_DEPS}/lib)
endif()

find_package(Torch QUIET)
set(TRELLIS_HAVE_CORE ${Torch_FOUND})
if(NOT Torch_FOUND)
  message(STATUS "trellis: LibTorch not found; building the front end only")
  return()
endif()
# A CUDA build of LibTorch lists its CUDA libraries (pip torch on GPU machines; Debian's is CPU-only).
if(TORCH_CUDA_LIBRARIES)
  set(TRELLIS_HAVE_CUDA TRUE)
else()
  set(TRELLIS_HAVE_CUDA FALSE)
endif()
message(STATUS "trellis: LibTorch ${Torch_VERSION}, CUDA: ${TRELLIS_HAVE_CUDA}")

add_library(trellis_core INTERFACE)
add_library(trellis::core ALIAS trellis_core)
set_target_properties(trellis_core PROPERTIES EXPORT_NAME core)
# LibTorch's libraries are paths on this machine: the installed package links them as its
# consumer finds them.
target_link_libraries(trellis_core INTERFACE trellis "$<BUILD_INTERFACE:${TORCH_LIBRARIES}>")
target_compile_options(trellis_core INTERFACE "$<BUILD_INTERFACE:${TORCH_CXX_FLAGS}>")

# The other packages it links, one list: image and IDX decoding for trellis/core/data (ZLIB, PNG,
# JPEG), run-time text ({fmt}), JSON read back (nlohmann-json), the workspace database (SQLite),
# ONNX graphs (Debian's onnx 1.12, compiled with ONNX_ML=1 and ONNX_NAMESPACE=onnx by its
# targets), the Azure backend's HTTP (libcurl) and TensorBoard's event messages (protobuf).
set(TRELLIS_CORE_PACKAGES ZLIB PNG JPEG fmt nlohmann_json SQLite3 ONNX CURL Protobuf)
foreach(package IN LISTS TRELLIS_CORE_PACKAGES)
  find_package(${package} REQUIRED)
endforeach()
target_link_libraries(trellis_core INTERFACE PNG::PNG JPEG::JPEG ZLIB::ZLIB fmt::fmt
                      nlohmann_json::nlohmann_json SQLite::SQLite3 onnx onnx_proto CURL::libcurl)

# Debian's LibTorch has c10d with Gloo, but leaves USE_C10D_GLOO to the user.
find_package(Gloo QUIET)
if(Gloo_FOUND)
  list(APPEND TRELLIS_CORE_PACKAGES Gloo)
  target_compile_definitions(trellis_core INTERFACE USE_C10D_GLOO)
  target_link_libraries(trellis_core INTERFACE gloo)
endif()

# TensorBoard's Event messages (include/trellis/core/tensorboard/event.proto), compiled by protoc
# into a small static library, installed with the headers: generated protobuf code defines
# symbols, so it cannot be header-only.
set(trellis_generated ${PROJECT_BINARY_DIR}/generated)
set(trellis_event_pb ${trellis_generated}/trellis/core/tensorboard/event.pb)
file(MAKE_DIRECTORY ${trellis_generated})
add_custom_command(
  OUTPUT ${trellis_event_pb}.h ${trellis_event_pb}.cc
  COMMAND protobuf::protoc --cpp_out=${trellis_generated} -I ${PROJECT_SOURCE_DIR}/include
          ${PROJECT_SOURCE_DIR}/include/trellis/core/tensorboard/event.proto
  DEPENDS ${PROJECT_SOURCE_DIR}/include/trellis/core/tensorboard/event.proto protobuf::protoc
  COMMENT "protoc: trellis/core/tensorboard/event.proto"
  VERBATIM)
add_library(trellis_tensorboard_proto STATIC ${trellis_event_pb}.cc)
target_include_directories(trellis_tensorboard_proto SYSTEM PUBLIC
  $<BUILD_INTERFACE:${trellis_generated}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(trellis_tensorboard_proto PUBLIC protobuf::libprotobuf)
set_target_properties(trellis_tensorboard_proto PROPERTIES POSITION_INDEPENDENT_CODE ON
                      EXPORT_NAME tensorboard_proto)
target_link_libraries(trellis_core INTERFACE trellis_tensorboard_proto)

install(TARGETS trellis_core trellis_tensorboard_proto EXPORT trellisCoreTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${trellis_event_pb}.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/trellis/core/tensorboard)
install(EXPORT trellisCoreTargets NAMESPACE trellis:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trellis)

# A project that vendors trellis (add_subdirectory) links trellis::core from its own directories,
# which see the imported targets found here only when they are global.
if(NOT PROJECT_IS_TOP_LEVEL)
  get_directory_property(trellis_imported IMPORTED_TARGETS)
  set_target_properties(${trellis_imported} PROPERTIES IMPORTED_GLOBAL TRUE)
endif()
