// HASSLE-free (Makni, Behdin, Xu, Ponomareva, Mazumder, CPAL 2025, PMLR v280 pp. 484-499,
// arXiv 2502.00899): sparse + low-rank by alternating minimization of the layer-wise
// reconstruction loss. The S step is a pruning solver (SparseGPT or ALPS) on W - L; the L step is
// either the closed-form H-weighted reduced-rank regression (the 3BASiL repo's re-implementation,
// mazumder-lab/3BASiL) or Adam on the scaled problem (the original code, mazumder-lab/HASSLE-free).

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/adam.h"
#include "methods/common/hessian.h"
#include "methods/common/hessian_memo.h"
#include "methods/common/intra_op.h"
#include "methods/common/layer_error.h"
#include "methods/common/low_rank.h"
#include "methods/common/pruner_step.h"
#include "methods/common/rank_r_svd.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {
namespace {

class HassleFree final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "hassle_free";
      i.family = LayerCompressor::kFamily;
      i.summary = "HASSLE-free: sparse + low-rank by alternating a pruning solver on W - L and a low-rank step on W - S";
      i.paper = "Makni, Behdin, Xu, Ponomareva, Mazumder, CPAL 2025, arXiv 2502.00899";
      i.version = "1";
      i.params = sparsity_params();
      for (ParamSpec p : {
               rank_param(),
               param_int("iterations", 80, "alternating-minimization iterations (80 in the paper, 40 in the 3BASiL runs)")
                   .at_least(1),
               param_string("lowrank_step", "rrr",
                            "'rrr': the closed-form H-weighted reduced-rank regression (exact L step); 'gd': Adam on "
                            "the scaled problem, warm-started (the original code)",
                            {"rrr", "gd"}),
               param_int("gd_iters", 50, "Adam steps of each 'gd' low-rank step").at_least(1),
               param_float("gd_lr", 1e-2, "'gd' learning rate at AM iteration it: gd_lr / (it + 10)").above(0),
               param_bool("keep_best", true, "return the best iterate (the original code) instead of the last"),
               pruner_param(),
               param_int("alps_max_iter", 200, "ADMM iterations of each ALPS S step (200 original, 100 3BASiL runs)")
                   .at_least(0),
               param_bool("alps_rho_growth", true,
                          "ALPS's initial rho grows with the AM iteration, 0.1 (5 it + 1) (original); false: 0.1"),
               svd_param("rank_r"),
           })
        i.params.push_back(p);
      for (ParamSpec p : budget_params()) i.params.push_back(p);
      for (ParamSpec p : damping_params(/*hess_diag=*/true)) i.params.push_back(p);
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    spec_ = sparsity_pattern(params);
    rank_ = params.get_int("rank");
    iterations_ = params.get_int("iterations");
    gd_ = params.get_string("lowrank_step") == "gd";
    gd_iters_ = params.get_int("gd_iters");
    gd_lr_ = params.get_float("gd_lr");
    keep_best_ = params.get_bool("keep_best");
    pruner_name_ = params.get_string("pruner");
    alps_max_iter_ = params.get_int("alps_max_iter");
    alps_rho_growth_ = params.get_bool("alps_rho_growth");
    svd_ = read_svd_mode(params);
    damping_ = read_damping(params);
    budget_ = read_budget(params, spec_);
    params_ = params;
    pruner_ = make_pruner(pruner_name_, params_, pruner_extra(0));
  }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    at::Tensor W = problem.W.to(at::kFloat);
    const int64_t out = W.size(0), in = W.size(1);
    check_pattern_fits(spec_, out, in, problem.name);
    // Under a compression budget this layer's rank and sparse part come from its shape.
    if (budget_.active()) {
      layer_ = budget_split(budget_, spec_, out, in, problem.name);
      pruner_ = make_pruner(pruner_name_, params_, pruner_extra(0));
    } else {
      layer_ = {rank_, spec_.effective_sparsity()};
    }
    const int64_t rank = layer_.rank;
    check_rank_fits("hassle_free", rank, out, in, problem.name);
    SerialIntraOp serial(W.is_cpu());
    // The pruner damps problem.H itself with the same damping parameters; the L step uses this copy.
    PreparedHessian h = prepare_hessian(problem.hessian(), damping_, ctx);
    const at::Tensor& H = h.H;
    HessianEigen eig;
    if (!gd_) eig = hessian_eigen(H);
    RankRSvd svd(rank, svd_, ctx.generator("hassle_free"));
    // Scaled quantities of the 'gd' step: s_j = sqrt(H_jj) + 1e-9, Hs = D^-1 H D^-1.
    at::Tensor s, Hs;
    if (gd_) {
      s = H.diagonal().clamp_min(0).sqrt().add_(1e-9);
      Hs = (H / s.unsqueeze(0)).div_(s.unsqueeze(1));
    }
    // L = B A with the PEFT LoRA init: A Kaiming-uniform (bound 1 / sqrt(in)), B = 0.
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    LowRankFactors L{at::zeros({out, rank}, W.options()),
                     at::rand({rank, in}, ctx.generator("hassle_free_init")).mul_(2 * bound).sub_(bound).to(W.device())};

    LayerProblem sub = problem;
    // Every S step solves on the same H: share its damped, scaled and factorized forms.
    if (!sub.memo) sub.memo = std::make_shared<HessianMemo>();
    CompressedLinear best_S;
    LowRankFactors best_L;
    double best = std::numeric_limits<double>::infinity();
    auto progress = ctx.progress("hassle_free " + problem.name, iterations_);
    for (int64_t it = 0; it < iterations_; ++it, progress->advance()) {
      // S step: prune W - L (a fresh mask every iteration).
      if (pruner_name_ == "alps" && alps_rho_growth_ && it > 0)
        pruner_ = make_pruner(pruner_name_, params_, pruner_extra(it));
      sub.W = W - L.product();
      CompressedLinear S = pruner_->compress(sub, ctx);
      at::Tensor R = W - S.sparse_values();
      // L step.
      if (gd_) L = adam_step(R, L, s, Hs, it, ctx);
      else L = weighted_low_rank(R, eig, svd);
      const double loss = 0.5 * layer_loss(W, S.sparse_values() + L.product(), H);
      if (!keep_best_ || loss < best || !std::isfinite(best)) {
        best = loss;
        best_S = std::move(S);
        best_L = L;
      }
    }
    progress->finish();
    CompressedLinear c;
    c.set_sparse(best_S.sparse_values(), best_S.mask());
    c.set_low_rank(best_L.B, best_L.A);
    if (spec_.pattern.nm) c.set_pattern(spec_.pattern.n, spec_.pattern.m);
    return c;
  }

 private:
  Value::Table pruner_extra(int64_t it) const {
    Value::Table t;
    if (budget_.active() && !spec_.pattern.nm) t["sparsity"] = Value(layer_.sparsity);
    if (pruner_name_ != "alps") return t;
    const double rho0 = alps_rho_growth_ ? 0.1 * (5.0 * static_cast<double>(it) + 1.0) : 0.1;
    t["max_iter"] = Value(alps_max_iter_);
    t["rho0"] = Value(rho0);
    return t;
  }

  // Adam on 1/2 tr((R_s - B A_s) Hs (R_s - B A_s)^T), R_s = R D, A_s = A D, warm-started at L, with
  // lr = gd_lr / (it + 10); on a non-finite loss, restart from the warm start with lr / 10.
  LowRankFactors adam_step(const at::Tensor& R, const LowRankFactors& L0, const at::Tensor& s, const at::Tensor& Hs,
                           int64_t it, RunContext& ctx) const {
    const at::Tensor Rs = R * s.unsqueeze(0);
    double lr = gd_lr_ / (static_cast<double>(it) + 10.0);
    for (int attempt = 0; attempt < 6; ++attempt, lr /= 10) {
      at::Tensor B = L0.B.clone(), As = L0.A * s.unsqueeze(0);
      Adam adam({B, As}, AdamOptions{lr});
      bool finite = true;
      for (int64_t k = 0; k < gd_iters_ && finite; ++k) {
        at::Tensor E = Rs - at::matmul(B, As);  // [out, in]
        at::Tensor EH = at::matmul(E, Hs);
        finite = std::isfinite((E * EH).sum().item<double>());
        if (finite) adam.step({-at::matmul(EH, As.t()), -at::matmul(B.t(), EH)});
      }
      if (finite && B.isfinite().all().item<bool>() && As.isfinite().all().item<bool>())
        return {B, As / s.unsqueeze(0)};
      ctx.count("hassle_free_gd_restarts");
    }
    return L0;
  }

  SparsitySpec spec_;
  Params params_;
  std::unique_ptr<LayerCompressor> pruner_;
  std::string pruner_name_ = "sparsegpt";
  int64_t rank_ = 64, iterations_ = 80, gd_iters_ = 50, alps_max_iter_ = 200;
  double gd_lr_ = 1e-2;
  bool gd_ = false, keep_best_ = true, alps_rho_growth_ = true;
  SvdMode svd_ = SvdMode::RankR;
  DampingOptions damping_;
  SlrBudget budget_;
  SlrSplit layer_;  // the current layer's rank and sparsity (the row's, or the budget's split)
};

REPRO_REGISTER_METHOD(LayerCompressor, HassleFree);

}  // namespace
}  // namespace repro
