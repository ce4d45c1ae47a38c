#pragma once
// Sparse + low-rank linear on the GPU, y = x S^T + (x V^T) U^T, S 2:4 (cuSPARSELt) or dense
// (cuBLAS), U: [out, rank], V: [rank, in], fp16 with fp32 accumulation. The low-rank product runs
// first (cuBLAS: t = x V^T, then y = t U^T), and the S product accumulates onto it in the same
// GEMM (beta = 1): no extra pass over y. The intermediate t is fp16 [batch, rank].

#include <cstdint>
#include <memory>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/sparse24_gemm_gpu.h"

namespace repro::kernels::gpu {

class SparseLowRankGpu {
 public:
  // S: [out, in] fp16 device (2:4 along in when sparse; then shapes as Sparse24GemmGpu needs);
  // U: [out, rank], V: [rank, in] fp16 device, contiguous. All are copied (compressed for a 2:4 S).
  SparseLowRankGpu(const __half* S, bool sparse24, int64_t out, int64_t in, const __half* U, const __half* V,
                   int64_t rank, cudaStream_t stream);

  // y = x S^T + (x V^T) U^T. x: [batch, in] fp16 device (row stride ldx); y: [batch, out] (ldy).
  void run(const CublasHandle& h, const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy,
           cudaStream_t stream);

  int64_t out() const { return out_; }
  int64_t in() const { return in_; }
  int64_t rank() const { return rank_; }

 private:
  int64_t out_, in_, rank_;
  std::unique_ptr<Sparse24GemmGpu> sparse_;
  DeviceBuffer<__half> dense_, U_, V_, t_;
};

}  // namespace repro::kernels::gpu
