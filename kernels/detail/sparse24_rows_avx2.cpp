// AVX2 + FMA 2:4 kernel (the layout is described in sparse24_gemm.h): per value vector, two
// in-lane permutes of x and one blend put the input of each kept weight beside it.

#include "kernels/detail/sparse24_rows.h"

#if defined(__x86_64__)

#include <algorithm>

#include "kernels/detail/avx2_util.h"

namespace repro::kernels::detail {
namespace {

// R rows against NB batch rows: each x vector loaded serves R rows; A accumulators per (row,
// batch row) keep 8 FMA chains in flight.
template <int R, int NB>
REPRO_AVX2 void fused_tile(const Packed24& w, const float* x, int64_t ldx, int64_t o, float* y, int64_t ldy) {
  constexpr int A = R * NB >= 8 ? 1 : 2;
  const int64_t n_blocks = w.cols_padded / kSparse24Block;
  const int64_t value_stride = w.cols_padded / 2, index_stride = w.cols_padded / 8;
  const float* values = w.values.data() + o * value_stride;
  const uint8_t* indices = w.indices.data() + o * index_stride;
  __m256 acc[R][NB][A];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < NB; ++b)
      for (int a = 0; a < A; ++a) acc[r][b][a] = _mm256_setzero_ps();
  for (int64_t block = 0; block < n_blocks; ++block) {
    __m256i idx[R];
    for (int r = 0; r < R; ++r)
      idx[r] = _mm256_cvtepu8_epi32(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(indices + r * index_stride + block * 8)));
    const float* xb = x + block * kSparse24Block;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      __m256 xlo[NB], xhi[NB];
      for (int b = 0; b < NB; ++b) {
        xlo[b] = _mm256_loadu_ps(xb + b * ldx + 16 * j);
        xhi[b] = _mm256_loadu_ps(xb + b * ldx + 16 * j + 8);
      }
      for (int r = 0; r < R; ++r) {
        const __m256 v = _mm256_loadu_ps(values + r * value_stride + block * 32 + 8 * j);
        for (int b = 0; b < NB; ++b) {
          const __m256 lo = _mm256_permutevar_ps(xlo[b], idx[r]), hi = _mm256_permutevar_ps(xhi[b], idx[r]);
          acc[r][b][j % A] = _mm256_fmadd_ps(v, _mm256_blend_ps(lo, hi, 0xCC), acc[r][b][j % A]);
        }
        idx[r] = _mm256_srli_epi32(idx[r], 2);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < NB; ++b) {
      __m256 s = acc[r][b][0];
      for (int a = 1; a < A; ++a) s = _mm256_add_ps(s, acc[r][b][a]);
      y[b * ldy + o + r] = hsum(s);
    }
}

template <int R>
REPRO_AVX2 void fused_rows_tile(const Packed24& w, const float* x, int64_t batch, int64_t ldx, int64_t o, float* y,
                                int64_t ldy) {
  for (int64_t b = 0; b < batch; b += 4) {
    const float* xb = x + b * ldx;
    float* yb = y + b * ldy;
    switch (std::min<int64_t>(4, batch - b)) {
      case 1: fused_tile<R, 1>(w, xb, ldx, o, yb, ldy); break;
      case 2: fused_tile<R, 2>(w, xb, ldx, o, yb, ldy); break;
      case 3: fused_tile<R, 3>(w, xb, ldx, o, yb, ldy); break;
      default: fused_tile<R, 4>(w, xb, ldx, o, yb, ldy); break;
    }
  }
}

}  // namespace

void sparse24_fused_rows_avx2(const Packed24& w, const float* x, int64_t batch, int64_t ldx, int64_t o0, int64_t o1,
                              float* y, int64_t ldy) {
  // Tiles of 4 rows at batch 1, of 2 rows above (so the accumulators fit the 16 registers).
  int64_t o = o0;
  if (batch == 1) {
    for (; o + 4 <= o1; o += 4) fused_rows_tile<4>(w, x, batch, ldx, o, y, ldy);
  } else {
    for (; o + 2 <= o1; o += 2) fused_rows_tile<2>(w, x, batch, ldx, o, y, ldy);
  }
  for (; o < o1; ++o) fused_rows_tile<1>(w, x, batch, ldx, o, y, ldy);
}

}  // namespace repro::kernels::detail

#else

#include "core/error.h"

namespace repro::kernels::detail {
void sparse24_fused_rows_avx2(const Packed24&, const float*, int64_t, int64_t, int64_t, int64_t, float*, int64_t) {
  REPRO_ASSERT(false, "AVX2 kernels are compiled for x86-64 only");
}
}  // namespace repro::kernels::detail

#endif
