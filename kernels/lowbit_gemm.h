#pragma once
// Weight-only low-bit GEMV / small-batch GEMM, y = x W^T with W = scale * (code - zero) per group
// of `group_size` consecutive input columns, for 2, 3 and 4 bit codes. The weight stays packed in
// memory; the kernel widens codes to fp32 in registers.
//
// Packed layout (PackedLowBit::codes): each row's columns in blocks of 64 (the row padded with zero
// codes to a multiple of 64). A block occupies 8 * bits bytes: eight little-endian fields of
// 8 * bits bits, one per AVX2 lane i = 0..7, field i holding the codes of columns 8 j + i
// (j = 0..7) at bit offset bits * j. So one 32-bit lane load (after a byte shuffle for 2 and 3
// bits) gives eight codes, and the j-th shift-and-mask yields the eight contiguous columns
// 8 j .. 8 j + 7: the input vector is read with plain contiguous loads.
//
// The canonical form (models/compressed_linear.h, QuantCodes): codes [rows, cols] uint8, scales and
// zeros [rows, n_groups] fp32, column k in group k / group_size, n_groups = ceil(cols / group_size)
// (a group size that does not divide cols leaves a shorter last group).

#include <cstdint>

#include "kernels/aligned_vector.h"
#include "kernels/kernel_options.h"

namespace repro::kernels {

inline constexpr int64_t kLowBitBlock = 64;  // columns per packed block

struct PackedLowBit {
  int bits = 0;
  int64_t rows = 0, cols = 0, group_size = 0;
  int64_t cols_padded = 0;         // cols rounded up to a multiple of kLowBitBlock
  AlignedVector<uint8_t> codes;    // [rows, row_bytes()] in the block layout above, + 32 slack bytes
  AlignedVector<float> scales;     // [rows, n_groups()]
  AlignedVector<float> zeros;      // [rows, n_groups()] (kept for unpacking)
  AlignedVector<float> offsets;    // [rows, n_groups()]: -scale * zero, so w = scale * code + offset

  int64_t n_groups() const { return group_size > 0 ? (cols + group_size - 1) / group_size : 0; }
  int64_t row_bytes() const { return cols_padded / 8 * bits; }
  // Bytes a product reads from memory: codes, scales and offsets.
  int64_t bytes_read() const;
};

// Whether the kernel takes this format: bits in {2, 3, 4}, cols > 0, group_size > 0 (any size;
// group_size >= cols is one group per row).
bool lowbit_supported(int bits, int64_t cols, int64_t group_size);

// Canonical -> packed. codes: [rows, cols] uint8 (each < 2^bits); scales, zeros: [rows,
// ceil(cols / group_size)] fp32. InternalError on an unsupported format or a code out of range.
PackedLowBit pack_lowbit(const uint8_t* codes, const float* scales, const float* zeros, int64_t rows, int64_t cols,
                         int bits, int64_t group_size);
// Packed -> canonical (the inverse of pack_lowbit, byte for byte). Buffers sized as pack_lowbit's.
void unpack_lowbit(const PackedLowBit& w, uint8_t* codes, float* scales, float* zeros);

// y[b, o] = sum_k x[b, k] w[o, k], w dequantized. x: [batch, w.cols] fp32 (row stride ldx);
// y: [batch, w.rows] fp32 (row stride ldy). Any batch; batches up to kLowBitFusedBatch with
// group_size a multiple of 64 (or one group per row) run the fused kernel, others decompress tiles
// of rows into a scratch buffer and run the dense kernel on them.
void lowbit_gemm(const PackedLowBit& w, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy,
                 const KernelOptions& options = {});
inline constexpr int64_t kLowBitFusedBatch = 8;

// Reference on the canonical form: dequantize each weight (scale * (code - zero)), multiply,
// accumulate in double.
void lowbit_gemm_reference(const uint8_t* codes, const float* scales, const float* zeros, int64_t rows, int64_t cols,
                           int64_t group_size, const float* x, int64_t batch, int64_t ldx, float* y, int64_t ldy);

}  // namespace repro::kernels
