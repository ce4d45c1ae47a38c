#include "kernels/cuda/lowbit_pack.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/cuda/lowbit_layout.h"

namespace repro::kernels::gpu {

namespace {

// The first word of super-tile s of a row, and how many words each lane holds there.
struct SuperTile {
  int64_t start = 0;  // in words from the row's start
  int n_words = 0;    // per lane
};

SuperTile super_tile_of(const PackedLowBitGpu& w, int64_t kt) {
  const int p = lowbit_ktiles_per_super(w.bits);
  const int64_t s = kt / p;
  const int64_t k_in = std::min<int64_t>(p, w.n_ktiles - s * p);
  return {s * p * 32 * w.bits, static_cast<int>(k_in) * w.bits};
}

// Index (into a row's words) of word b of lane `lane`'s k-tile kt.
int64_t word_index(const PackedLowBitGpu& w, int64_t kt, int lane, int b) {
  const SuperTile st = super_tile_of(w, kt);
  const int within = static_cast<int>(kt % lowbit_ktiles_per_super(w.bits)) * w.bits + b;
  return st.start + lowbit_word_offset(st.n_words, lane, within);
}

}  // namespace

bool lowbit_gpu_supported(int bits, int64_t rows, int64_t cols, int64_t group_size) {
  return (bits == 2 || bits == 3 || bits == 4) && rows > 0 && cols > 0 && cols < (int64_t{1} << 31) &&
         group_size > 0 && (group_size % kLowBitSubTile == 0 || group_size >= cols);
}

PackedLowBitGpu pack_lowbit_gpu(const uint8_t* codes, const float* scales, const float* zeros, int64_t rows,
                                int64_t cols, int bits, int64_t group_size) {
  if (!lowbit_gpu_supported(bits, rows, cols, group_size))
    throw NotSupported(fmt::format(
        "GPU low-bit GEMV: {}-bit codes of a [{}, {}] weight in groups of {} are not supported (bits 2, 3 or 4; "
        "the group size must be a multiple of {} or cover the whole row)",
        bits, rows, cols, group_size, kLowBitSubTile));
  PackedLowBitGpu w;
  w.bits = bits;
  w.rows = rows;
  w.cols = cols;
  w.group_size = group_size;
  w.n_ktiles = (cols + kLowBitKTile - 1) / kLowBitKTile;
  const int64_t ng = w.n_groups();
  w.scales.assign(scales, scales + rows * ng);
  w.zeros.assign(zeros, zeros + rows * ng);
  w.scale_zero.resize(rows * ng);
  for (int64_t k = 0; k < rows * ng; ++k) {
    const uint16_t s = float_to_half_bits(scales[k]), z = float_to_half_bits(zeros[k]);
    if (!std::isfinite(half_bits_to_float(s)) || !std::isfinite(half_bits_to_float(z)))
      throw NotSupported(fmt::format(
          "GPU low-bit GEMV: scale {} / zero {} of row {}, group {} does not fit fp16 (the kernel keeps them in fp16)",
          scales[k], zeros[k], k / ng, k % ng));
    w.scale_zero[k] = static_cast<uint32_t>(s) | (static_cast<uint32_t>(z) << 16);
  }
  w.words.assign(rows * w.row_words(), 0u);
  const uint32_t limit = 1u << bits;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* cr = codes + r * cols;
    uint32_t* wr = w.words.data() + r * w.row_words();
    for (int64_t kt = 0; kt < w.n_ktiles; ++kt)
      for (int lane = 0; lane < kWarpSize; ++lane) {
        uint32_t local[4] = {0, 0, 0, 0};
        for (int i = 0; i < kLowBitCodesPerLane; ++i) {
          const int64_t c = lowbit_column(kt, lane, i);
          if (c >= cols) continue;
          REPRO_ASSERT(cr[c] < limit, fmt::format("pack_lowbit_gpu: code {} at [{}, {}] does not fit {} bits",
                                                  static_cast<int>(cr[c]), r, c, bits));
          lowbit_put_code(local, bits, i, cr[c]);
        }
        for (int b = 0; b < bits; ++b) wr[word_index(w, kt, lane, b)] = local[b];
      }
  }
  return w;
}

void unpack_lowbit_gpu(const PackedLowBitGpu& w, uint8_t* codes, float* scales, float* zeros) {
  std::copy(w.scales.begin(), w.scales.end(), scales);
  std::copy(w.zeros.begin(), w.zeros.end(), zeros);
  for (int64_t r = 0; r < w.rows; ++r) {
    const uint32_t* wr = w.words.data() + r * w.row_words();
    for (int64_t kt = 0; kt < w.n_ktiles; ++kt)
      for (int lane = 0; lane < kWarpSize; ++lane) {
        uint32_t local[4] = {0, 0, 0, 0};
        for (int b = 0; b < w.bits; ++b) local[b] = wr[word_index(w, kt, lane, b)];
        for (int i = 0; i < kLowBitCodesPerLane; ++i) {
          const int64_t c = lowbit_column(kt, lane, i);
          if (c < w.cols) codes[r * w.cols + c] = static_cast<uint8_t>(lowbit_code(local, w.bits, i));
        }
      }
  }
}

void lowbit_gpu_effective_params(const PackedLowBitGpu& w, float* scales, float* zeros) {
  for (size_t k = 0; k < w.scale_zero.size(); ++k) {
    scales[k] = half_bits_to_float(static_cast<uint16_t>(w.scale_zero[k] & 0xFFFFu));
    zeros[k] = half_bits_to_float(static_cast<uint16_t>(w.scale_zero[k] >> 16));
  }
}

void lowbit_gemm_gpu_emulate(const PackedLowBitGpu& w, const uint16_t* x, int64_t batch, int64_t ldx, uint16_t* y,
                             int64_t ldy) {
  const int64_t ng = w.n_groups();
  const int p = lowbit_ktiles_per_super(w.bits);
  std::vector<float> acc(kWarpSize);
  for (int64_t b = 0; b < batch; ++b) {
    const uint16_t* xb = x + b * ldx;
    for (int64_t r = 0; r < w.rows; ++r) {
      const uint32_t* wr = w.words.data() + r * w.row_words();
      for (int lane = 0; lane < kWarpSize; ++lane) {
        float a = 0.0f;
        for (int64_t kt0 = 0; kt0 < w.n_ktiles; kt0 += p) {
          // The lane's words of this super-tile, as the kernel loads them.
          const SuperTile st = super_tile_of(w, kt0);
          uint32_t words[12] = {};
          for (int q = 0; q < st.n_words; ++q) words[q] = wr[st.start + lowbit_word_offset(st.n_words, lane, q)];
          for (int pk = 0; pk < st.n_words / w.bits; ++pk) {
            const int64_t kt = kt0 + pk;
            for (int j = 0; j < 8; ++j) {
              const int64_t c0 = kt * kLowBitKTile + j * kLowBitSubTile;
              if (c0 >= w.cols) break;
              float scale, offset;
              lowbit_scale_offset(w.scale_zero[r * ng + c0 / w.group_size], scale, offset);
              float c[4], xv[4];
              for (int q = 0; q < 4; ++q) {
                c[q] = static_cast<float>(lowbit_code(words + pk * w.bits, w.bits, 4 * j + q));
                const int64_t col = c0 + 4 * lane + q;
                xv[q] = col < w.cols ? half_bits_to_float(xb[col]) : 0.0f;
              }
              a = lowbit_subtile_dot(c, xv, scale, offset, a);
            }
          }
        }
        acc[lane] = a;
      }
      // __shfl_xor_sync butterfly: every lane adds its partner's value, offsets 16, 8, 4, 2, 1.
      for (int off = kWarpSize / 2; off > 0; off /= 2) {
        std::vector<float> next(kWarpSize);
        for (int lane = 0; lane < kWarpSize; ++lane) next[lane] = acc[lane] + acc[lane ^ off];
        acc.swap(next);
      }
      y[b * ldy + r] = float_to_half_bits(acc[0]);
    }
  }
}

}  // namespace repro::kernels::gpu
