// Transpose and masking for the transposable 2:4 training layer (transposable_nm_gpu.h).

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/transposable_nm_gpu.h"

namespace repro::kernels::gpu {

namespace {

constexpr int kTile = 32;

// 32 x 32 tiles through shared memory (one padding column against bank conflicts); block 32 x 8.
__global__ void transpose_kernel(const __half* __restrict__ in, int64_t rows, int64_t cols, __half* __restrict__ out) {
  __shared__ __half tile[kTile][kTile + 1];
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kTile, c0 = static_cast<int64_t>(blockIdx.x) * kTile;
  for (int dy = threadIdx.y; dy < kTile; dy += blockDim.y) {
    const int64_t r = r0 + dy, c = c0 + threadIdx.x;
    if (r < rows && c < cols) tile[dy][threadIdx.x] = in[r * cols + c];
  }
  __syncthreads();
  for (int dy = threadIdx.y; dy < kTile; dy += blockDim.y) {
    const int64_t c = c0 + dy, r = r0 + threadIdx.x;  // out[c, r]
    if (r < rows && c < cols) out[c * rows + r] = tile[threadIdx.x][dy];
  }
}

__global__ void mask_kernel(__half* __restrict__ w, const uint8_t* __restrict__ mask, int64_t n) {
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x)
    if (!mask[k]) w[k] = __float2half(0.0f);
}

}  // namespace

void transpose_fp16(const __half* in, int64_t rows, int64_t cols, __half* out, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return;
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>((rows + kTile - 1) / kTile));
  transpose_kernel<<<grid, dim3(kTile, 8), 0, stream>>>(in, rows, cols, out);
  check_cuda(cudaGetLastError(), "transpose_fp16 launch");
}

void apply_mask_fp16(__half* w, const uint8_t* mask, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  const int64_t blocks = (n + 255) / 256;
  mask_kernel<<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), 256, 0, stream>>>(w, mask, n);
  check_cuda(cudaGetLastError(), "apply_mask_fp16 launch");
}

}  // namespace repro::kernels::gpu
