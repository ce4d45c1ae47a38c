#pragma once
// Status checks for the CUDA runtime and cuBLAS: a failed call throws, naming the call.
// Allocation failures are DeviceOutOfMemory (the user can ask for less); other failures are
// InternalError with the runtime's own message.

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace repro::kernels::gpu {

void check_cuda(cudaError_t status, const char* what);
void check_cublas(cublasStatus_t status, const char* what);

// How many CUDA devices the runtime sees; 0 (not an error) without a driver or a device.
int cuda_device_count();

}  // namespace repro::kernels::gpu
