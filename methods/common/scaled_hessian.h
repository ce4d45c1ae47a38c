#pragma once
// The diagonally rescaled Hessian used by the ADMM solvers (ALPS, 3BASiL, ADMM-Q;
// ALPS, arXiv 2406.07831; mazumder-lab/ALPS): s_j = sqrt(H_jj) + eps, Hs = D^-1 H D^-1 (unit diagonal),
// variables Z = D W^T [in, out], and one fp64 eigendecomposition of Hs so that (Hs + rho I)^{-1} is
// cheap to rebuild whenever rho changes.

#include <cstdint>
#include <deque>
#include <map>

#include <ATen/core/Tensor.h>

namespace repro {

class ScaledHessian {
 public:
  // H: [in, in] fp32, damped, any device. eps: added to sqrt(diag H) (1e-9 in ALPS/3BASiL).
  explicit ScaledHessian(const at::Tensor& H, double eps = 1e-9);

  const at::Tensor& s() const { return s_; }    // [in] fp32
  const at::Tensor& Hs() const { return Hs_; }  // [in, in] fp32, unit diagonal
  const at::Tensor& eigenvalues() const { return lam_; }  // [in] fp64, ascending

  // Z = D W^T: W [out, in] -> [in, out] fp32.
  at::Tensor to_scaled(const at::Tensor& W) const;
  // W = (D^-1 Z)^T: Z [in, out] -> [out, in] fp32.
  at::Tensor from_scaled(const at::Tensor& Z) const;

  // (Hs + rho I)^{-1} = Q diag(1 / (lam + rho)) Q^T, built in fp64 and returned fp32 [in, in].
  // Remembered per rho (the ADMM schedules revisit the same values, within a solve and across the
  // S steps of HASSLE-free that share one ScaledHessian): at most kInverseCacheBytes of them,
  // oldest dropped first. The returned tensor is shared: do not modify it in place.
  at::Tensor regularized_inverse(double rho) const;
  static constexpr int64_t kInverseCacheBytes = int64_t{256} << 20;

 private:
  at::Tensor s_, Hs_, lam_, Q_;  // Q_: fp64 eigenvectors
  mutable std::map<double, at::Tensor> inverses_;
  mutable std::deque<double> inverse_order_;  // insertion order, for eviction
};

}  // namespace repro
