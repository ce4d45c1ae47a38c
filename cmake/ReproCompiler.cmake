# Warnings, ccache and the shared precompiled ATen header.

# C++ only: nvcc takes host-compiler warnings through -Xcompiler (kernels/cuda/CMakeLists.txt).
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wall> $<$<COMPILE_LANGUAGE:CXX>:-Wextra>
                    $<$<COMPILE_LANGUAGE:CXX>:-Winvalid-pch>)
# GCC 12 at -O3 reports -Wstringop-overflow, -Warray-bounds or -Wrestrict (whichever is on) on
# std::string concatenations inlined from libstdc++ (char_traits.h memcpy with an "unbounded" size;
# GCC bugs 105329 / 105651). All three off for GCC 12 only, so that REPRO_WERROR builds.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-stringop-overflow> $<$<COMPILE_LANGUAGE:CXX>:-Wno-array-bounds>
                      $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
if(REPRO_WERROR)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

find_program(REPRO_CCACHE ccache)
if(REPRO_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers need these sloppiness settings for ccache to hit.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${REPRO_CCACHE})
endif()

# Targets that use libtorch share one precompiled <ATen/ATen.h> (about 2 s per file instead of 8 s).
# The full <torch/torch.h> is not precompiled: its 600 MB PCH costs more to load than it saves.
function(repro_use_pch target)
  if(REPRO_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM repro_pch)
  endif()
endfunction()
