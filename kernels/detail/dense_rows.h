#pragma once
// The single-threaded row-range workers behind dense_gemm, shared with the low-bit and 2:4
// kernels' decompress-then-multiply path.

#include <cstdint>

#include "kernels/kernel_options.h"

namespace repro::kernels::detail {

// y[b, o] (+)= sum_k x[b, k] w[o, k] for o in [o0, o1), b < batch (strides as in dense_gemm).
void dense_rows_scalar(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t ldw, int64_t cols,
                       int64_t o0, int64_t o1, float* y, int64_t ldy, bool accumulate);
void dense_rows_avx2(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t ldw, int64_t cols,
                     int64_t o0, int64_t o1, float* y, int64_t ldy, bool accumulate);

inline void dense_rows(Isa isa, const float* x, int64_t batch, int64_t ldx, const float* w, int64_t ldw,
                       int64_t cols, int64_t o0, int64_t o1, float* y, int64_t ldy, bool accumulate) {
  if (isa == Isa::kAvx2) dense_rows_avx2(x, batch, ldx, w, ldw, cols, o0, o1, y, ldy, accumulate);
  else dense_rows_scalar(x, batch, ldx, w, ldw, cols, o0, o1, y, ldy, accumulate);
}

}  // namespace repro::kernels::detail
