// The low-bit GEMV kernel: layout and per-thread arithmetic in lowbit_layout.h (shared with the
// host emulation in lowbit_pack.cpp, which the CPU tests check against the reference).

#include <algorithm>
#include <string>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/lowbit_gemv.h"
#include "kernels/cuda/lowbit_layout.h"

namespace repro::kernels::gpu {

namespace {

constexpr int kRowsPerBlock = 4;  // one warp per output row

struct LowBitView {
  const uint32_t* words;
  const uint32_t* scale_zero;
  int64_t rows, n_ktiles, row_words;
  int cols, group_size, n_groups;
  int sub_shift;  // group of sub-tile s: s >> sub_shift when >= 0 (groups of 128 * 2^k, or one
                  // group per row: 31), else by division
};

// The lane's 4 activations of one sub-tile (fp16 -> fp32, exact); zero past cols.
__device__ __forceinline__ void load_x4(const __half* xb, int col, int cols, bool vector_ok, float* xv) {
  if (vector_ok) {
    const uint2 u = __ldg(reinterpret_cast<const uint2*>(xb + col));
    const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&u.x));
    const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&u.y));
    xv[0] = a.x;
    xv[1] = a.y;
    xv[2] = b.x;
    xv[3] = b.y;
    return;
  }
#pragma unroll
  for (int q = 0; q < 4; ++q) xv[q] = col + q < cols ? __half2float(xb[col + q]) : 0.0f;
}

template <int kBits, int kBatch>
__global__ void __launch_bounds__(kRowsPerBlock * kWarpSize)
    lowbit_gemv_kernel(LowBitView w, const __half* __restrict__ x, int64_t ldx, int nb, __half* __restrict__ y,
                       int64_t ldy, bool x_vectors) {
  constexpr int kSuper = kBits == 3 ? 4 : kBits == 2 ? 2 : 1;  // lowbit_ktiles_per_super
  constexpr int kWords = kSuper * kBits;                      // a multiple of 4
  const int lane = threadIdx.x % kWarpSize;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarpSize;
  if (row >= w.rows) return;
  const uint32_t* rw = w.words + row * w.row_words;
  const uint32_t* sz = w.scale_zero + row * w.n_groups;
  float acc[kBatch];
#pragma unroll
  for (int b = 0; b < kBatch; ++b) acc[b] = 0.0f;

  for (int64_t kt0 = 0; kt0 < w.n_ktiles; kt0 += kSuper) {
    const int pk = static_cast<int>(min(static_cast<int64_t>(kSuper), w.n_ktiles - kt0));
    const uint32_t* st = rw + kt0 * kWarpSize * kBits;
    uint32_t wd[kWords];
    if (pk == kSuper) {
      // Full super-tile: the warp's q-th load is 512 contiguous bytes; read once, so streamed.
      const uint4* st4 = reinterpret_cast<const uint4*>(st);
#pragma unroll
      for (int q = 0; q < kWords / 4; ++q) {
        const uint4 v = __ldcs(st4 + q * kWarpSize + lane);
        wd[4 * q] = v.x;
        wd[4 * q + 1] = v.y;
        wd[4 * q + 2] = v.z;
        wd[4 * q + 3] = v.w;
      }
    } else {
      const int nw = pk * kBits;
#pragma unroll
      for (int q = 0; q < kWords; ++q) wd[q] = q < nw ? __ldcs(st + lowbit_word_offset(nw, lane, q)) : 0u;
    }
    // One k-tile at a time from wd[0 .. kBits), shifting the next k-tile's words down after each:
    // the loop stays rolled (a quarter of the code for 3 bits) and wd stays in registers.
#pragma unroll 1
    for (int p = 0; p < pk; ++p) {
      const int kt = static_cast<int>(kt0) + p;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int c0 = kt * static_cast<int>(kLowBitKTile) + j * static_cast<int>(kLowBitSubTile);
        if (c0 >= w.cols) break;
        float scale, offset;
        const int group = w.sub_shift >= 0 ? (kt * 8 + j) >> w.sub_shift : c0 / w.group_size;
        lowbit_scale_offset(__ldg(sz + group), scale, offset);
        float c[4];
#pragma unroll
        for (int r = 0; r < 4; ++r) c[r] = static_cast<float>(lowbit_code(wd, kBits, 4 * j + r));
        const int col = c0 + 4 * lane;
        const bool vector_ok = x_vectors && c0 + static_cast<int>(kLowBitSubTile) <= w.cols;
#pragma unroll
        for (int b = 0; b < kBatch; ++b) {
          if (b < nb) {
            float xv[4];
            load_x4(x + b * ldx, col, w.cols, vector_ok, xv);
            acc[b] = lowbit_subtile_dot(c, xv, scale, offset, acc[b]);
          }
        }
      }
#pragma unroll
      for (int q = 0; q + kBits < kWords; ++q) wd[q] = wd[q + kBits];
    }
  }
#pragma unroll
  for (int b = 0; b < kBatch; ++b)
#pragma unroll
    for (int off = kWarpSize / 2; off > 0; off /= 2) acc[b] += __shfl_xor_sync(0xFFFFFFFFu, acc[b], off);
  if (lane == 0)
#pragma unroll
    for (int b = 0; b < kBatch; ++b)
      if (b < nb) y[b * ldy + row] = __float2half_rn(acc[b]);
}

template <int kBits>
void launch_bits(const LowBitView& v, const __half* x, int64_t ldx, int nb, __half* y, int64_t ldy, bool vec,
                 cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((v.rows + kRowsPerBlock - 1) / kRowsPerBlock)), block(kRowsPerBlock * kWarpSize);
  if (nb == 1) lowbit_gemv_kernel<kBits, 1><<<grid, block, 0, stream>>>(v, x, ldx, nb, y, ldy, vec);
  else if (nb <= 4) lowbit_gemv_kernel<kBits, 4><<<grid, block, 0, stream>>>(v, x, ldx, nb, y, ldy, vec);
  else lowbit_gemv_kernel<kBits, kLowBitMaxBatch><<<grid, block, 0, stream>>>(v, x, ldx, nb, y, ldy, vec);
}

}  // namespace

LowBitGpuWeight upload_lowbit(const PackedLowBitGpu& w) {
  LowBitGpuWeight d;
  d.bits = w.bits;
  d.rows = w.rows;
  d.cols = w.cols;
  d.group_size = w.group_size;
  d.n_ktiles = w.n_ktiles;
  d.words = DeviceBuffer<uint32_t>(w.words);
  d.scale_zero = DeviceBuffer<uint32_t>(w.scale_zero);
  return d;
}

void lowbit_gemv(const LowBitGpuWeight& w, const __half* x, int64_t batch, int64_t ldx, __half* y, int64_t ldy,
                 cudaStream_t stream) {
  REPRO_ASSERT(w.bits == 2 || w.bits == 3 || w.bits == 4, "lowbit_gemv: weight not uploaded");
  REPRO_ASSERT(batch >= 0 && ldx >= w.cols && ldy >= w.rows && (batch == 0 || (x && y)),
               "lowbit_gemv: bad x / y for a [" + std::to_string(w.rows) + ", " + std::to_string(w.cols) +
                   "] weight: batch " + std::to_string(batch) + ", ldx " + std::to_string(ldx) + ", ldy " +
                   std::to_string(ldy));
  if (batch == 0 || w.rows == 0) return;
  LowBitView v{w.words.get(), w.scale_zero.get(), w.rows, w.n_ktiles, w.n_ktiles * kWarpSize * w.bits,
               static_cast<int>(w.cols), static_cast<int>(std::min<int64_t>(w.group_size, int64_t{1} << 30)),
               static_cast<int>((w.cols + w.group_size - 1) / w.group_size), -1};
  if (v.n_groups == 1) {
    v.sub_shift = 31;
  } else {
    for (int k = 0; k < 24; ++k)
      if (w.group_size == (kLowBitSubTile << k)) v.sub_shift = k;
  }
  const bool vec = reinterpret_cast<uintptr_t>(x) % 8 == 0 && ldx % 4 == 0;
  for (int64_t b0 = 0; b0 < batch; b0 += kLowBitMaxBatch) {
    const int nb = static_cast<int>(std::min<int64_t>(kLowBitMaxBatch, batch - b0));
    const __half* xb = x + b0 * ldx;
    __half* yb = y + b0 * ldy;
    if (w.bits == 4) launch_bits<4>(v, xb, ldx, nb, yb, ldy, vec, stream);
    else if (w.bits == 3) launch_bits<3>(v, xb, ldx, nb, yb, ldy, vec, stream);
    else launch_bits<2>(v, xb, ldx, nb, yb, ldy, vec, stream);
    check_cuda(cudaGetLastError(), "lowbit_gemv launch");
  }
}

}  // namespace repro::kernels::gpu
