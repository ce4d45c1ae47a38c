#include "methods/common/low_rank.h"

#include <algorithm>
#include <cmath>

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

std::vector<ParamSpec> budget_params() {
  return {
      param_float("compression", 0.0,
                  "total fraction of each layer's parameters removed (sparse nonzeros + low-rank factors); "
                  "> 0 derives each layer's rank (and unstructured sparsity) from its shape, 0 keeps `rank`")
          .at_least(0.0)
          .below(1.0)
          .quiet_at_default(),
      param_float("rank_ratio", 0.3,
                  "unstructured budget: the low-rank share of the kept parameters (HASSLE-free scripts: 0.3)")
          .above(0.0)
          .below(1.0)
          .quiet_at_default(),
  };
}

SlrBudget read_budget(const Params& params, const SparsitySpec& spec) {
  SlrBudget b;
  b.compression = params.get_float("compression");
  b.rank_ratio = params.get_float("rank_ratio");
  if (!b.active()) return b;
  if (spec.pattern.nm) {
    const double density = static_cast<double>(spec.pattern.n) / static_cast<double>(spec.pattern.m);
    if (1.0 - b.compression <= density)
      params.fail("compression",
                  fmt::format("compression {} keeps {:.3g} of each layer, but the {}:{} part alone keeps {:.3g}: "
                              "no room for a low-rank part (use a smaller compression or a sparser pattern)",
                              b.compression, 1.0 - b.compression, spec.pattern.n, spec.pattern.m, density));
  }
  return b;
}

SlrSplit budget_split(const SlrBudget& budget, const SparsitySpec& spec, int64_t out, int64_t in,
                      const std::string& layer) {
  REPRO_ASSERT(budget.active(), "budget_split without a compression budget");
  const double per_rank = static_cast<double>(out) * static_cast<double>(in) / static_cast<double>(out + in);
  SlrSplit s;
  if (spec.pattern.nm) {
    const double density = static_cast<double>(spec.pattern.n) / static_cast<double>(spec.pattern.m);
    s.rank = static_cast<int64_t>(std::floor((1.0 - budget.compression - density) * per_rank));
    s.sparsity = 1.0 - density;
  } else {
    s.rank = static_cast<int64_t>(std::floor(budget.rank_ratio * (1.0 - budget.compression) * per_rank));
    s.sparsity = 1.0 - (1.0 - budget.compression) * (1.0 - budget.rank_ratio);
  }
  if (s.rank < 1)
    throw NotSupported(fmt::format("compression {} leaves layer '{}' ([{}, {}]) a rank below 1", budget.compression,
                                   layer, out, in));
  s.rank = std::min(s.rank, std::min(out, in));
  return s;
}

}  // namespace repro
