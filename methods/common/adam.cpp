#include "methods/common/adam.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "core/error.h"

namespace repro {

Adam::Adam(std::vector<at::Tensor> params, AdamOptions opts) : params_(std::move(params)), opts_(opts) {
  for (const at::Tensor& p : params_) {
    m_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous).detach());
    v_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous).detach());
  }
}

void Adam::step(const std::vector<at::Tensor>& grads) {
  REPRO_ASSERT(grads.size() == params_.size(), "Adam::step: one gradient per parameter");
  at::NoGradGuard no_grad;
  ++t_;
  const double bc1 = 1.0 - std::pow(opts_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(opts_.beta2, static_cast<double>(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!grads[i].defined()) continue;
    at::Tensor g = grads[i].to(m_[i].scalar_type());
    m_[i].mul_(opts_.beta1).add_(g, 1.0 - opts_.beta1);
    v_[i].mul_(opts_.beta2).addcmul_(g, g, 1.0 - opts_.beta2);
    // p -= lr m_hat / (sqrt(v_hat) + eps), as torch.optim.Adam computes it.
    at::Tensor denom = (v_[i] / bc2).sqrt_().add_(opts_.eps);
    params_[i].addcdiv_(m_[i], denom, -opts_.lr / bc1);
  }
}

void Adam::step() {
  std::vector<at::Tensor> grads;
  for (at::Tensor& p : params_) grads.push_back(p.grad().defined() ? p.grad().detach() : at::Tensor());
  step(grads);
  for (at::Tensor& p : params_)
    if (p.grad().defined()) p.grad().zero_();
}

double cosine_annealing_lr(double lr0, double eta_min, int64_t e, int64_t t_max) {
  return eta_min + (lr0 - eta_min) * (1.0 + std::cos(M_PI * static_cast<double>(e) / static_cast<double>(t_max))) / 2.0;
}

}  // namespace repro
