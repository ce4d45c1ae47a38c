#include "methods/common/scaled_hessian.h"

#include <algorithm>

#include <ATen/ATen.h>

#include "core/error.h"

namespace repro {

ScaledHessian::ScaledHessian(const at::Tensor& H, double eps) {
  REPRO_ASSERT(H.dim() == 2 && H.size(0) == H.size(1), "ScaledHessian: H must be square");
  at::Tensor Hf = H.to(at::kFloat);
  s_ = Hf.diagonal().clamp_min(0).sqrt().add_(eps);
  at::Tensor inv = s_.reciprocal();
  Hs_ = (Hf * inv.unsqueeze(0)).mul_(inv.unsqueeze(1)).contiguous();
  auto [lam, Q] = at::linalg_eigh(Hs_.to(at::kDouble));
  lam_ = lam;
  Q_ = Q;
}

at::Tensor ScaledHessian::to_scaled(const at::Tensor& W) const {
  return (W.to(at::kFloat).t() * s_.unsqueeze(1)).contiguous();
}

at::Tensor ScaledHessian::from_scaled(const at::Tensor& Z) const {
  return (Z / s_.unsqueeze(1)).t().contiguous();
}

at::Tensor ScaledHessian::regularized_inverse(double rho) const {
  auto it = inverses_.find(rho);
  if (it != inverses_.end()) return it->second;
  at::Tensor d = (lam_ + rho).reciprocal_();
  at::Tensor inv = at::matmul(Q_ * d.unsqueeze(0), Q_.t()).to(at::kFloat);
  const int64_t bytes = inv.numel() * static_cast<int64_t>(sizeof(float));
  const auto capacity = static_cast<size_t>(std::max<int64_t>(1, kInverseCacheBytes / std::max<int64_t>(bytes, 1)));
  while (inverse_order_.size() >= capacity) {
    inverses_.erase(inverse_order_.front());
    inverse_order_.pop_front();
  }
  inverses_.emplace(rho, inv);
  inverse_order_.push_back(rho);
  return inv;
}

}  // namespace repro
