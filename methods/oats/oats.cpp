// OATS (Zhang & Papyan, ICLR 2025; stephenqz/OATS): sparse + low-rank by alternating thresholding
// of W Dw, where Dw = diag(||X_j||) is Wanda's input scaling. Code: stephenqz/OATS.

#include <fmt/format.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/intra_op.h"
#include "methods/common/low_rank.h"
#include "methods/common/rank_r_svd.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {
namespace {

class Oats final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "oats";
      i.family = LayerCompressor::kFamily;
      i.summary = "OATS: sparse + low-rank by alternating truncated SVD and row-wise hard thresholding of W Dw";
      i.paper = "Zhang & Papyan, ICLR 2025, arXiv 2409.13652";
      i.version = "1";
      i.params = sparsity_params();
      i.params.push_back(rank_param());
      i.params.push_back(
          param_int("iterations", 80, "alternating iterations (80 in the paper, 40 in the 3BASiL runs)").at_least(1));
      i.params.push_back(svd_param("exact"));  // the OATS code takes a full SVD every iteration
      for (ParamSpec p : budget_params()) i.params.push_back(p);
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    spec_ = sparsity_pattern(params);
    rank_ = params.get_int("rank");
    iterations_ = params.get_int("iterations");
    svd_mode_ = read_svd_mode(params);
    budget_ = read_budget(params, spec_);
  }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    at::Tensor W = problem.W.to(at::kFloat);
    const int64_t out = W.size(0), in = W.size(1);
    check_pattern_fits(spec_, out, in, problem.name);
    // Under a compression budget (OATS's own rule) the layer's rank and row sparsity come from its shape.
    SparsitySpec spec = spec_;
    int64_t rank = rank_;
    if (budget_.active()) {
      const SlrSplit split = budget_split(budget_, spec_, out, in, problem.name);
      rank = split.rank;
      spec.sparsity = split.sparsity;
    }
    check_rank_fits("oats", rank, out, in, problem.name);

    // Dw = sqrt(diag H) ∝ ||X_j||. A dead input (0) is scaled to 0, and its column of S and L is
    // set to 0 on the way back (pseudo-inverse): such weights never affect the output.
    SerialIntraOp serial(W.is_cpu());  // elementwise work is small next to the GEMMs; see intra_op.h
    at::Tensor dw = problem.hessian().diagonal().to(at::kFloat).clamp_min(0).sqrt();
    at::Tensor dw_inv = at::where(dw > 0, dw.reciprocal(), at::zeros_like(dw));
    at::Tensor Ws = W * dw.unsqueeze(0);

    at::Tensor Sp = at::zeros_like(Ws), mask;
    TruncatedSvd svd;
    RankRSvd rank_r(rank, svd_mode_, ctx.generator("oats"));
    auto progress = ctx.progress("oats " + problem.name, iterations_);
    for (int64_t it = 0; it < iterations_; ++it, progress->advance()) {
      svd = rank_r(Ws - Sp);
      at::Tensor Lp = at::matmul(svd.U * svd.S.unsqueeze(0), svd.Vh);
      at::Tensor R = Ws - Lp;
      mask = select_mask(R.abs(), spec, UnstructuredScope::Row, ctx);
      Sp = R.mul_(mask);
    }
    progress->finish();
    LowRankFactors lr = balanced_factors(svd);
    CompressedLinear c;
    c.set_sparse(Sp * dw_inv.unsqueeze(0), mask);
    c.set_low_rank(lr.B, lr.A * dw_inv.unsqueeze(0));
    if (spec_.pattern.nm) c.set_pattern(spec_.pattern.n, spec_.pattern.m);
    return c;
  }

 private:
  SparsitySpec spec_;
  int64_t rank_ = 64;
  int64_t iterations_ = 80;
  SvdMode svd_mode_ = SvdMode::Exact;
  SlrBudget budget_;
};

REPRO_REGISTER_METHOD(LayerCompressor, Oats);

}  // namespace
}  // namespace repro
