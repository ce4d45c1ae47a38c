#include "kernels/sparse_lowrank.h"

#include <vector>

#include "kernels/dense_gemm.h"

namespace repro::kernels {

void lowrank_gemm_add(const float* U, const float* V, int64_t rows, int64_t cols, int64_t rank, const float* x,
                      int64_t batch, int64_t ldx, float* y, int64_t ldy, const KernelOptions& options) {
  if (rank == 0) return;
  std::vector<float> t(batch * rank);  // x V^T: [batch, rank]
  dense_gemm(x, batch, ldx, V, rank, cols, cols, t.data(), rank, false, options);
  dense_gemm(t.data(), batch, rank, U, rows, rank, rank, y, ldy, true, options);
}

void sparse24_lowrank_gemm(const Packed24& S, const float* U, const float* V, int64_t rank, const float* x,
                           int64_t batch, int64_t ldx, float* y, int64_t ldy, const KernelOptions& options) {
  sparse24_gemm(S, x, batch, ldx, y, ldy, options);
  lowrank_gemm_add(U, V, S.rows, S.cols, rank, x, batch, ldx, y, ldy, options);
}

void dense_lowrank_gemm(const float* S, int64_t lds, int64_t rows, int64_t cols, const float* U, const float* V,
                        int64_t rank, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy,
                        const KernelOptions& options) {
  dense_gemm(x, batch, ldx, S, rows, cols, lds, y, ldy, false, options);
  lowrank_gemm_add(U, V, rows, cols, rank, x, batch, ldx, y, ldy, options);
}

void sparse_lowrank_reference(const float* S, int64_t rows, int64_t cols, const float* U, const float* V, int64_t rank,
                              const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy) {
  std::vector<float> t(rank);
  for (int64_t b = 0; b < batch; ++b) {
    const float* xr = x + b * ldx;
    for (int64_t i = 0; i < rank; ++i) {
      double s = 0;
      for (int64_t k = 0; k < cols; ++k) s += static_cast<double>(V[i * cols + k]) * xr[k];
      t[i] = static_cast<float>(s);
    }
    for (int64_t o = 0; o < rows; ++o) {
      double s = 0, lr = 0;
      for (int64_t k = 0; k < cols; ++k) s += static_cast<double>(S[o * cols + k]) * xr[k];
      for (int64_t i = 0; i < rank; ++i) lr += static_cast<double>(U[o * rank + i]) * t[i];
      y[b * ldy + o] = static_cast<float>(s + lr);
    }
  }
}

}  // namespace repro::kernels
