#pragma once
// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", arXiv 2302.06675, Alg. 2)
// over a list of tensors, with decoupled weight decay applied before the signed step, in the order
// of the lion-pytorch package that GSQ trains with (IST-DASLab/GSQ, src/trainer.py):
//   p <- p (1 - lr wd);  p <- p - lr sign(beta1 m + (1 - beta1) g);  m <- beta2 m + (1 - beta2) g.
// The state m lives in each parameter's dtype (bf16 parameters keep bf16 momentum, as lion-pytorch).

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace repro {

struct LionOptions {
  double lr = 1e-4;
  double beta1 = 0.9, beta2 = 0.99;  // lion-pytorch defaults; GSQ uses (0.9, 0.95)
  double weight_decay = 0.0;         // decoupled: p *= 1 - lr * weight_decay
};

class Lion {
 public:
  // params: tensors updated in place (any shapes, devices, float dtypes; kept by reference).
  Lion(std::vector<at::Tensor> params, LionOptions opts);

  // One step with the given gradients (one per parameter, same shapes; undefined = skip it, as
  // lion-pytorch skips parameters without a gradient).
  void step(const std::vector<at::Tensor>& grads);
  // One step with each parameter's .grad(), then zeroes those gradients.
  void step();

  void set_lr(double lr) { opts_.lr = lr; }
  double lr() const { return opts_.lr; }
  int64_t steps() const { return t_; }
  // The momentum m of parameter i (for tests).
  const at::Tensor& momentum(size_t i) const { return m_.at(i); }

 private:
  std::vector<at::Tensor> params_, m_;
  LionOptions opts_;
  int64_t t_ = 0;
};

}  // namespace repro
