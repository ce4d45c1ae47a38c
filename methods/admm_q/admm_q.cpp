// ADMM-Q (Lucas, Makni, Meng, Deng, Mazumder, arXiv 2605.11222): min tr((W - Q) H (W - Q)^T) over Q
// on fixed per-(row, group) grids. A continuous copy Bs and an on-grid copy D of the scaled weights
// are split by ADMM (the combinatorial variant of the abstract), the penalty grows with ALPS's
// schedule until the grid assignment freezes, and a +-1 coordinate descent polishes the codes.
// Reconstructed from the abstract and from ALPS (arXiv 2406.07831, mazumder-lab/ALPS): see README.md.

#include "methods/admm_q/admm_q.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/registry.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/hessian.h"
#include "methods/common/intra_op.h"
#include "methods/common/layer_error.h"
#include "methods/common/quant_grid.h"
#include "methods/common/scaled_hessian.h"

namespace repro {

at::Tensor ScaledGrid::codes(const at::Tensor& Y) const {
  return at::round(Y / step).add_(zero).clamp_(0, static_cast<double>(maxq));
}

at::Tensor ScaledGrid::values(const at::Tensor& K) const { return (K - zero).mul_(step); }

ScaledGrid make_scaled_grid(const QuantCodes& q, const at::Tensor& c) {
  REPRO_ASSERT(q.defined() && c.dim() == 1 && c.size(0) == q.codes.size(1), "make_scaled_grid: shapes");
  at::Tensor cols = q.column_groups().to(q.scales.device());
  ScaledGrid g;
  g.step = q.scales.index_select(1, cols).t().mul(c.to(q.scales.device()).unsqueeze(1)).contiguous();
  g.zero = q.zeros.index_select(1, cols).t().contiguous();
  g.maxq = (int64_t{1} << q.bits) - 1;
  return g;
}

namespace {

// REPRO_ASSERT that K [.., ..] fp32 holds integer codes in [0, maxq] (a cast to uint8 would wrap).
void check_codes(const at::Tensor& K, int64_t maxq, const char* where) {
  const bool integer = K.eq(at::round(K)).all().item<bool>();
  const bool in_range = K.min().item<double>() >= 0.0 && K.max().item<double>() <= static_cast<double>(maxq);
  REPRO_ASSERT(integer && in_range, fmt::format("admm_q: {} produced codes off the grid [0, {}]", where, maxq));
}

QuantCodes with_codes(const QuantCodes& q, const at::Tensor& K) {
  QuantCodes r = q;
  r.codes = K.to(at::kByte).contiguous();
  return r;
}

}  // namespace

AdmmQResult admm_q_solve(const at::Tensor& W, const at::Tensor& H, const QuantCodes& init, const AdmmQOptions& opts,
                         RunContext& ctx) {
  const int64_t out = W.size(0), in = W.size(1);
  REPRO_ASSERT(init.codes.size(0) == out && init.codes.size(1) == in, "admm_q_solve: init shape");
  // Preconditioning: c_j = sqrt(H_jj) + eps, Hs = C^-1 H C^-1 has a unit diagonal, so one rho fits
  // every coordinate; one fp64 eigh makes (Hs + rho I)^-1 cheap for any rho (as in ALPS,
  // arXiv 2406.07831, and its code mazumder-lab/ALPS).
  ScaledHessian sh(H);
  const at::Tensor& Hs = sh.Hs();
  const at::Tensor B0 = sh.to_scaled(W);  // [in, out], the unconstrained optimum
  const at::Tensor G = at::matmul(Hs, B0);
  // The grid in the scaled space is c_j times the weight grid: projecting onto the unscaled grid
  // would leave D off the grid after unscaling.
  const ScaledGrid grid = make_scaled_grid(init, sh.s());
  const int64_t maxq = grid.maxq;

  // Objective of a scaled-space point: tr(E^T Hs E), E = D - Bs0, equals tr((Q - W) H (Q - W)^T).
  auto objective = [&](const at::Tensor& D) {
    at::Tensor E = D - B0;
    return (E * at::matmul(Hs, E)).sum(at::kDouble).item<double>();
  };

  const at::Tensor K0 = init.codes.t().to(at::kFloat).contiguous();  // [in, out]
  const at::Tensor D0 = grid.values(K0);
  at::Tensor K = K0, D = D0, Bs = B0;
  at::Tensor V = at::zeros_like(B0);
  at::Tensor prev = K0, best_K = K0;

  AdmmQResult res;
  res.init_objective = objective(D0);
  double best = res.init_objective;
  const double b0_norm = std::max(1e-30, B0.norm().item<double>());
  auto record = [&](double obj, double rho) {
    if (!opts.trace) return;
    res.residual.push_back((Bs - D).norm().item<double>() / b0_norm);
    res.trace_objective.push_back(obj);
    res.rho.push_back(rho);
  };
  record(res.init_objective, opts.rho.rho0);

  RhoSchedule schedule(opts.rho);
  at::Tensor inv = sh.regularized_inverse(schedule.rho());
  bool checked_last = true;
  auto progress = ctx.progress("admm_q", opts.max_iter);
  for (int64_t t = 0; t < opts.max_iter; ++t, progress->advance()) {
    const double rho = schedule.rho();
    ++res.iterations;
    // Bs = argmin 1/2 tr((Bs - Bs0)^T Hs (Bs - Bs0)) + <V, Bs - D> + rho/2 ||Bs - D||^2
    //    = (Hs + rho I)^-1 (Hs Bs0 - V + rho D).
    Bs = at::matmul(inv, (G - V).add_(D, rho));
    // D = Proj_grid(Bs + V / rho): nearest point of each coordinate's scaled grid.
    K = grid.codes(Bs + V / rho);
    D = grid.values(K);
    // V += rho (Bs - D)
    V.add_(Bs - D, rho);
    checked_last = schedule.is_update(t);
    if (!checked_last) continue;

    const int64_t changes = K.ne(prev).sum().item<int64_t>();
    const double obj = objective(D);
    if (obj < best) {
      best = obj;
      best_K = K;
    }
    record(obj, rho);
    RhoSchedule::Action a = schedule.update(t, changes, out * in);
    prev = K;
    if (a == RhoSchedule::Action::Stop) break;
    if (a == RhoSchedule::Action::Reset) {
      ++res.resets;
      D = D0;
      prev = K0;
      V.zero_();
    }
    inv = sh.regularized_inverse(schedule.rho());
  }
  progress->finish();
  if (!checked_last) {
    const double obj = objective(D);
    if (obj < best) {
      best = obj;
      best_K = K;
    }
    record(obj, schedule.rho());
  }
  check_codes(best_K, maxq, "the ADMM projection");
  res.q = with_codes(init, best_K.t());
  res.objective = best;
  ctx.count("admm_q_iterations", res.iterations);
  ctx.count("admm_q_resets", res.resets);
  return res;
}

LocalSearchResult local_search(const at::Tensor& W, const at::Tensor& H, const QuantCodes& q, int64_t max_sweeps,
                               int64_t block) {
  const int64_t in = W.size(1);
  REPRO_ASSERT(block >= 1, "local_search: block >= 1");
  const ScaledGrid grid = make_scaled_grid(q, at::ones({in}, W.options()));  // the weight grid of W^T
  const at::Tensor& S = grid.step;  // [in, out]
  const double maxq = static_cast<double>(grid.maxq);
  const at::Tensor Wt = W.t().contiguous();
  const at::Tensor hdiag = H.diagonal().contiguous();

  at::Tensor K = q.codes.t().to(at::kFloat).contiguous();  // [in, out]
  at::Tensor E = grid.values(K).sub_(Wt);                    // (Q - W)^T
  at::Tensor R = at::matmul(H, E);                           // H (Q - W)^T: row j = (H e_r)_j for all r
  double f = (E * R).sum(at::kDouble).item<double>();

  LocalSearchResult res;
  res.objective.push_back(f);
  // A move must win by a margin over its own curvature term, so that fp32 rounding in R cannot
  // accept a move that does not really help.
  constexpr double kMargin = 1e-3;
  for (int64_t sweep = 0; sweep < max_sweeps; ++sweep) {
    const at::Tensor K_before = K.clone();
    at::Tensor moves = at::zeros({}, W.options().dtype(at::kLong));
    for (int64_t b0 = 0; b0 < in; b0 += block) {
      const int64_t n = std::min(block, in - b0);
      at::Tensor Rb = R.narrow(0, b0, n);                // eager within the block
      const at::Tensor Hb = H.narrow(0, b0, n).narrow(1, b0, n);
      at::Tensor Delta = at::zeros({n, W.size(0)}, W.options());
      for (int64_t i = 0; i < n; ++i) {
        const int64_t j = b0 + i;
        const at::Tensor s = S.select(0, j), k = K.select(0, j), r = Rb.select(0, i);
        const at::Tensor curv = s.square().mul_(hdiag.select(0, j));  // delta^2 H_jj
        const at::Tensor lin = r.mul(s).mul_(2.0);                    // 2 s (H e)_j
        const at::Tensor thr = curv.mul(-kMargin);
        const at::Tensor up = (lin + curv).lt(thr).logical_and_(k.lt(maxq));
        const at::Tensor down = (curv - lin).lt(thr).logical_and_(k.gt(0.0));
        const at::Tensor step = up.to(at::kFloat).sub_(down.to(at::kFloat));  // -1, 0, +1
        const at::Tensor delta = step.mul(s);
        k.add_(step);
        E.select(0, j).add_(delta);
        Delta.select(0, i).copy_(delta);
        Rb.addr_(Hb.select(1, i), delta);
        moves.add_(step.ne(0).sum());
      }
      if (b0 + n < in) R.narrow(0, b0 + n, in - b0 - n).addmm_(H.narrow(0, b0 + n, in - b0 - n).narrow(1, b0, n), Delta);
    }
    ++res.sweeps;
    const int64_t m = moves.item<int64_t>();
    if (m == 0) break;
    // Fresh H E (no drift from the lazy updates) and the objective of the sweep's result.
    at::Tensor R_new = at::matmul(H, E);
    const double f_new = (E * R_new).sum(at::kDouble).item<double>();
    if (f_new > f) {  // rounding let a bad move through: keep the codes from before the sweep
      K = K_before;
      E = grid.values(K).sub_(Wt);
      break;
    }
    res.moves += m;
    R = R_new;
    f = f_new;
    res.objective.push_back(f);
  }
  check_codes(K, grid.maxq, "the local search");
  res.q = with_codes(q, K.t());
  return res;
}

namespace {

class AdmmQ final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "admm_q";
      i.family = LayerCompressor::kFamily;
      i.summary = "ADMM-Q: combinatorial ADMM on fixed grids in the scaled space, rho schedule, +-1 local search";
      i.paper = "Lucas, Makni, Meng, Deng, Mazumder, arXiv 2605.11222 (2026)";
      i.version = "1";
      i.params = quant_params({.bits = 4, .group_size = 128});
      for (ParamSpec p : {
               param_string("init", "gptq", "starting codes and the grids they fix: GPTQ's or RTN's", {"gptq", "rtn"}),
               param_int("max_iter", 300, "maximum ADMM iterations (0: the init, then the local search)").at_least(0),
               param_float("rho0", 0.01, "initial ADMM penalty (relative to the unit-diagonal scaled Hessian)").above(0),
               param_int("ls_sweeps", 10, "maximum local-search sweeps over the input columns (0: none)").at_least(0),
           })
        i.params.push_back(p);
      for (ParamSpec p : damping_params(/*hess_diag=*/false)) i.params.push_back(p);
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    QuantSettings q = read_quant(params);
    opts_ = q.grid;
    group_size_ = q.group_size;
    damping_ = read_damping(params);
    admm_.max_iter = params.get_int("max_iter");
    admm_.rho = admm_q_schedule(params.get_float("rho0"));
    ls_sweeps_ = params.get_int("ls_sweeps");
    gptq_.reset();
    if (params.get_string("init") == "gptq") {
      // The warm start is the gptq plugin with this row's grid and damping parameters.
      Value::Table t;
      for (const char* key : {"bits", "group_size", "sym", "clip_search", "percdamp"}) t[key] = params.at(key);
      gptq_ = Registry<LayerCompressor>::instance().create("gptq");
      gptq_->configure(Params::validate(Value(t), gptq_->info().params, "admm_q init 'gptq'"));
    }
  }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    SerialIntraOp serial(problem.W.is_cpu());  // see intra_op.h
    const at::Tensor W0 = problem.W.to(at::kFloat);

    std::optional<PhaseTimer::Scope> timer;
    timer.emplace(ctx.timer(), "prepare");
    PreparedHessian h = prepare_hessian(problem.hessian(), damping_, ctx);
    // Dead inputs never fire: their weights are zeroed, as GPTQ does, so that both solve one problem.
    const at::Tensor W = h.n_dead > 0 ? W0.masked_fill(h.dead.unsqueeze(0), 0.0) : W0;

    timer.emplace(ctx.timer(), "init");
    QuantCodes init = gptq_ ? gptq_init(problem, ctx) : quantize_rtn(W0, opts_, group_size_);
    REPRO_ASSERT(init.defined() && !init.g_idx.defined(), "admm_q: the init must give contiguous groups");

    timer.emplace(ctx.timer(), "admm");
    AdmmQResult admm = admm_q_solve(W, h.H, init, admm_, ctx);

    timer.emplace(ctx.timer(), "local_search");
    LocalSearchResult ls = local_search(W, h.H, admm.q, ls_sweeps_);
    ctx.count("admm_q_ls_moves", ls.moves);
    timer.reset();

    // The codes are the answer: the objectives the solvers tracked (ADMM-Q's in the scaled space,
    // the local search's on the weights) must be those of the dequantized codes. A projection onto
    // a wrongly scaled grid breaks the first.
    const double from_codes = ls.objective.front();
    REPRO_ASSERT(std::abs(admm.objective - from_codes) <= 1e-3 * std::max(admm.objective, from_codes) + 1e-12,
                 fmt::format("admm_q '{}': ADMM objective {} but its codes give {}", problem.name, admm.objective,
                             from_codes));
    const double tracked = ls.objective.back();
    const double actual = layer_loss(W, ls.q.dequantize(), h.H);
    REPRO_ASSERT(std::abs(actual - tracked) <= 1e-3 * std::max(actual, tracked) + 1e-12,
                 fmt::format("admm_q '{}': tracked objective {} but the codes give {}", problem.name, tracked, actual));
    REPRO_ASSERT(tracked <= admm.init_objective * (1 + 1e-4) + 1e-12,
                 fmt::format("admm_q '{}': objective {} above the init's {}", problem.name, tracked,
                             admm.init_objective));
    CompressedLinear c;
    c.set_quant(std::move(ls.q));
    return c;
  }

 private:
  // GPTQ's codes and grids. It runs in its own context so that its phases and its dead-input count
  // are not booked twice; its other counters (Cholesky retries) are passed on.
  QuantCodes gptq_init(const LayerProblem& problem, RunContext& ctx) {
    RunOptions o = ctx.options();
    o.progress = false;
    RunContext sub(o);
    QuantCodes q = gptq_->compress(problem, sub).quant();
    for (const auto& [name, n] : sub.counters())
      if (name != "dead_inputs") ctx.count(name, n);
    return q;
  }

  QuantGridOptions opts_;
  int64_t group_size_ = 128;
  DampingOptions damping_;
  AdmmQOptions admm_;
  int64_t ls_sweeps_ = 10;
  std::unique_ptr<LayerCompressor> gptq_;  // the init; null for init = "rtn"
};

REPRO_REGISTER_METHOD(LayerCompressor, AdmmQ);

}  // namespace
}  // namespace repro
