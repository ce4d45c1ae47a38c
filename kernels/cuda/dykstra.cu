// The batched Dykstra kernel for TSENOR (dykstra_gpu.h): one thread per entry of an m x m tile,
// 256 / m^2 tiles per block (one tile of 1024 threads for m = 32), the tile in shared memory. The
// per-entry and per-tile steps are dykstra_tile.h's, shared with the host emulation.

#include <string>

#include "core/error.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/dykstra_cuda.h"
#include "kernels/cuda/dykstra_tile.h"

namespace repro::kernels::gpu {

namespace {

template <int M>
__global__ void __launch_bounds__(M * M >= 256 ? M * M : 256)
    dykstra_kernel(const float* __restrict__ A, int64_t tiles, float n, float tau, int iters, double tol,
                   int check_every, float* __restrict__ S, int32_t* __restrict__ iterations) {
  constexpr int kMM = M * M;
  constexpr int kTiles = kMM >= 256 ? 1 : 256 / kMM;
  __shared__ float tile_sm[kTiles][kMM];
  __shared__ float row_sm[kTiles][M];
  __shared__ float colscale_sm[kTiles][M];
  __shared__ float max_sm[kTiles], scale_sm[kTiles];
  __shared__ int stop_sm[kTiles];
  const int tl = threadIdx.x / kMM, k = threadIdx.x % kMM, i = k / M, j = k % M;
  const int64_t tile = static_cast<int64_t>(blockIdx.x) * kTiles + tl;
  const bool valid = tile < tiles;
  float* sm = tile_sm[tl];

  // Normalise by the tile's range (max and min are order-free), then exp(tau * (a - max) / range).
  const float a = valid ? A[tile * kMM + k] : 0.0f;
  sm[k] = a;
  __syncthreads();
  if (valid && k == 0) {
    float mx = sm[0], mn = sm[0];
    for (int e = 1; e < kMM; ++e) {
      mx = fmaxf(mx, sm[e]);
      mn = fminf(mn, sm[e]);
    }
    const float range = mx - mn;
    max_sm[tl] = mx;
    scale_sm[tl] = range > 0 ? tau / range : 0.0f;
  }
  __syncthreads();
  float s = valid ? expf((a - max_sm[tl]) * scale_sm[tl]) : 0.0f;
  float q = 1.0f;
  sm[k] = s;
  __syncthreads();
  if (valid && j == 0) row_sm[tl][i] = dykstra_row_sum(sm + i * M, M);
  __syncthreads();

  bool done = !valid;
  int ran = 0;
  for (int it = 0; it < iters;) {
    if (__syncthreads_and(done)) break;
    if (!done) {
      s *= dykstra_factor(n, row_sm[tl][i]);
      sm[k] = s;
    }
    __syncthreads();
    if (!done && i == 0) colscale_sm[tl][j] = dykstra_factor(n, dykstra_col_sum(sm, M, j));
    __syncthreads();
    if (!done) {
      dykstra_capacity(s, q, colscale_sm[tl][j]);
      sm[k] = s;
    }
    __syncthreads();
    if (!done && j == 0) row_sm[tl][i] = dykstra_row_sum(sm + i * M, M);
    __syncthreads();
    ++it;
    if (!done) ran = it;
    if (tol > 0 && it % check_every == 0 && it < iters) {  // uniform over the block
      if (!done && k == 0) stop_sm[tl] = static_cast<double>(dykstra_deviation(sm, row_sm[tl], M, n)) < tol;
      __syncthreads();
      if (!done && stop_sm[tl]) done = true;
    }
  }
  if (valid) {
    S[tile * kMM + k] = s;
    if (k == 0) iterations[tile] = ran;
  }
}

template <int M>
void launch(const float* A, int64_t tiles, int n, const DykstraGpuOptions& o, float* S, int32_t* iterations,
            cudaStream_t stream) {
  constexpr int kMM = M * M;
  constexpr int kTiles = kMM >= 256 ? 1 : 256 / kMM;
  const dim3 grid(static_cast<unsigned>((tiles + kTiles - 1) / kTiles)), block(kTiles * kMM);
  dykstra_kernel<M><<<grid, block, 0, stream>>>(A, tiles, static_cast<float>(n), o.tau, o.iters, o.tol,
                                                o.check_every, S, iterations);
}

}  // namespace

void dykstra_gpu(const float* A, int64_t tiles, int m, int n, const DykstraGpuOptions& o, float* S,
                 int32_t* iterations, cudaStream_t stream) {
  check_dykstra_args(m, n, o);
  REPRO_ASSERT(tiles >= 0 && (tiles == 0 || (A && S && iterations)), "dykstra_gpu: null buffers");
  if (tiles == 0) return;
  REPRO_ASSERT(tiles / (m >= 16 ? 1 : 256 / (m * m)) < (int64_t{1} << 31),
               "dykstra_gpu: too many tiles for one launch: " + std::to_string(tiles));
  switch (m) {
    case 4: launch<4>(A, tiles, n, o, S, iterations, stream); break;
    case 8: launch<8>(A, tiles, n, o, S, iterations, stream); break;
    case 16: launch<16>(A, tiles, n, o, S, iterations, stream); break;
    default: launch<32>(A, tiles, n, o, S, iterations, stream); break;
  }
  check_cuda(cudaGetLastError(), "dykstra_gpu launch");
}

}  // namespace repro::kernels::gpu
