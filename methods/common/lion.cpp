#include "methods/common/lion.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/error.h"

namespace repro {

Lion::Lion(std::vector<at::Tensor> params, LionOptions opts) : params_(std::move(params)), opts_(opts) {
  for (const at::Tensor& p : params_) m_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous).detach());
}

void Lion::step(const std::vector<at::Tensor>& grads) {
  REPRO_ASSERT(grads.size() == params_.size(), "Lion::step: one gradient per parameter");
  at::NoGradGuard no_grad;
  ++t_;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!grads[i].defined()) continue;
    at::Tensor g = grads[i].to(m_[i].scalar_type());
    if (opts_.weight_decay != 0.0) params_[i].mul_(1.0 - opts_.lr * opts_.weight_decay);
    // The update interpolates with beta1; the state then moves with beta2 (Lion's two betas).
    at::Tensor update = (m_[i] * opts_.beta1).add_(g, 1.0 - opts_.beta1).sign_();
    params_[i].add_(update.to(params_[i].scalar_type()), -opts_.lr);
    m_[i].mul_(opts_.beta2).add_(g, 1.0 - opts_.beta2);
  }
}

void Lion::step() {
  std::vector<at::Tensor> grads;
  for (at::Tensor& p : params_) grads.push_back(p.grad().defined() ? p.grad().detach() : at::Tensor());
  step(grads);
  for (at::Tensor& p : params_)
    if (p.grad().defined()) p.grad().zero_();
}

}  // namespace repro
