#pragma once
// Where a result came from: build, libraries and hardware, captured into every record.

#include <nlohmann/json.hpp>

namespace repro {

// {"git", "compiler", "build_type", "libtorch", "cuda", "blas", "cpu", "cores", "threads",
//  "gpu", "gpu_driver", "hostname"}; fields that do not apply are null.
nlohmann::json capture_environment();

// The BLAS library libtorch is using ("openblas", "mkl", "reference", ...), from the loaded objects.
std::string detect_blas();

}  // namespace repro
