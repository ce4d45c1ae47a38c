#include "training/dp/momentum_sgd.h"

#include <ATen/ATen.h>

#include <ATen/core/grad_mode.h>

#include "core/error.h"

namespace repro::dp {

void MomentumSgd::step(const std::string& key, at::Tensor& param, const at::Tensor& grad, double lr, double momentum,
                       const at::Tensor& mask) {
  at::NoGradGuard no_grad;
  REPRO_ASSERT(grad.sizes() == param.sizes(), "MomentumSgd: gradient of '" + key + "' has the wrong shape");
  at::Tensor direction = grad;
  if (momentum != 0.0) {
    auto it = buffers_.find(key);
    if (it == buffers_.end()) {
      it = buffers_.emplace(key, grad.detach().clone()).first;
    } else {
      it->second.mul_(momentum).add_(grad);
    }
    direction = it->second;
  }
  if (mask.defined()) {
    REPRO_ASSERT(mask.scalar_type() == at::kBool && mask.sizes() == param.sizes(),
                 "MomentumSgd: the mask of '" + key + "' must be bool of the parameter's shape");
    // Filled with +0, and p + (-lr) * (+0) = p bitwise for every p (signed zeros and NaN included),
    // so coordinates outside the mask never change.
    direction = direction.masked_fill(mask.logical_not(), 0.0);
  }
  param.add_(direction, -lr);
}

}  // namespace repro::dp
