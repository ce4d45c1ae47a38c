// 3BASiL (Makni, Meng, Mazumder, NeurIPS 2025, arXiv 2603.01376; mazumder-lab/3BASiL): sparse +
// low-rank by a 3-block ADMM in ALPS's scaled space.

#include "methods/threebasil/threebasil.h"

#include <fmt/format.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/hessian.h"
#include "methods/common/intra_op.h"
#include "methods/common/layer_error.h"
#include "methods/common/nm_projection.h"
#include "methods/common/scaled_hessian.h"
#include "methods/common/topk.h"

namespace repro {

RhoScheduleOptions threebasil_schedule(double rho0) {
  RhoScheduleOptions o;
  o.rho0 = rho0;
  o.update_every = 10;
  o.grow_large = 1.1;
  o.grow_medium = 1.05;
  o.grow_small = 1.02;
  o.switch_iter = 100;
  return o;
}

ThreeBasilResult threebasil_admm(const at::Tensor& W, const at::Tensor& H, const SparsitySpec& spec,
                                 const ThreeBasilOptions& opts, RunContext& ctx) {
  const int64_t out = W.size(0), in = W.size(1);
  ScaledHessian sh(H);
  HessianEigen eig = hessian_eigen(H);  // the RRR uses the unscaled damped H (§1 step 4)
  RankRSvd svd(opts.rank, opts.svd, ctx.generator("threebasil"));
  const at::Tensor& Hs = sh.Hs();
  const at::Tensor Z0 = sh.to_scaled(W);  // [in, out]
  const int64_t k = spec.pattern.nm ? out * in / spec.pattern.m * spec.pattern.n : keep_count(out * in, spec.sparsity);

  at::Tensor D_mask = scaled_support(Z0, spec, ctx);
  at::Tensor D = Z0 * D_mask;
  const at::Tensor D_init = D, D_init_mask = D_mask;
  at::Tensor V = at::zeros_like(Z0);
  at::Tensor Z = Z0;
  LowRankFactors L{at::zeros({out, opts.rank}, W.options()), at::zeros({opts.rank, in}, W.options())};
  at::Tensor G = at::matmul(Hs, Z0);  // Hs Dn (W - L)^T with L = 0
  RhoSchedule schedule(opts.rho);
  at::Tensor inv = sh.regularized_inverse(schedule.rho());
  at::Tensor prev_mask = D_mask;

  ThreeBasilResult res;
  const double z0_norm = std::max(1e-30, Z0.norm().item<double>());
  auto record = [&] {
    if (!opts.trace) return;
    at::Tensor What = sh.from_scaled(D) + L.product();
    res.objective.push_back(0.5 * layer_loss(W, What, H));
    res.violation.push_back((Z - D).norm().item<double>() / z0_norm);
  };
  record();

  auto progress = ctx.progress("threebasil", opts.max_iter);
  for (int64_t t = 0; t < opts.max_iter; ++t, progress->advance()) {
    const double rho = schedule.rho();
    ++res.iterations;
    // 1. Z = (Hs + rho I)^{-1} (G - V + rho D)
    Z = at::matmul(inv, (G - V).add_(D, rho));
    // 2. D = Proj(Z + V / rho)
    at::Tensor Y = Z + V / rho;
    D_mask = scaled_support(Y, spec, ctx);
    D = Y.mul_(D_mask);
    // 3. V += rho (Z - D)
    V.add_(Z - D, rho);
    // 4. L = RRR(W - S_dense; H, r) with S_dense from the dense primal Z; the next Z-update's target.
    L = weighted_low_rank(W - sh.from_scaled(Z), eig, svd);
    G = at::matmul(Hs, Z0 - sh.to_scaled(L.product()));
    if (!schedule.is_update(t)) continue;
    // 5. The support-driven rho schedule.
    const int64_t changes = D_mask.ne(prev_mask).sum().item<int64_t>();
    RhoSchedule::Action a = schedule.update(t, changes, k);
    prev_mask = D_mask;
    record();
    if (a == RhoSchedule::Action::Stop) break;
    if (a == RhoSchedule::Action::Reset) {  // L is kept (reference code)
      Z = Z0;
      D = D_init;
      prev_mask = D_init_mask;
      V.zero_();
    }
    inv = sh.regularized_inverse(schedule.rho());
  }
  progress->finish();
  ctx.count("threebasil_iterations", res.iterations);

  // 6. S = (Dn^-1 Proj(Z))^T; L from the last step 4, not refit.
  at::Tensor mask = scaled_support(Z, spec, ctx);  // [in, out]
  res.S = sh.from_scaled(Z * mask);
  res.mask = mask.t().contiguous();
  res.L = L;
  return res;
}

namespace {

class ThreeBasil final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "threebasil";
      i.family = LayerCompressor::kFamily;
      i.summary = "3BASiL: sparse + low-rank by a 3-block ADMM (scaled space, exact RRR low-rank block)";
      i.paper = "Makni, Meng, Mazumder, NeurIPS 2025, arXiv 2603.01376";
      i.version = "1";
      i.params = sparsity_params();
      for (ParamSpec p : {
               rank_param(),
               param_int("max_iter", 2000, "maximum ADMM iterations").at_least(0),
               param_float("rho0", 0.1, "initial ADMM penalty").above(0),
               svd_param("rank_r"),
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
    opts_.rank = params.get_int("rank");
    opts_.max_iter = params.get_int("max_iter");
    opts_.rho = threebasil_schedule(params.get_float("rho0"));
    opts_.svd = read_svd_mode(params);
    damping_ = read_damping(params);
  }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    at::Tensor W = problem.W.to(at::kFloat);
    const int64_t out = W.size(0), in = W.size(1);
    check_pattern_fits(spec_, out, in, problem.name);
    check_rank_fits("threebasil", opts_.rank, out, in, problem.name);
    SerialIntraOp serial(W.is_cpu());  // elementwise work is small next to the GEMMs; see intra_op.h
    PreparedHessian h = prepare_hessian(problem.hessian(), damping_, ctx);
    ThreeBasilResult r = threebasil_admm(W, h.H, spec_, opts_, ctx);
    CompressedLinear c;
    c.set_sparse(r.S, r.mask);
    c.set_low_rank(r.L.B, r.L.A);
    if (spec_.pattern.nm) c.set_pattern(spec_.pattern.n, spec_.pattern.m);
    return c;
  }

 private:
  SparsitySpec spec_;
  ThreeBasilOptions opts_;
  DampingOptions damping_;
};

REPRO_REGISTER_METHOD(LayerCompressor, ThreeBasil);

}  // namespace
}  // namespace repro
