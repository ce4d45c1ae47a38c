#pragma once
// The STREAM triad a[i] = b[i] + s c[i] (McCalpin's STREAM benchmark, "Triad"), on fp32 buffers and
// the kernels' thread pool: the memory-bandwidth yardstick that kernel speeds are reported against.

#include <cstdint>

namespace repro::kernels {

// a, b, c: [n] fp32. threads: 0 for OpenMP's default.
void stream_triad(float* a, const float* b, const float* c, float s, int64_t n, int threads = 0);

}  // namespace repro::kernels
