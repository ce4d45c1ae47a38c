#include "kernels/stream_triad.h"

#include <omp.h>

namespace repro::kernels {

void stream_triad(float* a, const float* b, const float* c, float s, int64_t n, int threads) {
  const int t = threads > 0 ? threads : omp_get_max_threads();
  // Static schedule: each thread streams one contiguous slice, as STREAM does.
#pragma omp parallel for num_threads(t) schedule(static)
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

}  // namespace repro::kernels
