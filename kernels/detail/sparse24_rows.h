#pragma once
// The single-threaded workers behind sparse24_gemm.

#include <cstdint>

#include "kernels/sparse24_gemm.h"

namespace repro::kernels::detail {

// Group (0..3 inside a value vector's 4 groups) of each lane of a packed 2:4 value vector.
inline constexpr int kSparse24LaneGroup[8] = {0, 0, 2, 2, 1, 1, 3, 3};

// y[b, o] = sum_k x[b, k] w[o, k] for o in [o0, o1), b < batch; x rows hold w.cols_padded readable
// floats (zeros past w.cols).
void sparse24_fused_rows_avx2(const Packed24& w, const float* x, int64_t batch, int64_t ldx, int64_t o0, int64_t o1,
                              float* y, int64_t ldy);

// Rows [o0, o1), columns [k0, k1) (k0 a multiple of 64) as dense fp32 into out: [o1 - o0, ldo].
void sparse24_expand_tile(const Packed24& w, int64_t o0, int64_t o1, int64_t k0, int64_t k1, float* out, int64_t ldo);

}  // namespace repro::kernels::detail
