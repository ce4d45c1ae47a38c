#pragma once
// Dense fp32 small-batch GEMM, y = x W^T: the baseline of the compressed kernels, the low-rank
// factors' product in S + LR, and the inner loop that the low-bit and 2:4 kernels fall back to
// at larger batches (on rows they decompress into a scratch buffer).

#include <cstdint>

#include "kernels/kernel_options.h"

namespace repro::kernels {

// y[b, o] = sum_k x[b, k] w[o, k] (accumulate: y[b, o] += ...), for b < batch, o < rows.
// x: [batch, cols] fp32, row stride ldx; w: [rows, cols] fp32, row stride ldw; y: [batch, rows]
// fp32, row stride ldy. Threads split the rows of w.
void dense_gemm(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t rows, int64_t cols, int64_t ldw,
                float* y, int64_t ldy, bool accumulate, const KernelOptions& options = {});

// The same product, scalar, accumulated in double: the reference the kernels are tested against.
void dense_gemm_reference(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t rows, int64_t cols,
                          int64_t ldw, float* y, int64_t ldy, bool accumulate);

}  // namespace repro::kernels
