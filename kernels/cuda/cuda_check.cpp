#include "kernels/cuda/cuda_check.h"

#include <fmt/format.h>

#include "core/error.h"

namespace repro::kernels::gpu {

void check_cuda(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  const std::string msg = fmt::format("{}: CUDA error {} ({})", what, cudaGetErrorName(status), cudaGetErrorString(status));
  if (status == cudaErrorMemoryAllocation) throw DeviceOutOfMemory(msg);
  throw InternalError(msg);
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const std::string msg = fmt::format("{}: cuBLAS status {} ({})", what, static_cast<int>(status),
                                      cublasGetStatusString(status));
  if (status == CUBLAS_STATUS_ALLOC_FAILED) throw DeviceOutOfMemory(msg);
  throw InternalError(msg);
}

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no driver" / "no device" error
    return 0;
  }
  return n;
}

}  // namespace repro::kernels::gpu
