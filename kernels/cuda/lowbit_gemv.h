#pragma once
// Weight-only low-bit GEMV / small-batch GEMM on the GPU, y = x W^T, W = scale * (code - zero)
// per group, 2, 3 or 4-bit codes in the layout of lowbit_layout.h (packed on the host by
// lowbit_pack.h). fp16 activations and outputs, fp32 accumulation, dequantisation in registers;
// one warp per output row reads that row's weight bytes exactly once per launch with 128-bit
// coalesced loads (32-bit in a row's last partial super-tile). A launch serves up to
// kLowBitMaxBatch rows of x; larger batches run in launches of 16 (weights re-read per launch:
// for batch >= 64 dequantise to fp16 and use cuBLAS instead).

#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/lowbit_pack.h"

namespace repro::kernels::gpu {

// A PackedLowBitGpu in device memory.
struct LowBitGpuWeight {
  int bits = 0;
  int64_t rows = 0, cols = 0, group_size = 0, n_ktiles = 0;
  DeviceBuffer<uint32_t> words;       // [rows, n_ktiles * 32 * bits]
  DeviceBuffer<uint32_t> scale_zero;  // [rows, n_groups]
  int64_t bytes_read() const { return static_cast<int64_t>(words.bytes() + scale_zero.bytes()); }
};

LowBitGpuWeight upload_lowbit(const PackedLowBitGpu& w);

// y[b, r] = sum_k x[b, k] w[r, k] for b < batch, r < w.rows. x: [batch, w.cols] fp16 device, row
// stride ldx (128-bit paths need x 8-byte aligned and ldx % 4 == 0; otherwise scalar x loads);
// y: [batch, w.rows] fp16 device, row stride ldy. Asynchronous on `stream`.
void lowbit_gemv(const LowBitGpuWeight& w, const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy,
                 cudaStream_t stream);

}  // namespace repro::kernels::gpu
