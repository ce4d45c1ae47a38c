#include "suites/engine/hessian_accumulator.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace repro {

HessianAccumulator::HessianAccumulator(int64_t in_features, c10::Device device)
    : H_(at::zeros({in_features, in_features}, at::TensorOptions().dtype(at::kFloat).device(device))) {}

void HessianAccumulator::add(const at::Tensor& x) {
  REPRO_ASSERT(H_.defined(), "HessianAccumulator used before construction");
  REPRO_ASSERT(x.size(-1) == H_.size(0), "input width does not match the Hessian");
  const int64_t b = x.dim() >= 3 ? x.size(0) : 1;
  at::Tensor X = x.reshape({-1, x.size(-1)}).to(H_.device(), at::kFloat);
  H_.mul_(static_cast<double>(n_) / static_cast<double>(n_ + b));
  n_ += b;
  // H += (2/n) X^T X, as one GEMM.
  H_.addmm_(X.t(), X, /*beta=*/1.0, /*alpha=*/2.0 / static_cast<double>(n_));
}

}  // namespace repro
