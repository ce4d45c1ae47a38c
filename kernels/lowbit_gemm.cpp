#include "kernels/lowbit_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/detail/dense_rows.h"
#include "kernels/detail/lowbit_rows.h"
#include "kernels/detail/padded_input.h"
#include "kernels/detail/parallel.h"

namespace repro::kernels {

namespace {

// Decompress-then-multiply tiles: 32 rows x 512 columns of fp32 (64 KB) and the matching
// [batch, 512] slice of x stay in L2 while the dense kernel runs over them.
constexpr int64_t kTileRows = 32, kTileCols = 512;

// Codes of one packed block field: `bits` bytes, little endian.
uint32_t read_field(const uint8_t* p, int bits) {
  uint32_t v = 0;
  for (int i = 0; i < bits; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

int64_t PackedLowBit::bytes_read() const {
  return rows * row_bytes() + 2 * rows * n_groups() * static_cast<int64_t>(sizeof(float));
}

bool lowbit_supported(int bits, int64_t cols, int64_t group_size) {
  return bits >= 2 && bits <= 4 && cols > 0 && group_size > 0;
}

PackedLowBit pack_lowbit(const uint8_t* codes, const float* scales, const float* zeros, int64_t rows, int64_t cols,
                         int bits, int64_t group_size) {
  REPRO_ASSERT(lowbit_supported(bits, cols, group_size),
               fmt::format("pack_lowbit: {} bits, {} columns, group size {} not supported", bits, cols, group_size));
  PackedLowBit w;
  w.bits = bits;
  w.rows = rows;
  w.cols = cols;
  w.group_size = group_size;
  w.cols_padded = (cols + kLowBitBlock - 1) / kLowBitBlock * kLowBitBlock;
  const int64_t row_bytes = w.row_bytes(), ng = w.n_groups();
  // Slack past the last row: the 3-bit loader reads 16 bytes from offset 12 of a 24-byte block.
  w.codes.assign(rows * row_bytes + 32, 0);
  const uint32_t limit = 1u << bits;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* src = codes + r * cols;
    uint8_t* dst = w.codes.data() + r * row_bytes;
    for (int64_t block = 0; block * kLowBitBlock < cols; ++block) {
      for (int lane = 0; lane < 8; ++lane) {
        uint32_t field = 0;
        for (int j = 0; j < 8; ++j) {
          const int64_t k = block * kLowBitBlock + 8 * j + lane;
          if (k >= cols) continue;  // padding columns keep code 0
          REPRO_ASSERT(src[k] < limit, fmt::format("pack_lowbit: code {} at ({}, {}) does not fit in {} bits",
                                                   src[k], r, k, bits));
          field |= static_cast<uint32_t>(src[k]) << (bits * j);
        }
        uint8_t* f = dst + block * 8 * bits + lane * bits;
        for (int i = 0; i < bits; ++i) f[i] = static_cast<uint8_t>(field >> (8 * i));
      }
    }
  }
  w.scales.assign(scales, scales + rows * ng);
  w.zeros.assign(zeros, zeros + rows * ng);
  w.offsets.resize(rows * ng);
  for (int64_t i = 0; i < rows * ng; ++i) w.offsets[i] = -w.scales[i] * w.zeros[i];
  return w;
}

void unpack_lowbit(const PackedLowBit& w, uint8_t* codes, float* scales, float* zeros) {
  const int64_t row_bytes = w.row_bytes();
  const uint32_t mask = (1u << w.bits) - 1;
  for (int64_t r = 0; r < w.rows; ++r) {
    const uint8_t* src = w.codes.data() + r * row_bytes;
    for (int64_t k = 0; k < w.cols; ++k) {
      const int64_t bit = detail::lowbit_bit_offset(w.bits, k);
      // A field is bits bytes long and starts on a byte; the code lies inside its field.
      const int64_t field_start = bit / (8 * w.bits) * w.bits;
      const uint32_t field = read_field(src + field_start, w.bits);
      codes[r * w.cols + k] = static_cast<uint8_t>((field >> (bit - 8 * field_start)) & mask);
    }
  }
  std::copy(w.scales.begin(), w.scales.end(), scales);
  std::copy(w.zeros.begin(), w.zeros.end(), zeros);
}

namespace detail {

void lowbit_dequant_tile_scalar(const PackedLowBit& w, int64_t o0, int64_t o1, int64_t k0, int64_t k1, float* out,
                                int64_t ldo) {
  const int64_t row_bytes = w.row_bytes(), ng = w.n_groups();
  const uint32_t mask = (1u << w.bits) - 1;
  for (int64_t r = o0; r < o1; ++r) {
    const uint8_t* src = w.codes.data() + r * row_bytes;
    float* dst = out + (r - o0) * ldo;
    for (int64_t block = k0 / kLowBitBlock; block * kLowBitBlock < k1; ++block)
      for (int lane = 0; lane < 8; ++lane) {
        uint32_t field = read_field(src + block * 8 * w.bits + lane * w.bits, w.bits);
        for (int j = 0; j < 8; ++j, field >>= w.bits) {
          const int64_t k = block * kLowBitBlock + 8 * j + lane;
          if (k >= k1) continue;
          const int64_t g = k / w.group_size;
          dst[k - k0] = w.scales[r * ng + g] * static_cast<float>(field & mask) + w.offsets[r * ng + g];
        }
      }
  }
}

}  // namespace detail

void lowbit_gemm(const PackedLowBit& w, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy,
                 const KernelOptions& options) {
  const Isa isa = resolve_isa(options.isa);
  const int threads = resolve_threads(options);
  const int64_t work = w.rows * w.cols * batch;
  const bool fused = isa == Isa::kAvx2 && batch <= kLowBitFusedBatch &&
                     (w.group_size % kLowBitBlock == 0 || w.n_groups() == 1);
  if (fused) {
    // The fused kernel reads whole 64-column blocks of x: give it zeros past the last column.
    const detail::PaddedInput in = detail::pad_columns(x, batch, ldx, w.cols, w.cols_padded);
    const float* xp = in.x;
    const int64_t ldxp = in.ldx;
    // The group sums of x carry the zero points: w = scale * code + offset.
    const int64_t ng = w.n_groups();
    std::vector<float> xsum(batch * ng, 0.0f);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < w.cols; ++k) xsum[b * ng + k / w.group_size] += x[b * ldx + k];
    detail::parallel_rows(w.rows, 8, threads, work, [&](int64_t o0, int64_t o1) {
      detail::lowbit_fused_rows_avx2(w, xp, batch, ldxp, xsum.data(), o0, o1, y, ldy);
    });
    return;
  }
  detail::parallel_rows(w.rows, kTileRows, threads, work, [&](int64_t o0, int64_t o1) {
    std::vector<float> tile(kTileRows * kTileCols);
    for (int64_t r = o0; r < o1; r += kTileRows) {
      const int64_t r1 = std::min(o1, r + kTileRows);
      for (int64_t k = 0; k < w.cols; k += kTileCols) {
        const int64_t k1 = std::min(w.cols, k + kTileCols);
        if (isa == Isa::kAvx2) detail::lowbit_dequant_tile_avx2(w, r, r1, k, k1, tile.data(), kTileCols);
        else detail::lowbit_dequant_tile_scalar(w, r, r1, k, k1, tile.data(), kTileCols);
        detail::dense_rows(isa, x + k, batch, ldx, tile.data(), kTileCols, k1 - k, 0, r1 - r, y + r, ldy, k > 0);
      }
    }
  });
}

void lowbit_gemm_reference(const uint8_t* codes, const float* scales, const float* zeros, int64_t rows, int64_t cols,
                           int64_t group_size, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy) {
  const int64_t ng = (cols + group_size - 1) / group_size;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o = 0; o < rows; ++o) {
      double s = 0;
      for (int64_t k = 0; k < cols; ++k) {
        const int64_t g = o * ng + k / group_size;
        const float wk = scales[g] * (static_cast<float>(codes[o * cols + k]) - zeros[g]);
        s += static_cast<double>(wk) * x[b * ldx + k];
      }
      y[b * ldy + o] = static_cast<float>(s);
    }
}

}  // namespace repro::kernels
