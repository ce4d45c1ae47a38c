#include "kernels/sparse24_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/detail/dense_rows.h"
#include "kernels/detail/padded_input.h"
#include "kernels/detail/parallel.h"
#include "kernels/detail/sparse24_rows.h"

namespace repro::kernels {

namespace {

constexpr int64_t kTileRows = 32, kTileCols = 512;  // expand-then-multiply tiles (64 KB of fp32)

// Where value `v` (0..31) of a packed block lies in the canonical block order (2 group + slot).
int64_t canonical_slot(int64_t v) {
  const int64_t j = v / 8, lane = v % 8;
  return 2 * (4 * j + detail::kSparse24LaneGroup[lane]) + lane % 2;
}

}  // namespace

bool sparse24_from_dense(const float* dense, const bool* mask, int64_t rows, int64_t cols, float* values,
                         uint8_t* indices) {
  REPRO_ASSERT(cols % 4 == 0, fmt::format("sparse24_from_dense: {} columns is not a multiple of 4", cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols / 4; ++g) {
      const int64_t out = r * (cols / 2) + 2 * g;
      int kept = 0;
      for (int p = 0; p < 4; ++p) {
        if (!mask[r * cols + 4 * g + p]) continue;
        if (kept == 2) return false;
        values[out + kept] = dense[r * cols + 4 * g + p];
        indices[out + kept] = static_cast<uint8_t>(p);
        ++kept;
      }
      // Fewer than two kept: zero values at positions not already used.
      for (uint8_t p = 0; kept < 2; ++p)
        if (kept == 0 || indices[out] != p) {
          values[out + kept] = 0.0f;
          indices[out + kept] = p;
          ++kept;
        }
    }
  return true;
}

Packed24 pack_sparse24(const float* values, const uint8_t* indices, int64_t rows, int64_t cols) {
  REPRO_ASSERT(cols > 0 && cols % 4 == 0, fmt::format("pack_sparse24: {} columns is not a multiple of 4", cols));
  Packed24 w;
  w.rows = rows;
  w.cols = cols;
  w.cols_padded = (cols + kSparse24Block - 1) / kSparse24Block * kSparse24Block;
  const int64_t vals_in = cols / 2, vals_out = w.cols_padded / 2, idx_bytes = w.cols_padded / 8;
  w.values.assign(rows * vals_out, 0.0f);
  w.indices.assign(rows * idx_bytes, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t block = 0; block * kSparse24Block < cols; ++block)
      for (int64_t v = 0; v < 32; ++v) {
        const int64_t src = block * 32 + canonical_slot(v);
        if (src >= vals_in) continue;  // padding keeps value 0 at position 0
        const uint8_t p = indices[r * vals_in + src];
        const uint8_t other = indices[r * vals_in + (src ^ 1)];
        REPRO_ASSERT(p < 4 && p != other,
                     fmt::format("pack_sparse24: row {} group {} has positions {} and {}", r, src / 2, p, other));
        w.values[r * vals_out + block * 32 + v] = values[r * vals_in + src];
        w.indices[r * idx_bytes + block * 8 + v % 8] |= static_cast<uint8_t>(p << (2 * (v / 8)));
      }
  return w;
}

void unpack_sparse24(const Packed24& w, float* values, uint8_t* indices) {
  const int64_t vals_in = w.cols / 2, vals_out = w.cols_padded / 2, idx_bytes = w.cols_padded / 8;
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t block = 0; block * kSparse24Block < w.cols; ++block)
      for (int64_t v = 0; v < 32; ++v) {
        const int64_t dst = block * 32 + canonical_slot(v);
        if (dst >= vals_in) continue;
        values[r * vals_in + dst] = w.values[r * vals_out + block * 32 + v];
        indices[r * vals_in + dst] = (w.indices[r * idx_bytes + block * 8 + v % 8] >> (2 * (v / 8))) & 3;
      }
}

namespace detail {

void sparse24_expand_tile(const Packed24& w, int64_t o0, int64_t o1, int64_t k0, int64_t k1, float* out,
                          int64_t ldo) {
  const int64_t vals_out = w.cols_padded / 2, idx_bytes = w.cols_padded / 8;
  for (int64_t r = o0; r < o1; ++r) {
    float* dst = out + (r - o0) * ldo;
    std::fill(dst, dst + (k1 - k0), 0.0f);
    for (int64_t block = k0 / kSparse24Block; block * kSparse24Block < k1; ++block)
      for (int64_t v = 0; v < 32; ++v) {
        const int64_t j = v / 8, lane = v % 8;
        const int p = (w.indices[r * idx_bytes + block * 8 + lane] >> (2 * j)) & 3;
        const int64_t k = block * kSparse24Block + 16 * j + 4 * kSparse24LaneGroup[lane] + p;
        if (k < k1) dst[k - k0] = w.values[r * vals_out + block * 32 + v];
      }
  }
}

}  // namespace detail

void sparse24_gemm(const Packed24& w, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy,
                   const KernelOptions& options) {
  const Isa isa = resolve_isa(options.isa);
  const int threads = resolve_threads(options);
  const int64_t work = w.rows * w.cols / 2 * batch;
  if (isa == Isa::kAvx2 && batch <= kSparse24FusedBatch) {
    const detail::PaddedInput in = detail::pad_columns(x, batch, ldx, w.cols, w.cols_padded);
    const float* xp = in.x;
    const int64_t ldxp = in.ldx;
    detail::parallel_rows(w.rows, 8, threads, work, [&](int64_t o0, int64_t o1) {
      detail::sparse24_fused_rows_avx2(w, xp, batch, ldxp, o0, o1, y, ldy);
    });
    return;
  }
  detail::parallel_rows(w.rows, kTileRows, threads, work, [&](int64_t o0, int64_t o1) {
    std::vector<float> tile(kTileRows * kTileCols);
    for (int64_t r = o0; r < o1; r += kTileRows) {
      const int64_t r1 = std::min(o1, r + kTileRows);
      for (int64_t k = 0; k < w.cols; k += kTileCols) {
        const int64_t k1 = std::min(w.cols, k + kTileCols);
        detail::sparse24_expand_tile(w, r, r1, k, k1, tile.data(), kTileCols);
        detail::dense_rows(isa, x + k, batch, ldx, tile.data(), kTileCols, k1 - k, 0, r1 - r, y + r, ldy, k > 0);
      }
    }
  });
}

void sparse24_gemm_reference(const float* values, const uint8_t* indices, int64_t rows, int64_t cols, const float* x,
                             int64_t batch, int64_t ldx, float* y, int64_t ldy) {
  const int64_t n = cols / 2;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o = 0; o < rows; ++o) {
      double s = 0;
      for (int64_t v = 0; v < n; ++v) {
        const int64_t k = 4 * (v / 2) + indices[o * n + v];
        s += static_cast<double>(values[o * n + v]) * x[b * ldx + k];
      }
      y[b * ldy + o] = static_cast<float>(s);
    }
}

}  // namespace repro::kernels
