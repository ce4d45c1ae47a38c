// ALPS (Meng, Behdin, Wang, Mazumder, NeurIPS 2024; mazumder-lab/ALPS): pruning by ADMM in the
// diagonally scaled space with a support-driven penalty schedule, then a conjugate-gradient
// back-solve on the final support.

#include <fmt/format.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/admm_schedule.h"
#include "methods/common/hessian.h"
#include "methods/common/hessian_memo.h"
#include "methods/common/intra_op.h"
#include "methods/common/nm_projection.h"
#include "methods/common/scaled_hessian.h"
#include "methods/common/sparsity_pattern.h"
#include "methods/common/topk.h"

namespace repro {
namespace {

class Alps final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "alps";
      i.family = LayerCompressor::kFamily;
      i.summary = "ALPS: ADMM pruning in the scaled space with a rho schedule, then a masked CG back-solve";
      i.paper = "Meng, Behdin, Wang, Mazumder, NeurIPS 2024, arXiv 2406.07831";
      i.version = "2";  // 2: the in-place N:M projection (ties among equal |Z| break differently)
      i.params = sparsity_params();
      for (ParamSpec p : {
               param_int("max_iter", 300, "maximum ADMM iterations").at_least(0),
               param_float("rho0", 0.1, "initial ADMM penalty").above(0),
               param_int("cg_iters", 10, "conjugate-gradient iterations of the final back-solve (0: none)").at_least(0),
               param_float("cg_rtol", 1e-4, "relative residual at which the back-solve stops").at_least(0),
           })
        i.params.push_back(p);
      for (ParamSpec p : damping_params(/*hess_diag=*/true)) i.params.push_back(p);
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    spec_ = sparsity_pattern(params);
    max_iter_ = params.get_int("max_iter");
    rho_.rho0 = params.get_float("rho0");
    damping_ = read_damping(params);
    cg_iters_ = params.get_int("cg_iters");
    cg_rtol_ = params.get_float("cg_rtol");
  }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    at::Tensor W = problem.W.to(at::kFloat);
    const int64_t out = W.size(0), in = W.size(1);
    check_pattern_fits(spec_, out, in, problem.name);

    SerialIntraOp serial(W.is_cpu());  // elementwise work is small next to the GEMMs; see intra_op.h
    const std::shared_ptr<const ScaledHessian> shared = scaled_hessian(problem, damping_, ctx);
    const ScaledHessian& sh = *shared;
    const at::Tensor& Hs = sh.Hs();
    at::Tensor Z0 = sh.to_scaled(W);    // [in, out]
    at::Tensor G = at::matmul(Hs, Z0);  // [in, out]
    const int64_t k = spec_.pattern.nm ? out * in / spec_.pattern.m * spec_.pattern.n : keep_count(out * in, spec_.sparsity);

    at::Tensor D_mask = support(Z0, ctx);
    at::Tensor D = Z0 * D_mask;
    const at::Tensor D_init = D, D_init_mask = D_mask;
    at::Tensor V = at::zeros_like(Z0);
    at::Tensor Z = Z0;
    RhoSchedule schedule(rho_);
    at::Tensor inv = sh.regularized_inverse(schedule.rho());
    at::Tensor prev_mask = D_mask;
    int64_t iters = 0;
    auto progress = ctx.progress("alps " + problem.name, max_iter_);
    for (int64_t t = 0; t < max_iter_; ++t, progress->advance()) {
      const double rho = schedule.rho();
      ++iters;
      // Z = (Hs + rho I)^{-1} (Hs Z0 - V + rho D)
      Z = at::matmul(inv, (G - V).add_(D, rho));
      // D = Proj(Z + V / rho)
      at::Tensor Y = Z + V / rho;
      D_mask = support(Y, ctx);
      D = Y.mul_(D_mask);
      // V += rho (Z - D)
      V.add_(Z - D, rho);
      if (!schedule.is_update(t)) continue;
      const int64_t changes = D_mask.ne(prev_mask).sum().item<int64_t>();
      RhoSchedule::Action a = schedule.update(t, changes, k);
      prev_mask = D_mask;
      if (a == RhoSchedule::Action::Stop) break;
      if (a == RhoSchedule::Action::Reset) {
        D = D_init;
        prev_mask = D_init_mask;
        V.zero_();
      }
      inv = sh.regularized_inverse(schedule.rho());
    }
    progress->finish();
    ctx.count("alps_iterations", iters);

    at::Tensor mask = support(Z, ctx);  // [in, out]
    at::Tensor S = back_solve(Hs, G, Z * mask, mask);
    CompressedLinear c;
    c.set_sparse(sh.from_scaled(S), mask.t());
    if (spec_.pattern.nm) c.set_pattern(spec_.pattern.n, spec_.pattern.m);
    return c;
  }

 private:
  // Kept entries of a scaled-space matrix Z [in, out]: the global top-k of |Z| (unstructured) or
  // N of every M consecutive inputs of each output row (N:M: in place for the default topk solver,
  // through the configured mask solver on |Z^T| otherwise).
  at::Tensor support(const at::Tensor& Z, RunContext& ctx) const { return scaled_support(Z, spec_, ctx); }

  // Conjugate gradient on Hs X = G restricted to the support (one independent system per output
  // column), warm-started at X0. Hs has unit diagonal, so no preconditioner.
  at::Tensor back_solve(const at::Tensor& Hs, const at::Tensor& G, at::Tensor X, const at::Tensor& mask) const {
    if (cg_iters_ == 0) return X;
    at::Tensor Mf = mask.to(at::kFloat);
    at::Tensor R = (G - at::matmul(Hs, X)).mul_(Mf);
    const double b_norm = std::max(1e-30, (G * Mf).norm().item<double>());
    at::Tensor P = R.clone();
    at::Tensor rs = R.square().sum(0);  // [out]
    for (int64_t it = 0; it < cg_iters_; ++it) {
      at::Tensor AP = at::matmul(Hs, P).mul_(Mf);
      at::Tensor pAp = (P * AP).sum(0);
      at::Tensor alpha = at::where(pAp > 0, rs / pAp, at::zeros_like(rs));
      X = X + P * alpha.unsqueeze(0);
      R = R - AP * alpha.unsqueeze(0);
      at::Tensor rs_new = R.square().sum(0);
      if (std::sqrt(rs_new.sum().item<double>()) / b_norm < cg_rtol_) break;
      at::Tensor beta = at::where(rs > 0, rs_new / rs, at::zeros_like(rs));
      P = R + P * beta.unsqueeze(0);
      rs = rs_new;
    }
    return X * Mf;
  }

  SparsitySpec spec_;
  int64_t max_iter_ = 300;
  RhoScheduleOptions rho_;  // ALPS defaults: 1.3 / 1.2 / 1.1 every 3 iterations, stop after 30
  DampingOptions damping_;
  int64_t cg_iters_ = 10;
  double cg_rtol_ = 1e-4;
};

REPRO_REGISTER_METHOD(LayerCompressor, Alps);

}  // namespace
}  // namespace repro
