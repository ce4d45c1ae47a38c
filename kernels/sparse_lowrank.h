#pragma once
// Sparse + low-rank product, y = x S^T + (x V^T) U^T, with S 2:4-packed (sparse24_gemm.h) or dense
// fp32, U: [rows, rank] and V: [rank, cols] fp32 (row-major, contiguous). The low-rank term costs
// rank (rows + cols) multiply-adds per input row instead of rows x cols: it runs as two thin dense
// products through an [batch, rank] intermediate.

#include <cstdint>

#include "kernels/kernel_options.h"
#include "kernels/sparse24_gemm.h"

namespace repro::kernels {

// y[b, :] += (x[b, :] V^T) U^T. x: [batch, cols] (row stride ldx); y: [batch, rows] (row stride ldy).
void lowrank_gemm_add(const float* U, const float* V, int64_t rows, int64_t cols, int64_t rank, const float* x,
                      int64_t batch, int64_t ldx, float* y, int64_t ldy, const KernelOptions& options = {});

// y = x S^T + (x V^T) U^T with S 2:4-packed ([S.rows, S.cols]).
void sparse24_lowrank_gemm(const Packed24& S, const float* U, const float* V, int64_t rank, const float* x,
                           int64_t batch, int64_t ldx, float* y, int64_t ldy, const KernelOptions& options = {});

// y = x S^T + (x V^T) U^T with S dense: [rows, cols] fp32, row stride lds.
void dense_lowrank_gemm(const float* S, int64_t lds, int64_t rows, int64_t cols, const float* U, const float* V,
                        int64_t rank, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy,
                        const KernelOptions& options = {});

// Reference, S given dense ([rows, cols], contiguous): x S^T and (x V^T) U^T each accumulated in
// double, the intermediate x V^T rounded to fp32 as the kernels do.
void sparse_lowrank_reference(const float* S, int64_t rows, int64_t cols, const float* U, const float* V, int64_t rank,
                              const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy);

}  // namespace repro::kernels
