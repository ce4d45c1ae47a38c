#pragma once
// Small AVX2 helpers for the kernels' *_avx2.cpp files. Every function carries the avx2,fma target
// attribute (no per-file -mavx2), so no AVX2 instruction leaks into code that runs before the
// runtime CPU check (kernel_options.h).

#include <immintrin.h>

#include <cstdint>

#define REPRO_AVX2 __attribute__((target("avx2,fma")))

namespace repro::kernels::detail {

REPRO_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Lanes [0, n) set, for a maskload of the last n < 8 floats of a row.
REPRO_AVX2 inline __m256i tail_mask(int64_t n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lane);
}

}  // namespace repro::kernels::detail
