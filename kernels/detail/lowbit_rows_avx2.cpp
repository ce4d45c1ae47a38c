// AVX2 + FMA low-bit kernels. One packed block (64 columns) becomes eight 32-bit lanes of codes
// (load_lanes); the j-th mask-and-shift gives the codes of columns 8 j .. 8 j + 7, widened to fp32.

#include "kernels/detail/lowbit_rows.h"

#if defined(__x86_64__)

#include <algorithm>

#include "core/error.h"
#include "kernels/detail/avx2_util.h"

namespace repro::kernels::detail {
namespace {

// The eight lane fields of a block, each zero-extended to 32 bits.
template <int BITS>
REPRO_AVX2 inline __m256i load_lanes(const uint8_t* p);

template <>
REPRO_AVX2 inline __m256i load_lanes<4>(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <>
REPRO_AVX2 inline __m256i load_lanes<2>(const uint8_t* p) {
  return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// 3 bytes per lane: lanes 0-3 from bytes 0-11, lanes 4-7 from bytes 12-23 (the upper half loads
// from byte 12, so one in-lane byte shuffle places both halves).
template <>
REPRO_AVX2 inline __m256i load_lanes<3>(const uint8_t* p) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 12));
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
  const __m256i shuffle = _mm256_setr_epi8(0, 1, 2, -128, 3, 4, 5, -128, 6, 7, 8, -128, 9, 10, 11, -128,  //
                                           0, 1, 2, -128, 3, 4, 5, -128, 6, 7, 8, -128, 9, 10, 11, -128);
  return _mm256_shuffle_epi8(v, shuffle);
}

// R rows against NB batch rows, with the dequantization taken out of the inner loop:
//   y = sum_g scale_g (sum_{k in g} code_k x_k) + sum_g offset_g xsum_g,
// xsum_g = sum_{k in g} x_k computed once per call. Per 8 weights the loop is then and, shift,
// convert, FMA; each x vector loaded serves R rows. A accumulators per (row, batch row) keep 8
// FMA chains in flight, so small batches wait on memory rather than on FMA latency.
template <int BITS, int R, int NB>
REPRO_AVX2 void fused_tile(const PackedLowBit& w, const float* x, int64_t ldx, const float* xsum, int64_t ldsum,
                           int64_t o, float* y, int64_t ldy) {
  constexpr int A = R * NB >= 8 ? 1 : 2;
  const int64_t n_blocks = w.cols_padded / kLowBitBlock, ng = w.n_groups(), row_bytes = w.row_bytes();
  const int64_t blocks_per_group = ng == 1 ? n_blocks : w.group_size / kLowBitBlock;
  const uint8_t* codes = w.codes.data() + o * row_bytes;
  const __m256i mask = _mm256_set1_epi32((1 << BITS) - 1);
  __m256 total[R][NB];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < NB; ++b) total[r][b] = _mm256_setzero_ps();
  int64_t block = 0;
  for (int64_t g = 0; g < ng; ++g) {
    __m256 acc[R][NB][A];
    for (int r = 0; r < R; ++r)
      for (int b = 0; b < NB; ++b)
        for (int a = 0; a < A; ++a) acc[r][b][a] = _mm256_setzero_ps();
    const int64_t end = std::min(n_blocks, block + blocks_per_group);
    for (; block < end; ++block) {
      __m256i v[R];
      for (int r = 0; r < R; ++r) v[r] = load_lanes<BITS>(codes + r * row_bytes + block * 8 * BITS);
      const float* xb = x + block * kLowBitBlock;
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        __m256 xv[NB];
        for (int b = 0; b < NB; ++b) xv[b] = _mm256_loadu_ps(xb + b * ldx + 8 * j);
        for (int r = 0; r < R; ++r) {
          // The last field needs no mask: the shifts left only its bits.
          const __m256 cf = _mm256_cvtepi32_ps(j == 7 ? v[r] : _mm256_and_si256(v[r], mask));
          if (j < 7) v[r] = _mm256_srli_epi32(v[r], BITS);
          for (int b = 0; b < NB; ++b) acc[r][b][j % A] = _mm256_fmadd_ps(cf, xv[b], acc[r][b][j % A]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 scale = _mm256_set1_ps(w.scales[(o + r) * ng + g]);
      for (int b = 0; b < NB; ++b) {
        __m256 s = acc[r][b][0];
        for (int a = 1; a < A; ++a) s = _mm256_add_ps(s, acc[r][b][a]);
        total[r][b] = _mm256_fmadd_ps(s, scale, total[r][b]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    const float* offsets = w.offsets.data() + (o + r) * ng;
    for (int b = 0; b < NB; ++b) {
      // The offsets' share: a dot product of the row's offsets with the group sums of x.
      const float* xs = xsum + b * ldsum;
      __m256 t = total[r][b];
      int64_t g = 0;
      for (; g + 8 <= ng; g += 8) t = _mm256_fmadd_ps(_mm256_loadu_ps(offsets + g), _mm256_loadu_ps(xs + g), t);
      float sum = hsum(t);
      for (; g < ng; ++g) sum += offsets[g] * xs[g];
      y[b * ldy + o + r] = sum;
    }
  }
}

// Rows [o, o + R) against batch rows in chunks of up to 4.
template <int BITS, int R>
REPRO_AVX2 void fused_rows_tile(const PackedLowBit& w, const float* x, int64_t batch, int64_t ldx, const float* xsum,
                                int64_t o, float* y, int64_t ldy) {
  const int64_t ng = w.n_groups();
  for (int64_t b = 0; b < batch; b += 4) {
    const float* xb = x + b * ldx;
    const float* sb = xsum + b * ng;
    float* yb = y + b * ldy;
    switch (std::min<int64_t>(4, batch - b)) {
      case 1: fused_tile<BITS, R, 1>(w, xb, ldx, sb, ng, o, yb, ldy); break;
      case 2: fused_tile<BITS, R, 2>(w, xb, ldx, sb, ng, o, yb, ldy); break;
      case 3: fused_tile<BITS, R, 3>(w, xb, ldx, sb, ng, o, yb, ldy); break;
      default: fused_tile<BITS, R, 4>(w, xb, ldx, sb, ng, o, yb, ldy); break;
    }
  }
}

template <int BITS>
REPRO_AVX2 void fused_rows(const PackedLowBit& w, const float* x, int64_t batch, int64_t ldx, const float* xsum,
                           int64_t o0, int64_t o1, float* y, int64_t ldy) {
  // Tiles of 4 rows: batch 1 runs them as one 4-row tile, larger batches as two 2-row tiles (so
  // the accumulators fit the 16 registers); then single rows.
  int64_t o = o0;
  if (batch == 1) {
    for (; o + 4 <= o1; o += 4) fused_rows_tile<BITS, 4>(w, x, batch, ldx, xsum, o, y, ldy);
  } else {
    for (; o + 2 <= o1; o += 2) fused_rows_tile<BITS, 2>(w, x, batch, ldx, xsum, o, y, ldy);
  }
  for (; o < o1; ++o) fused_rows_tile<BITS, 1>(w, x, batch, ldx, xsum, o, y, ldy);
}

template <int BITS>
REPRO_AVX2 void dequant_tile(const PackedLowBit& w, int64_t o0, int64_t o1, int64_t k0, int64_t k1, float* out,
                             int64_t ldo) {
  const int64_t ng = w.n_groups();
  const __m256i mask = _mm256_set1_epi32((1 << BITS) - 1);
  alignas(32) float block_codes[kLowBitBlock];
  for (int64_t r = o0; r < o1; ++r) {
    const uint8_t* codes = w.codes.data() + r * w.row_bytes();
    float* dst = out + (r - o0) * ldo;
    // Codes as fp32 first (whole blocks; the last may be partial), then scale * code + offset per
    // group segment, so any group size works.
    for (int64_t k = k0; k < k1; k += kLowBitBlock) {
      __m256i v = load_lanes<BITS>(codes + k / kLowBitBlock * 8 * BITS);
      const int64_t n = std::min<int64_t>(kLowBitBlock, k1 - k);
      float* d = n == kLowBitBlock ? dst + (k - k0) : block_codes;
      for (int j = 0; j < 8; ++j) {
        _mm256_storeu_ps(d + 8 * j, _mm256_cvtepi32_ps(_mm256_and_si256(v, mask)));
        v = _mm256_srli_epi32(v, BITS);
      }
      if (d == block_codes) std::copy(block_codes, block_codes + n, dst + (k - k0));
    }
    for (int64_t k = k0; k < k1;) {
      const int64_t g = k / w.group_size, end = std::min(k1, (g + 1) * w.group_size);
      const float s = w.scales[r * ng + g], off = w.offsets[r * ng + g];
      const __m256 sv = _mm256_set1_ps(s), ov = _mm256_set1_ps(off);
      float* d = dst + (k - k0);
      int64_t i = 0;
      for (; i + 8 <= end - k; i += 8) _mm256_storeu_ps(d + i, _mm256_fmadd_ps(_mm256_loadu_ps(d + i), sv, ov));
      for (; i < end - k; ++i) d[i] = s * d[i] + off;
      k = end;
    }
  }
}

}  // namespace

void lowbit_fused_rows_avx2(const PackedLowBit& w, const float* x, int64_t batch, int64_t ldx, const float* xsum,
                            int64_t o0, int64_t o1, float* y, int64_t ldy) {
  switch (w.bits) {
    case 2: fused_rows<2>(w, x, batch, ldx, xsum, o0, o1, y, ldy); break;
    case 3: fused_rows<3>(w, x, batch, ldx, xsum, o0, o1, y, ldy); break;
    case 4: fused_rows<4>(w, x, batch, ldx, xsum, o0, o1, y, ldy); break;
    default: REPRO_ASSERT(false, "lowbit_fused_rows_avx2: bits not in {2, 3, 4}");
  }
}

void lowbit_dequant_tile_avx2(const PackedLowBit& w, int64_t o0, int64_t o1, int64_t k0, int64_t k1, float* out,
                              int64_t ldo) {
  switch (w.bits) {
    case 2: dequant_tile<2>(w, o0, o1, k0, k1, out, ldo); break;
    case 3: dequant_tile<3>(w, o0, o1, k0, k1, out, ldo); break;
    case 4: dequant_tile<4>(w, o0, o1, k0, k1, out, ldo); break;
    default: REPRO_ASSERT(false, "lowbit_dequant_tile_avx2: bits not in {2, 3, 4}");
  }
}

}  // namespace repro::kernels::detail

#else

#include "core/error.h"

namespace repro::kernels::detail {
void lowbit_fused_rows_avx2(const PackedLowBit&, const float*, int64_t, int64_t, const float*, int64_t, int64_t, float*,
                            int64_t) {
  REPRO_ASSERT(false, "AVX2 kernels are compiled for x86-64 only");
}
void lowbit_dequant_tile_avx2(const PackedLowBit&, int64_t, int64_t, int64_t, int64_t, float*, int64_t) {
  REPRO_ASSERT(false, "AVX2 kernels are compiled for x86-64 only");
}
}  // namespace repro::kernels::detail

#endif
