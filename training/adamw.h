#pragma once
// AdamW (decoupled weight decay, Loshchilov & Hutter) over a list of parameter tensors, with its
// state exposed as named tensors so a checkpoint can save and restore it exactly.
// (libtorch's torch::optim::AdamW keeps its state behind a serialization API that differs between
// 1.13 and 2.x; this one is twenty lines and identical everywhere.)

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace repro {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double weight_decay = 0.1;
};

class AdamW {
 public:
  // `params`: name -> tensor (requires_grad set); `decay`: names that get weight decay (matrices,
  // not norms or embeddings by the usual convention).
  AdamW(std::map<std::string, at::Tensor> params, std::vector<std::string> decay, AdamWOptions options);

  // One update with learning rate `lr` from the parameters' .grad(); grads are left untouched.
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return step_; }

  // State as named tensors ("m.<name>", "v.<name>") plus the step count, for checkpoints.
  std::map<std::string, at::Tensor> state() const;
  void load_state(const std::map<std::string, at::Tensor>& state, int64_t step);

 private:
  std::map<std::string, at::Tensor> params_, m_, v_;
  std::map<std::string, bool> decay_;
  AdamWOptions o_;
  int64_t step_ = 0;
};

// Linear warmup to `peak` over `warmup` steps, then cosine decay to `floor` at `total` steps.
double warmup_cosine_lr(int64_t step, int64_t warmup, int64_t total, double peak, double floor);

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before clipping.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace repro
