#pragma once
// Timing helpers of bench_cuda_kernels: cudaEvent timing of a candidate and its baseline,
// alternating, after warm-up; medians with p10 / p90; the device-to-device copy bandwidth.

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include <cuda_runtime_api.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_buffer.h"

namespace repro::bench::cuda_timing {

struct Stats {
  double median = 0, p10 = 0, p90 = 0;  // seconds
};

inline Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[static_cast<size_t>(std::lround(q * static_cast<double>(v.size() - 1)))]; };
  return {at(0.5), at(0.1), at(0.9)};
}

struct Pair {
  Stats candidate, baseline;
  double speedup = 0;  // median of the paired baseline / candidate ratios
};

// Seconds per call of f(i) (i = 0, 1, ... rotating the weight copies): `inner` calls between two
// events, so a short kernel's launch gap is averaged out.
class EventTimer {
 public:
  explicit EventTimer(cudaStream_t s) : s_(s) {
    kernels::gpu::check_cuda(cudaEventCreate(&a_), "cudaEventCreate");
    kernels::gpu::check_cuda(cudaEventCreate(&b_), "cudaEventCreate");
  }
  ~EventTimer() {
    (void)cudaEventDestroy(a_);
    (void)cudaEventDestroy(b_);
  }
  double time(const std::function<void(int)>& f, int inner, int& counter) {
    kernels::gpu::check_cuda(cudaEventRecord(a_, s_), "cudaEventRecord");
    for (int k = 0; k < inner; ++k) f(counter++);
    kernels::gpu::check_cuda(cudaEventRecord(b_, s_), "cudaEventRecord");
    kernels::gpu::check_cuda(cudaEventSynchronize(b_), "cudaEventSynchronize");
    float ms = 0;
    kernels::gpu::check_cuda(cudaEventElapsedTime(&ms, a_, b_), "cudaEventElapsedTime");
    return ms * 1e-3 / inner;
  }

 private:
  cudaStream_t s_;
  cudaEvent_t a_ = nullptr, b_ = nullptr;
};

// Warm-up (outside timing), then `reps` rounds of candidate then baseline.
inline Pair time_pair(const std::function<void(int)>& candidate, const std::function<void(int)>& baseline, int reps,
                      int inner, cudaStream_t s) {
  EventTimer t(s);
  int ic = 0, ib = 0;
  for (int w = 0; w < 3; ++w) {
    t.time(candidate, inner, ic);
    t.time(baseline, inner, ib);
  }
  std::vector<double> c, b, ratio;
  for (int r = 0; r < reps; ++r) {
    c.push_back(t.time(candidate, inner, ic));
    b.push_back(t.time(baseline, inner, ib));
    ratio.push_back(b.back() / c.back());
  }
  return {stats_of(c), stats_of(b), stats_of(ratio).median};
}

// Device-to-device copy bandwidth in GB/s (bytes read + bytes written per second; the median of
// 10 copies of `bytes`), the reference for "% of HBM bandwidth".
inline double copy_gbps(size_t bytes, cudaStream_t s) {
  kernels::gpu::DeviceBuffer<unsigned char> src(bytes), dst(bytes);
  kernels::gpu::check_cuda(cudaMemset(src.get(), 1, bytes), "cudaMemset");
  EventTimer t(s);
  int counter = 0;
  auto copy = [&](int) {
    kernels::gpu::check_cuda(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, s), "cudaMemcpyAsync");
  };
  for (int w = 0; w < 3; ++w) t.time(copy, 1, counter);
  std::vector<double> v;
  for (int r = 0; r < 10; ++r) v.push_back(t.time(copy, 1, counter));
  return 2.0 * static_cast<double>(bytes) / stats_of(v).median / 1e9;
}

}  // namespace repro::bench::cuda_timing
