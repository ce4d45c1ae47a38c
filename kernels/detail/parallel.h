#pragma once
// Splits output rows over OpenMP threads. Used only inside kernels/ .cpp files compiled with
// -fopenmp (the region is the caller's, so the per-thread work functions need no OpenMP).

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace repro::kernels::detail {

// Below this many multiply-adds a call runs on one thread: waking the pool costs a few microseconds.
inline constexpr int64_t kMinParallelWork = int64_t{1} << 16;

// fn(begin, end) over [0, n) in contiguous chunks whose starts are multiples of `align`, one chunk
// per thread; `work` is the call's multiply-add count (decides whether threads pay off).
template <class Fn>
void parallel_rows(int64_t n, int64_t align, int threads, int64_t work, const Fn& fn) {
  if (n <= 0) return;
  const int64_t units = (n + align - 1) / align;
  int t = static_cast<int>(std::min<int64_t>(threads, units));
  if (work < kMinParallelWork) t = 1;
  if (t <= 1) {
    fn(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(t)
  {
    const int64_t id = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t u0 = units * id / nt, u1 = units * (id + 1) / nt;
    const int64_t begin = std::min(n, u0 * align), end = std::min(n, u1 * align);
    if (begin < end) fn(begin, end);
  }
}

}  // namespace repro::kernels::detail
