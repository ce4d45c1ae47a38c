#pragma once
// Where a result came from: build, libraries and hardware, captured into every record.

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

namespace repro {

// {"git", "compiler", "build_type", "libtorch", "cuda", "blas", "cpu", "cores", "threads",
//  "hostname", "gpu", "gpu_memory_mb", "gpu_capability", "gpu_driver"}; fields that do not apply are
// null. "cuda" is the CUDA runtime libtorch runs with (builds with CUDA only); the gpu_* fields
// describe `device` when it is a CUDA device (name, total memory in MiB, compute capability
// "8.0", driver's CUDA version "12.4"), and are null for rows run on the CPU.
nlohmann::json capture_environment(const c10::Device& device = c10::Device(c10::kCPU));

// True when this build can use CUDA (REPRO_WITH_CUDA: libtorch was built with it).
bool built_with_cuda();

// The BLAS library libtorch is using ("openblas", "mkl", "reference", ...), from the loaded objects.
std::string detect_blas();

}  // namespace repro
