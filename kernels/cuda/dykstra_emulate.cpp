#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/cuda/dykstra_gpu.h"
#include "kernels/cuda/dykstra_tile.h"

namespace repro::kernels::gpu {

bool dykstra_gpu_supported(int m) { return m == 4 || m == 8 || m == 16 || m == 32; }

void check_dykstra_args(int m, int n, const DykstraGpuOptions& o) {
  if (!dykstra_gpu_supported(m))
    throw NotSupported(fmt::format("GPU Dykstra: tile size m = {} is not built (m = 4, 8, 16 or 32)", m));
  if (n <= 0 || n > m) throw ConfigError(fmt::format("GPU Dykstra: n = {} must be in [1, m = {}]", n, m));
  if (!(o.tau > 0.0f && o.tau <= 80.0f) || o.iters < 0 || o.check_every <= 0 || o.tol < 0)
    throw ConfigError(fmt::format("GPU Dykstra: bad options tau = {} (in (0, 80]), iters = {}, check_every = {}, "
                                  "tol = {}",
                                  o.tau, o.iters, o.check_every, o.tol));
}

void dykstra_gpu_emulate(const float* A, int64_t tiles, int m, int n, const DykstraGpuOptions& o, float* S,
                         int32_t* iterations) {
  check_dykstra_args(m, n, o);
  const int mm = m * m;
  const float nf = static_cast<float>(n);
  std::vector<float> q(mm), row(m), colscale(m);
  for (int64_t t = 0; t < tiles; ++t) {
    const float* a = A + t * mm;
    float* s = S + t * mm;
    // Normalisation to [-1, 0] by the tile's range, then exp(tau * .).
    float mx = a[0], mn = a[0];
    for (int k = 1; k < mm; ++k) {
      mx = std::max(mx, a[k]);
      mn = std::min(mn, a[k]);
    }
    const float range = mx - mn;
    const float scale = range > 0 ? o.tau / range : 0.0f;
    for (int k = 0; k < mm; ++k) {
      s[k] = std::exp((a[k] - mx) * scale);
      q[k] = 1.0f;
    }
    for (int i = 0; i < m; ++i) row[i] = dykstra_row_sum(s + i * m, m);
    int it = 0;
    while (it < o.iters) {
      // Each thread (i, j): scale its entry by its row's factor. Then column sums, then capacity.
      for (int i = 0; i < m; ++i) {
        const float f = dykstra_factor(nf, row[i]);
        for (int j = 0; j < m; ++j) s[i * m + j] *= f;
      }
      for (int j = 0; j < m; ++j) colscale[j] = dykstra_factor(nf, dykstra_col_sum(s, m, j));
      for (int k = 0; k < mm; ++k) dykstra_capacity(s[k], q[k], colscale[k % m]);
      for (int i = 0; i < m; ++i) row[i] = dykstra_row_sum(s + i * m, m);
      ++it;
      if (o.tol > 0 && it % o.check_every == 0 && it < o.iters &&
          static_cast<double>(dykstra_deviation(s, row.data(), m, nf)) < o.tol)
        break;
    }
    iterations[t] = it;
  }
}

}  // namespace repro::kernels::gpu
