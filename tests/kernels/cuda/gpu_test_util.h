#pragma once
// Helpers for the [cuda] kernel tests: skip (pass with a warning) without a device, fp16 buffers
// from tensors and back, and an elementwise check against a reference with an fp16 bound.
#if defined(REPRO_HAVE_CUDA_KERNELS)

#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/host_device.h"
#include "tests/catch.h"

// Passes with a message when the runtime sees no CUDA device (Catch2 v2 has no SKIP).
#define REPRO_REQUIRE_CUDA_DEVICE()                                       \
  do {                                                                    \
    if (::repro::kernels::gpu::cuda_device_count() == 0) {                \
      WARN("no CUDA device (cudaGetDeviceCount reports none): skipped");  \
      return;                                                             \
    }                                                                     \
  } while (0)

namespace repro::test {

// fp32 tensor -> its values rounded to fp16 (as a tensor) and a device copy.
struct HalfTensor {
  at::Tensor rounded;                         // fp32, the exact values the device holds
  kernels::gpu::DeviceBuffer<__half> device;  // same shape, contiguous
};

inline HalfTensor to_device_half(const at::Tensor& t) {
  at::Tensor c = t.to(at::kFloat).contiguous();
  std::vector<uint16_t> bits(c.numel());
  at::Tensor rounded = at::empty_like(c);
  for (int64_t k = 0; k < c.numel(); ++k) {
    bits[k] = kernels::gpu::float_to_half_bits(c.data_ptr<float>()[k]);
    rounded.data_ptr<float>()[k] = kernels::gpu::half_bits_to_float(bits[k]);
  }
  HalfTensor h{rounded, kernels::gpu::DeviceBuffer<__half>(bits.size())};
  h.device.upload(reinterpret_cast<const __half*>(bits.data()), bits.size());
  return h;
}

// A device fp16 buffer -> fp32 tensor of `shape`.
inline at::Tensor from_device_half(const kernels::gpu::DeviceBuffer<__half>& d, at::IntArrayRef shape) {
  const std::vector<__half> h = d.download();
  at::Tensor out = at::empty(shape);
  REQUIRE(static_cast<int64_t>(h.size()) == out.numel());
  for (size_t k = 0; k < h.size(); ++k) {
    uint16_t b;
    std::memcpy(&b, &h[k], sizeof b);
    out.data_ptr<float>()[k] = kernels::gpu::half_bits_to_float(b);
  }
  return out;
}

// got vs want elementwise within 2^-10 |want| (fp16 output rounding, with room for the fp16
// intermediate of a two-step product) + rel * magnitude (fp32 accumulation of the terms) + 1e-4.
inline void check_half_close(const at::Tensor& got, const at::Tensor& want, const at::Tensor& magnitude,
                             const std::string& what, double rel = 1e-3) {
  INFO(what);
  REQUIRE(got.sizes() == want.sizes());
  at::Tensor err = (got.to(at::kDouble) - want.to(at::kDouble)).abs();
  at::Tensor bound = want.to(at::kDouble).abs() * std::ldexp(1.0, -10) + magnitude.to(at::kDouble) * rel + 1e-4;
  at::Tensor bad = err > bound;
  const int64_t n_bad = bad.sum().item<int64_t>();
  if (n_bad > 0) {
    const int64_t i = bad.flatten().nonzero()[0].item<int64_t>();
    INFO("first mismatch at flat index " << i << ": got " << got.flatten()[i].item<float>() << ", want "
                                         << want.flatten()[i].item<float>() << " (bound "
                                         << bound.flatten()[i].item<double>() << "); " << n_bad << " bad");
    CHECK(n_bad == 0);
  } else {
    CHECK(n_bad == 0);
  }
}

}  // namespace repro::test

#endif  // REPRO_HAVE_CUDA_KERNELS
