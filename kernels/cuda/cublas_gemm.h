#pragma once
// Dense fp16 GEMMs through cuBLAS (fp32 accumulation, tensor cores): the baseline the compressed
// GPU kernels are timed against, and the dense pieces of S + LR and of the transposable N:M
// training step. Row-major buffers throughout (cuBLAS sees their column-major transposes).

#include <cstdint>

#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace repro::kernels::gpu {

// An owned cuBLAS handle.
class CublasHandle {
 public:
  CublasHandle();
  ~CublasHandle();
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

// y = x W^T + beta y. W: [out, in] fp16 device, row stride ldw; x: [batch, in] fp16 device, row
// stride ldx; y: [batch, out] fp16 device, row stride ldy. On `stream`.
void dense_linear_fp16(const CublasHandle& h, const __half* W, int64_t out, int64_t in, int64_t ldw, const __half* x,
                       int64_t batch, int64_t ldx, __half* y, int64_t ldy, float beta, cudaStream_t stream);

// dx = dy W. dy: [batch, out] fp16 device (row stride lddy); W: [out, in] (ldw); dx: [batch, in] (lddx).
void dense_linear_backward_input_fp16(const CublasHandle& h, const __half* W, int64_t out, int64_t in, int64_t ldw,
                                      const __half* dy, int64_t batch, int64_t lddy, __half* dx, int64_t lddx,
                                      cudaStream_t stream);

// dW = dy^T x. dy: [batch, out] (lddy); x: [batch, in] (ldx); dW: [out, in] fp16 device (lddw).
void dense_linear_backward_weight_fp16(const CublasHandle& h, const __half* dy, int64_t batch, int64_t lddy, int64_t out,
                                       const __half* x, int64_t ldx, int64_t in, __half* dW, int64_t lddw,
                                       cudaStream_t stream);

}  // namespace repro::kernels::gpu
