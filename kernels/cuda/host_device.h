#pragma once
// What the CUDA kernels share with their host emulations (compiled by g++): the per-thread
// arithmetic lives in REPRO_HD inline functions, so a CPU test runs exactly the code a GPU thread
// runs. Also fp16 <-> fp32 conversions on raw bits (IEEE 754 binary16, round to nearest even, as
// __float2half_rn), usable where no CUDA header is installed.

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define REPRO_HD __host__ __device__ __forceinline__
#else
#define REPRO_HD inline
#endif

namespace repro::kernels::gpu {

inline constexpr int kWarpSize = 32;

REPRO_HD float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

REPRO_HD uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// binary16 bits -> fp32 (exact).
REPRO_HD float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
  if (exp == 0) {
    const float f = static_cast<float>(man) * 5.9604644775390625e-8f;  // man * 2^-24, exact
    return sign ? -f : f;
  }
  if (exp == 31) return bits_to_float(sign | 0x7F800000u | (man << 13));
  return bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
}

// fp32 -> binary16 bits, round to nearest even; overflow to infinity, NaN stays NaN.
REPRO_HD uint16_t float_to_half_bits(float f) {
  const uint32_t x = float_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return static_cast<uint16_t>(sign | 0x7C00u | (a > 0x7F800000u ? 0x200u : 0u));
  if (a < 0x38800000u) {                                    // below 2^-14: a binary16 subnormal or 0
    if (a <= 0x33000000u) return static_cast<uint16_t>(sign);  // at most 2^-25: rounds to 0 (a tie goes to even)
    const uint32_t e = a >> 23, m = (a & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - e;                         // value = m 2^(e - 150) = (m >> shift) 2^-24
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t q = (((a >> 23) - 112u) << 10) | ((a & 0x7FFFFFu) >> 13);
  const uint32_t rem = a & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) ++q;  // a carry moves into the exponent, as it should
  if (q >= 0x7C00u) return static_cast<uint16_t>(sign | 0x7C00u);
  return static_cast<uint16_t>(sign | q);
}

// fp32 rounded through fp16 and back.
REPRO_HD float round_to_half(float f) { return half_bits_to_float(float_to_half_bits(f)); }

}  // namespace repro::kernels::gpu
