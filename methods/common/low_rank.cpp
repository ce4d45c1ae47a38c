#include "methods/common/low_rank.h"

#include <fmt/format.h>

#include <ATen/ATen.h>

#include "core/error.h"

namespace repro {

TruncatedSvd truncated_svd(const at::Tensor& M, int64_t r) {
  REPRO_ASSERT(M.dim() == 2 && r >= 0 && r <= std::min(M.size(0), M.size(1)), "truncated_svd: bad rank");
  auto [U, S, Vh] = at::linalg_svd(M, /*full_matrices=*/false);
  return {U.narrow(1, 0, r).contiguous(), S.narrow(0, 0, r).contiguous(), Vh.narrow(0, 0, r).contiguous()};
}

LowRankFactors balanced_factors(const TruncatedSvd& svd) {
  at::Tensor s = svd.S.clamp_min(0).sqrt();
  return {svd.U * s.unsqueeze(0), svd.Vh * s.unsqueeze(1)};
}

HessianEigen hessian_eigen(const at::Tensor& H) {
  REPRO_ASSERT(H.dim() == 2 && H.size(0) == H.size(1), "hessian_eigen: H must be square");
  auto [lam, Q] = at::linalg_eigh(H.to(at::kDouble));
  return {Q.to(at::kFloat).contiguous(), lam.clamp_min(0).sqrt().to(at::kFloat)};
}

LowRankFactors weighted_low_rank(const at::Tensor& R, const HessianEigen& eig, int64_t r) {
  return weighted_low_rank_with(R, eig, [r](const at::Tensor& M) { return truncated_svd(M, r); });
}

LowRankFactors weighted_low_rank_with(const at::Tensor& R, const HessianEigen& eig,
                                      const std::function<TruncatedSvd(const at::Tensor&)>& svd_of) {
  REPRO_ASSERT(R.dim() == 2 && R.size(1) == eig.Q.size(0), "weighted_low_rank: shapes");
  // M = diag(sq) Q^T R^T  [in, out]
  at::Tensor M = at::matmul(eig.Q.t(), R.t()).mul_(eig.sq.unsqueeze(1));
  TruncatedSvd svd = svd_of(M);  // M ~ P diag(c) Qv^T
  at::Tensor c = svd.S.clamp_min(0).sqrt();
  // A = (Q diag(1/sq) P_r diag(sqrt c))^T [r, in]; B = Qv_r diag(sqrt c) [out, r].
  at::Tensor inv_sq = eig.sq.reciprocal();
  at::Tensor A = at::matmul(eig.Q, svd.U.mul(inv_sq.unsqueeze(1))).mul_(c.unsqueeze(0)).t().contiguous();
  at::Tensor B = svd.Vh.t().mul(c.unsqueeze(0)).contiguous();
  return {B, A};
}

ParamSpec rank_param(int64_t def) { return param_int("rank", def, "rank of the low-rank part").at_least(1); }

void check_rank_fits(const std::string& method, int64_t rank, int64_t out, int64_t in, const std::string& layer) {
  if (rank > std::min(out, in))
    throw NotSupported(fmt::format("{}: rank {} exceeds min(out, in) = {} of layer '{}'", method, rank,
                                   std::min(out, in), layer));
}

}  // namespace repro
