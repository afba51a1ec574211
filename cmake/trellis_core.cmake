# trellis::core: the LibTorch side (DDP core, data, models, ONNX, workspace, backends).
# Found when LibTorch is: Debian's libtorch-dev here (Gloo), pip torch on GPU machines (NCCL).
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
target_link_libraries(trellis_core INTERFACE trellis ${TORCH_LIBRARIES})
target_compile_options(trellis_core INTERFACE ${TORCH_CXX_FLAGS})

# Image and IDX decoding for trellis/core/data.
find_package(ZLIB REQUIRED)
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
target_link_libraries(trellis_core INTERFACE PNG::PNG JPEG::JPEG ZLIB::ZLIB)

# Run-time text ({fmt}), JSON read back (nlohmann-json), the workspace database (SQLite), ONNX
# graphs (Debian's onnx 1.12, compiled with ONNX_ML=1 and ONNX_NAMESPACE=onnx by its targets) and
# the Azure backend's HTTP (libcurl).
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ONNX REQUIRED)
find_package(CURL REQUIRED)
target_link_libraries(trellis_core INTERFACE fmt::fmt nlohmann_json::nlohmann_json SQLite::SQLite3
                      onnx onnx_proto CURL::libcurl)

# Debian's LibTorch has c10d with Gloo, but leaves USE_C10D_GLOO to the user.
find_package(Gloo QUIET)
if(Gloo_FOUND)
  target_compile_definitions(trellis_core INTERFACE USE_C10D_GLOO)
  target_link_libraries(trellis_core INTERFACE gloo)
endif()

# TensorBoard's Event messages (include/trellis/core/tensorboard/event.proto), compiled by protoc
# into a small static library: generated protobuf code defines symbols, so it cannot be
# header-only. Built only when a target links trellis::core.
find_package(Protobuf REQUIRED)
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
add_library(trellis_tensorboard_proto STATIC EXCLUDE_FROM_ALL ${trellis_event_pb}.cc)
target_include_directories(trellis_tensorboard_proto SYSTEM PUBLIC ${trellis_generated})
target_link_libraries(trellis_tensorboard_proto PUBLIC protobuf::libprotobuf)
set_target_properties(trellis_tensorboard_proto PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(trellis_core INTERFACE trellis_tensorboard_proto)
