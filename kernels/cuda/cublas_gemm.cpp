#include "kernels/cuda/cublas_gemm.h"

#include "kernels/cuda/cuda_check.h"

namespace repro::kernels::gpu {

namespace {

// C (m x n, column-major, ldc) = alpha op(A) op(B) + beta C, fp16 in and out, fp32 compute.
void gemm(const CublasHandle& h, cublasOperation_t ta, cublasOperation_t tb, int64_t m, int64_t n, int64_t k,
          const __half* A, int64_t lda, const __half* B, int64_t ldb, __half* C, int64_t ldc, float beta,
          cudaStream_t stream) {
  if (m == 0 || n == 0) return;
  const float alpha = 1.0f;
  check_cublas(cublasSetStream(h.get(), stream), "cublasSetStream");
  check_cublas(cublasGemmEx(h.get(), ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), &alpha, A,
                            CUDA_R_16F, static_cast<int>(lda), B, CUDA_R_16F, static_cast<int>(ldb), &beta, C,
                            CUDA_R_16F, static_cast<int>(ldc), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

}  // namespace

CublasHandle::CublasHandle() { check_cublas(cublasCreate(&h_), "cublasCreate"); }
CublasHandle::~CublasHandle() {
  if (h_) (void)cublasDestroy(h_);
}

// Row-major y [batch, out] is column-major y^T [out, batch] = W [out, in] x^T; W row-major is
// column-major W^T (in x out, ldw), so op(A) = T; x row-major is column-major x^T (in x batch).
void dense_linear_fp16(const CublasHandle& h, const __half* W, int64_t out, int64_t in, int64_t ldw, const __half* x,
                       int64_t batch, int64_t ldx, __half* y, int64_t ldy, float beta, cudaStream_t stream) {
  gemm(h, CUBLAS_OP_T, CUBLAS_OP_N, out, batch, in, W, ldw, x, ldx, y, ldy, beta, stream);
}

// dx^T [in, batch] = W^T [in, out] dy^T [out, batch]: A = W (column-major in x out, ldw), op N.
void dense_linear_backward_input_fp16(const CublasHandle& h, const __half* W, int64_t out, int64_t in, int64_t ldw,
                                      const __half* dy, int64_t batch, int64_t lddy, __half* dx, int64_t lddx,
                                      cudaStream_t stream) {
  gemm(h, CUBLAS_OP_N, CUBLAS_OP_N, in, batch, out, W, ldw, dy, lddy, dx, lddx, 0.0f, stream);
}

// dW^T [in, out] = x^T [in, batch] dy [batch, out]: A = x (column-major in x batch), B = dy^T
// stored column-major as out x batch, op T.
void dense_linear_backward_weight_fp16(const CublasHandle& h, const __half* dy, int64_t batch, int64_t lddy, int64_t out,
                                       const __half* x, int64_t ldx, int64_t in, __half* dW, int64_t lddw,
                                       cudaStream_t stream) {
  gemm(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, batch, x, ldx, dy, lddy, dW, lddw, 0.0f, stream);
}

}  // namespace repro::kernels::gpu
