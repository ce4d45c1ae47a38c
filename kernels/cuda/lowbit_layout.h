#pragma once
// The packed layout of the GPU low-bit GEMV (lowbit_gemv.h) and the per-thread arithmetic that
// its CUDA kernel and its host emulation (lowbit_pack.h: lowbit_gemm_gpu_emulate) share.
//
// One warp computes one output row. A row's columns go in k-tiles of 1024 (the row padded with
// zero codes to a multiple of 1024); in a k-tile, lane l owns 32 codes, 4 per 128-column sub-tile:
//   code i = 0..31 of lane l is column 128 (i / 4) + 4 l + i % 4 of the k-tile,
// so every sub-tile is one quantization group (or part of one: group sizes are multiples of 128,
// or the whole row), the 32 lanes read the activations of a sub-tile as one coalesced 256-byte
// load (4 fp16 each), and all lanes of the warp need the same scale at the same time.
// A lane's 32 codes take `bits` 32-bit words:
//   4 bits: word i / 8, bits 4 (i % 8);   2 bits: word i / 16, bits 2 (i % 16);
//   3 bits: the low 2 bits as for 2 bits in words 0-1, the high bit at bit i of word 2.
// k-tiles go in super-tiles of P = 1 (4-bit), 2 (2-bit) or 4 (3-bit) k-tiles, so that a lane's
// words of a full super-tile, P * bits of them, are a multiple of four: a lane reads them as
// uint4 (128-bit) loads, the warp's q-th load covering 512 contiguous bytes
// (word w of lane l at (w / 4) * 128 + 4 l + w % 4 from the super-tile's start). The last
// super-tile of a row may hold fewer k-tiles; when its P' * bits words are not a multiple of four
// they go word-major (word w of lane l at 32 w + l): 32-bit loads, still coalesced.
// Every weight byte is read exactly once per call, by exactly one lane.
//
// Group g's scale and zero are stored as one 32-bit word per (row, group): fp16 scale in the low
// half, fp16 zero in the high half; w = scale * (code - zero), the offset -scale * zero formed in
// fp32 in the kernel (exact for integer zero points).

#include <cmath>
#include <cstdint>

#include "kernels/cuda/host_device.h"

namespace repro::kernels::gpu {

inline constexpr int64_t kLowBitSubTile = 128;  // columns per sub-tile: 4 per lane
inline constexpr int64_t kLowBitKTile = 1024;   // columns per k-tile: 8 sub-tiles, 32 codes per lane
inline constexpr int kLowBitCodesPerLane = 32;  // per k-tile
inline constexpr int kLowBitMaxBatch = 16;      // one kernel launch serves up to this many rows of x

// k-tiles per super-tile.
REPRO_HD int lowbit_ktiles_per_super(int bits) { return bits == 3 ? 4 : bits == 2 ? 2 : 1; }

// Code i (0..31) of one lane's k-tile; w: the lane's `bits` words of that k-tile.
REPRO_HD uint32_t lowbit_code(const uint32_t* w, int bits, int i) {
  if (bits == 4) return (w[i >> 3] >> ((i & 7) * 4)) & 15u;
  const uint32_t low = (w[i >> 4] >> ((i & 15) * 2)) & 3u;
  if (bits == 2) return low;
  return low | (((w[2] >> i) & 1u) << 2);
}

// The inverse of lowbit_code: stores code i into words w (which start zeroed).
REPRO_HD void lowbit_put_code(uint32_t* w, int bits, int i, uint32_t code) {
  if (bits == 4) {
    w[i >> 3] |= (code & 15u) << ((i & 7) * 4);
    return;
  }
  w[i >> 4] |= (code & 3u) << ((i & 15) * 2);
  if (bits == 3) w[2] |= ((code >> 2) & 1u) << i;
}

// Position (in 32-bit words from the super-tile's start) of word w of lane `lane`, in a super-tile
// whose lanes hold n_words words each.
REPRO_HD int64_t lowbit_word_offset(int n_words, int lane, int w) {
  return n_words % 4 == 0 ? static_cast<int64_t>(w / 4) * 128 + lane * 4 + w % 4
                          : static_cast<int64_t>(w) * kWarpSize + lane;
}

// Column of code i of lane `lane` in k-tile kt.
REPRO_HD int64_t lowbit_column(int64_t kt, int lane, int i) {
  return kt * kLowBitKTile + (i / 4) * kLowBitSubTile + 4 * lane + i % 4;
}

// One lane's share of one sub-tile for one row of x: acc += scale * sum_r c_r x_r - scale * zero *
// sum_r x_r, with the lane's 4 codes c and 4 activations x (fp32). The same fused operations on
// the GPU and in the emulation (fmaf is one rounding everywhere).
REPRO_HD float lowbit_subtile_dot(const float* c, const float* x, float scale, float offset, float acc) {
  float p = c[0] * x[0];
  p = fmaf(c[1], x[1], p);
  p = fmaf(c[2], x[2], p);
  p = fmaf(c[3], x[3], p);
  const float s = (x[0] + x[1]) + (x[2] + x[3]);
  acc = fmaf(scale, p, acc);
  return fmaf(offset, s, acc);
}

// The scale and offset (-scale * zero) of a group from its packed word.
REPRO_HD void lowbit_scale_offset(uint32_t packed, float& scale, float& offset) {
  scale = half_bits_to_float(static_cast<uint16_t>(packed & 0xFFFFu));
  const float zero = half_bits_to_float(static_cast<uint16_t>(packed >> 16));
  offset = -(scale * zero);
}

}  // namespace repro::kernels::gpu
