#include "training/adamw.h"

#include <ATen/ATen.h>

#include <cmath>

#include <ATen/core/grad_mode.h>

#include "core/error.h"

namespace repro {

AdamW::AdamW(std::map<std::string, at::Tensor> params, std::vector<std::string> decay, AdamWOptions options)
    : params_(std::move(params)), o_(options) {
  for (const auto& [name, p] : params_) {
    m_[name] = at::zeros_like(p, p.options().dtype(at::kFloat));
    v_[name] = at::zeros_like(p, p.options().dtype(at::kFloat));
    decay_[name] = false;
  }
  for (const auto& n : decay) {
    REPRO_ASSERT(decay_.count(n), "weight decay for unknown parameter " + n);
    decay_[n] = true;
  }
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  ++step_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(step_));
  for (auto& [name, p] : params_) {
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    at::Tensor gf = g.to(at::kFloat);
    at::Tensor& m = m_[name];
    at::Tensor& v = v_[name];
    m.mul_(o_.beta1).add_(gf, 1.0 - o_.beta1);
    v.mul_(o_.beta2).addcmul_(gf, gf, 1.0 - o_.beta2);
    if (decay_[name] && o_.weight_decay > 0) p.mul_(1.0 - lr * o_.weight_decay);
    at::Tensor denom = (v / bc2).sqrt_().add_(o_.eps);
    p.add_((m / denom).to(p.scalar_type()), -lr / bc1);
  }
}

std::map<std::string, at::Tensor> AdamW::state() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, t] : m_) out["m." + name] = t;
  for (const auto& [name, t] : v_) out["v." + name] = t;
  return out;
}

void AdamW::load_state(const std::map<std::string, at::Tensor>& state, int64_t step) {
  for (auto& [name, t] : m_) {
    auto it = state.find("m." + name);
    REPRO_ASSERT(it != state.end(), "optimizer state lacks m." + name);
    t.copy_(it->second);
  }
  for (auto& [name, t] : v_) {
    auto it = state.find("v." + name);
    REPRO_ASSERT(it != state.end(), "optimizer state lacks v." + name);
    t.copy_(it->second);
  }
  step_ = step;
}

double warmup_cosine_lr(int64_t step, int64_t warmup, int64_t total, double peak, double floor) {
  if (step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (step >= total) return floor;
  double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return floor + 0.5 * (peak - floor) * (1.0 + std::cos(M_PI * progress));
}

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  double total = 0.0;
  for (const auto& p : params)
    if (p.grad().defined()) total += p.grad().to(at::kFloat).pow(2).sum().item<double>();
  double norm = std::sqrt(total);
  if (norm > max_norm && norm > 0) {
    double scale = max_norm / (norm + 1e-6);
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(scale);
  }
  return norm;
}

}  // namespace repro
