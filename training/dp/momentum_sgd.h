#pragma once
// SGD with momentum as torch.optim.SGD computes it (dampening 0, no Nesterov, no weight decay —
// SPARTA's settings, mazumder-lab/SPARTA src/utils/train_utils.py: use_finetune_optimizer):
//   buf = g (first step), buf = momentum * buf + g (later steps);  p -= lr * buf
// with the momentum of each step given by the caller (OneCycle cycles it), plus an optional update
// mask for masked fine-tuning: coordinates outside the mask are left bitwise unchanged.

#include <map>
#include <string>

#include <ATen/core/Tensor.h>

namespace repro::dp {

class MomentumSgd {
 public:
  // param: a parameter (updated in place, without autograd); grad: its shape and device; mask:
  // undefined, or bool of param's shape (true = may change). `key` names the momentum buffer.
  // momentum 0 keeps no buffer (p -= lr g), as torch does.
  void step(const std::string& key, at::Tensor& param, const at::Tensor& grad, double lr, double momentum,
            const at::Tensor& mask = {});

  // Forgets every momentum buffer (SPARTA clears them when its mask changes).
  void clear() { buffers_.clear(); }
  bool has_buffer(const std::string& key) const { return buffers_.count(key) != 0; }

 private:
  std::map<std::string, at::Tensor> buffers_;
};

}  // namespace repro::dp
