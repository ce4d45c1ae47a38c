#pragma once
// Helpers for the kernel tests: random inputs as tensors, and an elementwise check of a kernel's
// output against a reference with the fp32 error bound of a dot product.

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernel_options.h"
#include "tests/catch.h"

namespace repro::test {

// The instruction sets this CPU runs: scalar always, AVX2 when present.
inline std::vector<kernels::Isa> available_isas() {
  std::vector<kernels::Isa> out = {kernels::Isa::kScalar};
  if (kernels::cpu_has_avx2_fma()) out.push_back(kernels::Isa::kAvx2);
  return out;
}

// y and ref: [batch, rows] fp32. magnitude: [batch, rows], sum_k |w_ok| |x_bk| (or a larger
// per-output bound of the terms' sizes): an fp32 dot product of K terms is off by at most about
// K eps times it, and by far less on random data; 1e-5 of it catches any wrong weight or index.
inline void check_close(const at::Tensor& y, const at::Tensor& ref, const at::Tensor& magnitude,
                        const std::string& what, double rel = 1e-5) {
  INFO(what);
  REQUIRE(y.sizes() == ref.sizes());
  at::Tensor err = (y.to(at::kDouble) - ref.to(at::kDouble)).abs();
  at::Tensor bound = magnitude.to(at::kDouble) * rel + 1e-6;
  at::Tensor bad = err > bound;
  const int64_t n_bad = bad.sum().item<int64_t>();
  if (n_bad > 0) {
    const int64_t i = bad.flatten().nonzero()[0].item<int64_t>();
    INFO("first mismatch at flat index " << i << ": got " << y.flatten()[i].item<float>() << ", want "
                                         << ref.flatten()[i].item<float>() << " (bound "
                                         << bound.flatten()[i].item<double>() << ")");
    CHECK(n_bad == 0);
  } else {
    CHECK(n_bad == 0);
  }
}

// x: [batch, cols] fp32 in [-1, 1] with a few large entries (activation outliers).
inline at::Tensor random_input(int64_t batch, int64_t cols, at::Generator& g) {
  at::Tensor x = at::rand({batch, cols}, g) * 2 - 1;
  if (cols > 3) x.index_put_({at::indexing::Slice(), cols / 3}, 20.0);
  return x.contiguous();
}

}  // namespace repro::test
