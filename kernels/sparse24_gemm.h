#pragma once
// 2:4 sparse GEMV / small-batch GEMM, y = x W^T with W keeping at most 2 of every 4 consecutive
// input columns. Canonical form: values [rows, cols / 2] fp32 (the two kept values of group g at
// 2 g and 2 g + 1) and indices [rows, cols / 2] uint8 (their positions 0..3 inside the group).
//
// Packed layout (Packed24): each row in blocks of 64 columns (16 groups, 32 values; the row padded
// with zero values to a multiple of 64). Inside a block, value vector j = 0..3 covers groups
// 4 j .. 4 j + 3 (columns 16 j .. 16 j + 15) with its lanes in the order
//   lanes 0,1: group 4 j    lanes 4,5: group 4 j + 1    lanes 2,3: group 4 j + 2    lanes 6,7: group 4 j + 3
// so that an in-lane permute (vpermilps, which reads only the low 2 bits of each index) of
// x[16 j .. 16 j + 7] fills lanes 0,1 and 4,5, the same permute of x[16 j + 8 .. 16 j + 15] fills
// lanes 2,3 and 6,7, and one blend joins them. The block's 32 two-bit positions take 8 bytes:
// byte i holds lane i of vectors j = 0..3 at bits 2 j.

#include <cstdint>

#include "kernels/aligned_vector.h"
#include "kernels/kernel_options.h"

namespace repro::kernels {

inline constexpr int64_t kSparse24Block = 64;  // columns per packed block

struct Packed24 {
  int64_t rows = 0, cols = 0;
  int64_t cols_padded = 0;          // cols rounded up to a multiple of kSparse24Block
  AlignedVector<float> values;      // [rows, cols_padded / 2] in the block lane order above
  AlignedVector<uint8_t> indices;   // [rows, cols_padded / 8]: 2-bit positions, block-interleaved

  // Bytes a product reads from memory: values and positions.
  int64_t bytes_read() const {
    return rows * cols_padded / 2 * static_cast<int64_t>(sizeof(float)) + rows * cols_padded / 8;
  }
};

// Canonical form from a dense weight and its mask ([rows, cols], cols % 4 == 0). Returns false
// (outputs unspecified) when a group of 4 keeps more than 2 columns. A group keeping fewer gets
// zero values at unused positions. values, indices: [rows, cols / 2].
bool sparse24_from_dense(const float* dense, const bool* mask, int64_t rows, int64_t cols, float* values,
                         uint8_t* indices);

// Canonical -> packed. values, indices: [rows, cols / 2]; cols % 4 == 0; indices < 4 and the two
// positions of a group distinct (InternalError otherwise).
Packed24 pack_sparse24(const float* values, const uint8_t* indices, int64_t rows, int64_t cols);
// Packed -> canonical (the inverse of pack_sparse24).
void unpack_sparse24(const Packed24& w, float* values, uint8_t* indices);

// y[b, o] = sum_k x[b, k] w[o, k]. x: [batch, w.cols] fp32 (row stride ldx); y: [batch, w.rows]
// (row stride ldy). Batches up to kSparse24FusedBatch run the sparse kernel; larger ones expand
// tiles of rows to dense fp32 in a scratch buffer and run the dense kernel on them.
void sparse24_gemm(const Packed24& w, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy,
                   const KernelOptions& options = {});
inline constexpr int64_t kSparse24FusedBatch = 8;

// Reference on the canonical form, accumulated in double.
void sparse24_gemm_reference(const float* values, const uint8_t* indices, int64_t rows, int64_t cols, const float* x,
                             int64_t batch, int64_t ldx, float* y, int64_t ldy);

}  // namespace repro::kernels
