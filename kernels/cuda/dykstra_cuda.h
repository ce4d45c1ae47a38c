#pragma once
// The batched Dykstra kernel for TSENOR on the GPU: what dykstra_gpu_emulate (dykstra_gpu.h)
// computes, on device buffers. Needs REPRO_ENABLE_CUDA (repro_kernels_cuda).

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/cuda/dykstra_gpu.h"

namespace repro::kernels::gpu {

// A: [tiles, m, m] fp32 device (raw scores); S: [tiles, m, m] fp32 device out; iterations:
// [tiles] int32 device out. m in {4, 8, 16, 32}, 0 < n <= m (NotSupported / ConfigError
// otherwise). Asynchronous on `stream`.
void dykstra_gpu(const float* A, int64_t tiles, int m, int n, const DykstraGpuOptions& o, float* S,
                 int32_t* iterations, cudaStream_t stream);

}  // namespace repro::kernels::gpu
