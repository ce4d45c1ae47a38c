#pragma once
// A linear layer with a transposable 2:4 weight for training on the sparse tensor cores
// (transposable N:M: every 4 x 4 block of W keeps 2 entries per row and per column, so W and W^T
// are both 2:4; masks from the TSENOR plugin, methods/tsenor). Forward y = x W^T and backward
// dx = dy W both run on cuSPARSELt, the latter with W^T's compressed form; dW = dy^T x (cuBLAS)
// masked to W's pattern, so a step keeps the weight in the same sparse pattern.

#include <cstdint>
#include <memory>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/sparse24_gemm_gpu.h"

namespace repro::kernels::gpu {

class TransposableSparseLinearGpu {
 public:
  // W: [out, in] fp16 device, contiguous, zero outside mask; mask: [out, in] uint8 device (1 =
  // kept). DataError when W or W^T is not 2:4 (the mask is not transposable); shapes as
  // Sparse24GemmGpu needs in both directions (out and in multiples of 16).
  TransposableSparseLinearGpu(const __half* W, const uint8_t* mask, int64_t out, int64_t in, cudaStream_t stream);

  // y = x W^T. x: [batch, in] (ldx); y: [batch, out] (ldy); fp16 device; batch a multiple of 8.
  void forward(const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy, cudaStream_t stream);
  // dx = dy W. dy: [batch, out] (lddy); dx: [batch, in] (lddx).
  void backward_input(const __half* dy, int64_t batch, int64_t lddy, __half* dx, int64_t lddx, cudaStream_t stream);
  // dW = (dy^T x) * mask. dy: [batch, out] (lddy); x: [batch, in] (ldx); dW: [out, in] contiguous.
  void backward_weight(const CublasHandle& h, const __half* dy, int64_t batch, int64_t lddy, const __half* x,
                       int64_t ldx, __half* dW, cudaStream_t stream);

 private:
  int64_t out_, in_;
  std::unique_ptr<Sparse24GemmGpu> forward_, backward_;  // W and W^T
  DeviceBuffer<uint8_t> mask_;
};

// Elementwise helpers (nm_elementwise.cu). out: [cols, rows] = in^T, in: [rows, cols], fp16 device.
void transpose_fp16(const __half* in, int64_t rows, int64_t cols, __half* out, cudaStream_t stream);
// w[k] = mask[k] ? w[k] : 0 for k < n. fp16 / uint8 device.
void apply_mask_fp16(__half* w, const uint8_t* mask, int64_t n, cudaStream_t stream);

}  // namespace repro::kernels::gpu
