// AVX2 + FMA dense rows: register tiles of up to 4 weight rows x 3 batch rows (12 accumulators),
// each a dot product along the contiguous input dimension; the last partial vector of a row is
// read with a masked load, so no input needs padding.

#include "kernels/detail/dense_rows.h"

#if defined(__x86_64__)

#include "kernels/detail/avx2_util.h"

namespace repro::kernels::detail {
namespace {

template <int NR, int NB>
REPRO_AVX2 void dense_tile(const float* x, int64_t ldx, const float* w, int64_t ldw, int64_t cols, float* y,
                           int64_t ldy, bool accumulate) {
  __m256 c[NR][NB];
  for (int r = 0; r < NR; ++r)
    for (int b = 0; b < NB; ++b) c[r][b] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= cols; k += 8) {
    __m256 xv[NB];
    for (int b = 0; b < NB; ++b) xv[b] = _mm256_loadu_ps(x + b * ldx + k);
    for (int r = 0; r < NR; ++r) {
      const __m256 wv = _mm256_loadu_ps(w + r * ldw + k);
      for (int b = 0; b < NB; ++b) c[r][b] = _mm256_fmadd_ps(wv, xv[b], c[r][b]);
    }
  }
  if (k < cols) {
    const __m256i m = tail_mask(cols - k);
    __m256 xv[NB];
    for (int b = 0; b < NB; ++b) xv[b] = _mm256_maskload_ps(x + b * ldx + k, m);
    for (int r = 0; r < NR; ++r) {
      const __m256 wv = _mm256_maskload_ps(w + r * ldw + k, m);
      for (int b = 0; b < NB; ++b) c[r][b] = _mm256_fmadd_ps(wv, xv[b], c[r][b]);
    }
  }
  for (int r = 0; r < NR; ++r)
    for (int b = 0; b < NB; ++b) {
      const float v = hsum(c[r][b]);
      float& out = y[b * ldy + r];
      out = accumulate ? out + v : v;
    }
}

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t, bool);
constexpr int kRows = 4, kBatch = 3;
// kTiles[nr - 1][nb - 1]: the edge tiles of a row range or batch that is not a multiple of 4 x 3.
constexpr TileFn kTiles[kRows][kBatch] = {
    {dense_tile<1, 1>, dense_tile<1, 2>, dense_tile<1, 3>},
    {dense_tile<2, 1>, dense_tile<2, 2>, dense_tile<2, 3>},
    {dense_tile<3, 1>, dense_tile<3, 2>, dense_tile<3, 3>},
    {dense_tile<4, 1>, dense_tile<4, 2>, dense_tile<4, 3>},
};

}  // namespace

void dense_rows_avx2(const float* x, int64_t batch, int64_t ldx, const float* w, int64_t ldw, int64_t cols,
                     int64_t o0, int64_t o1, float* y, int64_t ldy, bool accumulate) {
  for (int64_t o = o0; o < o1; o += kRows) {
    const int nr = static_cast<int>(o1 - o < kRows ? o1 - o : kRows);
    for (int64_t b = 0; b < batch; b += kBatch) {
      const int nb = static_cast<int>(batch - b < kBatch ? batch - b : kBatch);
      kTiles[nr - 1][nb - 1](x + b * ldx, ldx, w + o * ldw, ldw, cols, y + b * ldy + o, ldy, accumulate);
    }
  }
}

}  // namespace repro::kernels::detail

#else

#include "core/error.h"

namespace repro::kernels::detail {
void dense_rows_avx2(const float*, int64_t, int64_t, const float*, int64_t, int64_t, int64_t, int64_t, float*, int64_t,
                     bool) {
  REPRO_ASSERT(false, "AVX2 kernels are compiled for x86-64 only");
}
}  // namespace repro::kernels::detail

#endif
