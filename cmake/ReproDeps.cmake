# Third-party dependencies. On a Debian machine they come from scripts/setup-deps.sh; on a
# machine without apt, point CMAKE_PREFIX_PATH at the folder that
# `scripts/setup-deps.sh --download-only DIR` unpacked (DIR/root/usr).

# A fuzz build (REPRO_FUZZ) links only the libtorch-free parsers: it needs the packages down to
# TOML++, not libtorch, SentencePiece or Boost.
find_package(nlohmann_json 3.9 REQUIRED)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)

# TOML++ is used header-only (its Debian package also ships a shared library; the header-only
# mode needs nothing at link time and travels to machines without apt).
find_path(REPRO_TOMLPP_INCLUDE toml++/toml.h REQUIRED)
add_library(repro_tomlplusplus INTERFACE)
target_include_directories(repro_tomlplusplus SYSTEM INTERFACE ${REPRO_TOMLPP_INCLUDE})
target_compile_definitions(repro_tomlplusplus INTERFACE TOML_HEADER_ONLY=1 TOML_EXCEPTIONS=1)

if(REPRO_FUZZ)
  return()
endif()
find_package(Torch REQUIRED)
find_package(spdlog REQUIRED)
# Boost.ProgramOptions: only the repro CLI (apps/repro) uses it, so a build of a folder subset
# without it (-DREPRO_FOLDERS=..., e.g. scripts/gpu-check.sh) needs no Boost (162 MB of headers).
if(NOT DEFINED REPRO_FOLDERS OR "apps/repro" IN_LIST REPRO_FOLDERS)
  find_package(Boost REQUIRED COMPONENTS program_options)
endif()

# SentencePiece (tokenizers, zoo training).
find_path(REPRO_SPM_INCLUDE sentencepiece_processor.h REQUIRED)
find_library(REPRO_SPM_LIB sentencepiece REQUIRED)
find_library(REPRO_SPM_TRAIN_LIB sentencepiece_train REQUIRED)
add_library(repro_sentencepiece INTERFACE)
target_include_directories(repro_sentencepiece SYSTEM INTERFACE ${REPRO_SPM_INCLUDE})
target_link_libraries(repro_sentencepiece INTERFACE ${REPRO_SPM_TRAIN_LIB} ${REPRO_SPM_LIB})

# libtorch as one interface target: includes as SYSTEM (its headers warn under -Wextra).
add_library(repro_torch INTERFACE)
target_link_libraries(repro_torch INTERFACE ${TORCH_LIBRARIES})

# Does this libtorch have CUDA? TorchConfig fills TORCH_CUDA_LIBRARIES (c10_cuda, cudart, ...) and
# Caffe2 defines the torch_cuda target only for CUDA builds of libtorch. When it has, every target
# that uses libtorch compiles with REPRO_WITH_CUDA=1: the code that asks libtorch about CUDA devices
# (environment, memory, device errors) is built. This is independent of REPRO_ENABLE_CUDA, which
# only decides whether our own .cu kernels are compiled with nvcc.
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(REPRO_TORCH_HAS_CUDA ON)
else()
  set(REPRO_TORCH_HAS_CUDA OFF)
endif()
if(REPRO_TORCH_HAS_CUDA)
  target_compile_definitions(repro_torch INTERFACE REPRO_WITH_CUDA=1)
endif()
message(STATUS "libtorch ${Torch_VERSION}: CUDA ${REPRO_TORCH_HAS_CUDA} (REPRO_WITH_CUDA)")
get_target_property(_torch_inc torch INTERFACE_INCLUDE_DIRECTORIES)
if(_torch_inc)
  target_include_directories(repro_torch SYSTEM INTERFACE ${_torch_inc})
endif()

# The shared precompiled header. Every target that reuses it must have the same compile flags,
# so it links exactly what those targets link for their flags: libtorch and the project root.
add_library(repro_pch OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch_stub.cpp)
target_link_libraries(repro_pch PUBLIC repro_torch)
target_include_directories(repro_pch PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
if(REPRO_USE_PCH)
  target_precompile_headers(repro_pch PRIVATE <ATen/ATen.h> <vector> <string> <memory> <optional>)
endif()
