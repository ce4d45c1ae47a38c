#pragma once
// Truncated SVDs and the Hessian-weighted reduced-rank regression (RRR: the closed-form low-rank
// step of 3BASiL, arXiv 2603.01376, and of EoRA). A rank-r term is stored as L = B A with B [out, r] and A [r, in].

#include <cstdint>
#include <functional>
#include <string>

#include <ATen/ATen.h>

#include "core/params.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {

struct LowRankFactors {
  at::Tensor B;  // [out, r] fp32
  at::Tensor A;  // [r, in] fp32
  at::Tensor product() const { return at::matmul(B, A); }  // [out, in]
};

struct TruncatedSvd {
  at::Tensor U;   // [rows, r]
  at::Tensor S;   // [r], descending
  at::Tensor Vh;  // [r, cols]
};

// The top-r singular triplets of M from an exact (deterministic) SVD. M: [rows, cols] fp32, any
// device; r <= min(rows, cols). Computed in M's dtype.
TruncatedSvd truncated_svd(const at::Tensor& M, int64_t r);

// Balanced factors of a truncated SVD: B = U sqrt(S), A = sqrt(S) Vh.
LowRankFactors balanced_factors(const TruncatedSvd& svd);

// The eigendecomposition of a damped Hessian, H = Q diag(sq^2) Q^T (fp64 eigh, stored fp32).
struct HessianEigen {
  at::Tensor Q;   // [in, in] fp32, orthonormal columns
  at::Tensor sq;  // [in] fp32, sqrt of the (clamped >= 0) eigenvalues
};
// H: [in, in] fp32, damped (so that its eigenvalues are safely positive).
HessianEigen hessian_eigen(const at::Tensor& H);

// argmin over rank-r L of tr((R - L) H (R - L)^T): L^T = H^{-1/2} TruncSVD_r(H^{1/2} R^T), with an
// exact SVD (the reference uses a randomized one; see the spec). R: [out, in] fp32; r <= min(out, in).
LowRankFactors weighted_low_rank(const at::Tensor& R, const HessianEigen& eig, int64_t r);
// The same with the inner truncated SVD of M = diag(sq) Q^T R^T [in, out] taken by `svd` (its rank
// is the result's rank): see rank_r_svd.h for the warm-started randomized one.
LowRankFactors weighted_low_rank_with(const at::Tensor& R, const HessianEigen& eig,
                                      const std::function<TruncatedSvd(const at::Tensor&)>& svd);

// The `rank` parameter of every sparse + low-rank method (>= 1).
ParamSpec rank_param(int64_t def = 64);
// Throws NotSupported when a rank-r term does not fit an [out, in] layer (r > min(out, in)).
void check_rank_fits(const std::string& method, int64_t rank, int64_t out, int64_t in, const std::string& layer);

// The fixed-compression budget of the HASSLE-free and OATS code (mazumder-lab/HASSLE-free
// src/run_llama.py and src/models/lora_utils.py; stephenqz/OATS): instead of a fixed rank, the row
// gives a total compression c (fraction of a layer's parameters removed) and each layer's rank and
// sparse part are derived from its shape, so that nnz(S) + r (out + in) ~= (1 - c) out in:
//   unstructured: r = floor(kappa (1 - c) out in / (out + in)), sparsity p = 1 - (1 - c)(1 - kappa),
//                 kappa = rank_ratio (0.3 in the HASSLE-free scripts, 0.25 / 0.3 in OATS);
//   N:M:          the N:M part keeps N/M, the low rank gets the rest:
//                 r = floor((1 - c - N/M) out in / (out + in)).
// compression = 0 (the default) keeps the row's fixed `rank` and `sparsity`.
struct SlrBudget {
  double compression = 0.0;
  double rank_ratio = 0.3;
  bool active() const { return compression > 0.0; }
};
struct SlrSplit {
  int64_t rank = 0;
  double sparsity = 0.0;  // the unstructured sparse part's sparsity (N:M: 1 - N/M)
};
// The `compression` and `rank_ratio` parameters.
std::vector<ParamSpec> budget_params();
// Reads them; ConfigError (through params.fail) when an N:M pattern alone keeps the budget or more
// (no room for a low-rank part). Under a budget the row's `rank` and unstructured `sparsity` are
// not used: budget_split() decides them per layer.
SlrBudget read_budget(const Params& params, const SparsitySpec& spec);
// One layer's rank and sparsity under the budget. NotSupported when the layer's share rounds to rank 0.
SlrSplit budget_split(const SlrBudget& budget, const SparsitySpec& spec, int64_t out, int64_t in,
                      const std::string& layer);

}  // namespace repro
