#pragma once
// Batched Dykstra iteration for TSENOR's transposable N:M masks on the GPU (dykstra.cu), and its
// host emulation. Same iteration, operation order and per-tile early stop as the CPU path of
// methods/common/transposable.h's dykstra_transposable (see dykstra_tile.h); the GPU kernel runs
// one thread per entry, the tiles of a block in lockstep, each tile stopping on its own.
// libtorch-free: buffers only.

#include <cstdint>

namespace repro::kernels::gpu {

struct DykstraGpuOptions {
  float tau = 60.0f;        // inverse temperature on the per-tile normalised scores, in (0, 80]
  int iters = 100;          // at most this many iterations
  double tol = 0.0;         // stop a tile once every row and column sum is within tol of n (0: never)
  int check_every = 10;     // iterations between early-stop checks
};

// Tile sizes m the GPU kernel is built for.
bool dykstra_gpu_supported(int m);

// Checks m (dykstra_gpu_supported), 0 < n <= m and the options; NotSupported / ConfigError naming
// the value otherwise.
void check_dykstra_args(int m, int n, const DykstraGpuOptions& o);

// The kernel's computation on the host, tile by tile: A: [tiles, m, m] fp32 raw scores (higher =
// keep); S: [tiles, m, m] fp32 out; iterations: [tiles] out (the iterations each tile ran).
// Bit for bit what the CPU path of dykstra_transposable computes (same operations, same order,
// the same std::exp); the GPU kernel differs only where its expf does (at most 2 ulp).
void dykstra_gpu_emulate(const float* A, int64_t tiles, int m, int n, const DykstraGpuOptions& o, float* S,
                         int32_t* iterations);

}  // namespace repro::kernels::gpu
