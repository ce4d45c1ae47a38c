#pragma once
// A minimal Adam (Kingma & Ba 2015, arXiv 1412.6980, Alg. 1; no weight decay, no amsgrad: the
// torch.optim.Adam defaults the S+LR reference codes use) over a list of tensors, for plugins that
// train a few tensors: transformer matching (3BASiL §3.3) and HASSLE-free's gradient low-rank step.
// Either from the tensors' .grad() (autograd) or from gradients the caller computed.

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace repro {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
};

class Adam {
 public:
  // params: tensors updated in place (any shapes, devices, float dtypes; kept by reference).
  Adam(std::vector<at::Tensor> params, AdamOptions opts);

  // One step with the given gradients (one per parameter, same shapes; undefined = no gradient).
  void step(const std::vector<at::Tensor>& grads);
  // One step with each parameter's .grad(), then zeroes those gradients.
  void step();

  void set_lr(double lr) { opts_.lr = lr; }
  double lr() const { return opts_.lr; }
  int64_t steps() const { return t_; }

 private:
  std::vector<at::Tensor> params_, m_, v_;
  AdamOptions opts_;
  int64_t t_ = 0;
};

// torch.optim.lr_scheduler.CosineAnnealingLR's closed form at epoch e:
// eta_min + (lr0 - eta_min) (1 + cos(pi e / t_max)) / 2.
double cosine_annealing_lr(double lr0, double eta_min, int64_t e, int64_t t_max);

}  // namespace repro
