#pragma once
// Host side of the GPU low-bit GEMV: the packed layout of lowbit_layout.h built from (and turned
// back into) the canonical form that kernels/lowbit_gemm.h uses, and a host emulation of the CUDA
// kernel, lane by lane, so that the layout and the per-thread arithmetic are tested without a GPU.
// libtorch-free and CUDA-free: builds with REPRO_ENABLE_CUDA off.

#include <cstdint>
#include <vector>

namespace repro::kernels::gpu {

struct PackedLowBitGpu {
  int bits = 0;
  int64_t rows = 0, cols = 0, group_size = 0;
  int64_t n_ktiles = 0;                // ceil(cols / kLowBitKTile)
  std::vector<uint32_t> words;         // [rows, row_words()] in the layout of lowbit_layout.h
  std::vector<uint32_t> scale_zero;    // [rows, n_groups()]: fp16 scale (low half), fp16 zero (high half)
  std::vector<float> scales, zeros;    // [rows, n_groups()] the canonical fp32 values (for unpacking)

  int64_t n_groups() const { return group_size > 0 ? (cols + group_size - 1) / group_size : 0; }
  int64_t row_words() const { return n_ktiles * 32 * bits; }
  // Bytes the GPU kernel reads from the weight per call: codes and scale/zero words.
  int64_t bytes_read() const {
    return static_cast<int64_t>(words.size() + scale_zero.size()) * static_cast<int64_t>(sizeof(uint32_t));
  }
};

// Whether the GPU kernel takes this format: bits in {2, 3, 4}, rows and cols > 0, group_size a
// multiple of 128 (the sub-tile) or at least cols (one group per row).
bool lowbit_gpu_supported(int bits, int64_t rows, int64_t cols, int64_t group_size);

// Canonical -> packed. codes: [rows, cols] uint8, each < 2^bits; scales, zeros: [rows,
// ceil(cols / group_size)] fp32, finite and within fp16 range. NotSupported naming the format when
// lowbit_gpu_supported is false or a scale / zero does not fit fp16; InternalError on a code out
// of range.
PackedLowBitGpu pack_lowbit_gpu(const uint8_t* codes, const float* scales, const float* zeros, int64_t rows,
                                int64_t cols, int bits, int64_t group_size);

// Packed -> canonical: codes byte for byte, scales and zeros as given to pack_lowbit_gpu.
// Buffers sized as there.
void unpack_lowbit_gpu(const PackedLowBitGpu& w, uint8_t* codes, float* scales, float* zeros);

// The scales and zeros the kernel uses (the fp16-rounded canonical values), for references.
// scales, zeros: [rows, n_groups] fp32.
void lowbit_gpu_effective_params(const PackedLowBitGpu& w, float* scales, float* zeros);

// What lowbit_gemv (the CUDA kernel) computes, emulated on the host thread by thread: the same
// word loads, the same per-lane fused multiply-adds in the same order, the same butterfly warp
// reduction and the same fp16 rounding of y. x: [batch, cols] fp16 bits, row stride ldx; y:
// [batch, rows] fp16 bits, row stride ldy. Any batch (the kernel runs batches in launches of up to
// kLowBitMaxBatch rows; rows of x are independent).
void lowbit_gemm_gpu_emulate(const PackedLowBitGpu& w, const uint16_t* x, int64_t batch, int64_t ldx, uint16_t* y,
                             int64_t ldy);

}  // namespace repro::kernels::gpu
