#include "methods/common/rank_r_svd.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"

namespace repro {

ParamSpec svd_param(const std::string& def) {
  return param_string("svd", def,
                      "rank-r SVD of each iteration: 'exact' (full SVD, truncated) or 'rank_r' (warm-started "
                      "randomized subspace iteration, much faster for r << min(out, in))",
                      {"exact", "rank_r"});
}

SvdMode read_svd_mode(const Params& params) {
  return params.get_string("svd") == "rank_r" ? SvdMode::RankR : SvdMode::Exact;
}

RankRSvd::RankRSvd(int64_t r, SvdMode mode, at::Generator gen, RankROptions opts)
    : r_(r), mode_(mode), gen_(std::move(gen)), opts_(opts) {
  REPRO_ASSERT(r >= 1, "RankRSvd: rank must be >= 1");
}

namespace {
at::Tensor orthonormal(const at::Tensor& Y) { return std::get<0>(at::linalg_qr(Y, "reduced")); }
}  // namespace

TruncatedSvd RankRSvd::operator()(const at::Tensor& M) {
  REPRO_ASSERT(M.dim() == 2 && r_ <= std::min(M.size(0), M.size(1)), "RankRSvd: rank exceeds the matrix");
  const int64_t k = std::min(r_ + opts_.oversample, std::min(M.size(0), M.size(1)));
  if (mode_ == SvdMode::Exact || k >= std::min(M.size(0), M.size(1))) return truncated_svd(M, r_);
  int64_t iters = opts_.warm_iters;
  if (!basis_.defined() || basis_.size(0) != M.size(1) || basis_.size(1) != k) {
    basis_ = at::randn({M.size(1), k}, gen_, M.options().device(at::kCPU)).to(M.device());
    iters = opts_.power_iters;
  }
  // Range finder with re-orthonormalization after every product (Halko et al. Alg. 4.4).
  at::Tensor Q = orthonormal(at::matmul(M, basis_));  // [rows, k]
  for (int64_t i = 0; i < iters; ++i) {
    at::Tensor P = orthonormal(at::matmul(M.t(), Q));  // [cols, k]
    Q = orthonormal(at::matmul(M, P));
  }
  at::Tensor B = at::matmul(Q.t(), M);  // [k, cols]
  auto [Ub, S, Vh] = at::linalg_svd(B, /*full_matrices=*/false);
  basis_ = Vh.t().contiguous();  // [cols, k]: the next call's start
  at::Tensor U = at::matmul(Q, Ub.narrow(1, 0, r_));
  return {U.contiguous(), S.narrow(0, 0, r_).contiguous(), Vh.narrow(0, 0, r_).contiguous()};
}

LowRankFactors weighted_low_rank(const at::Tensor& R, const HessianEigen& eig, RankRSvd& svd) {
  return weighted_low_rank_with(R, eig, [&](const at::Tensor& M) { return svd(M); });
}

}  // namespace repro
