#pragma once
// The single-threaded workers behind lowbit_gemm (lowbit_gemm.cpp splits rows over threads).

#include <cstdint>

#include "kernels/lowbit_gemm.h"

namespace repro::kernels::detail {

// Column k's place in a packed row: block k / 64, lane (k % 64) % 8, field slot (k % 64) / 8.
inline int64_t lowbit_bit_offset(int bits, int64_t k) {
  const int64_t block = k / kLowBitBlock, c = k % kLowBitBlock;
  return block * kLowBitBlock * bits + (c % 8) * 8 * bits + (c / 8) * bits;
}

// y[b, o] = sum_k x[b, k] w[o, k] for o in [o0, o1), b < batch; x rows hold w.cols_padded
// readable floats (zeros past w.cols); xsum: [batch, n_groups], the sum of x over each group.
// Needs group_size % 64 == 0 or one group per row.
void lowbit_fused_rows_avx2(const PackedLowBit& w, const float* x, int64_t batch, int64_t ldx, const float* xsum,
                            int64_t o0, int64_t o1, float* y, int64_t ldy);

// The dequantized weights of rows [o0, o1), columns [k0, k1) (k0 a multiple of 64, k1 <= cols)
// into out: [o1 - o0, ldo] fp32.
void lowbit_dequant_tile_scalar(const PackedLowBit& w, int64_t o0, int64_t o1, int64_t k0, int64_t k1, float* out,
                                int64_t ldo);
void lowbit_dequant_tile_avx2(const PackedLowBit& w, int64_t o0, int64_t o1, int64_t k0, int64_t k1, float* out,
                              int64_t ldo);

}  // namespace repro::kernels::detail
