// SparseGPT (Frantar & Alistarh, ICML 2023; IST-DASLab/sparsegpt): prune one input column at a time
// and spread the pruning error over the remaining columns with the inverse-Hessian Cholesky factor,
// optionally quantizing the kept weights in the same sweep.

#include <optional>

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/solve_cost.h"
#include "methods/common/hessian.h"
#include "methods/common/large_buffer.h"
#include "methods/common/mask_solver.h"
#include "methods/common/obs_sweep.h"
#include "methods/common/quant_grid.h"
#include "methods/common/sparsity_pattern.h"
#include "methods/common/topk.h"

namespace repro {
namespace {

// Chooses the mask (per block of columns for unstructured sparsity, per group of M columns for
// N:M) from the OBS saliency w^2 / U_jj^2, prunes, then optionally rounds the column.
class SparseGptRule final : public ColumnRule {
 public:
  SparseGptRule(const SparsitySpec& spec, const QuantSettings& quant, SweepGrids& grids, const at::Tensor& U_diag,
                int64_t in, int64_t out, RunContext& ctx)
      : spec_(spec), quant_(quant), grids_(grids), d_(U_diag), ctx_(ctx) {
    const at::TensorOptions to = U_diag.options();
    mask_t_ = empty_large({in, out}, to.dtype(at::kBool));
    q_ = at::empty({out}, to);
    if (quant_.on) codes_t_ = empty_large({in, out}, to.dtype(at::kByte));
  }

  std::vector<int64_t> windows() const override {
    std::vector<int64_t> w;
    if (spec_.pattern.nm) w.push_back(spec_.pattern.m);
    if (quant_.on)
      for (int64_t g : grids_.windows()) w.push_back(g);
    return w;
  }

  void begin_block(int64_t i1, const at::Tensor& Wt_block, const at::Tensor& d_block) override {
    if (spec_.pattern.nm) return;
    // One threshold for the whole block: prune the smallest w^2 / d^2.
    at::Tensor score = Wt_block.square().div_(d_block.square().unsqueeze(1));
    const int64_t numel = score.numel();
    const int64_t n_prune = numel - keep_count(numel, spec_.sparsity);
    at::Tensor m = mask_t_.narrow(0, i1, Wt_block.size(0));
    if (n_prune <= 0) {
      m.fill_(true);
      return;
    }
    at::Tensor thresh = kth_smallest(score, n_prune);
    at::gt_out(m, score, thresh);
  }

  at::Tensor fix(int64_t j, const at::Tensor& ahead) override {
    if (spec_.pattern.nm && j % spec_.pattern.m == 0) {
      const int64_t M = spec_.pattern.m;
      // scores [out, M]: keep the N largest w^2 / d^2 of the group in every row.
      at::Tensor score = ahead.narrow(0, 0, M).square().div_(d_.narrow(0, j, M).square().unsqueeze(1)).t();
      at::Tensor keep = solve_mask(*spec_.solver, score.contiguous(), spec_.pattern.nm_pattern(), ctx_);
      mask_t_.narrow(0, j, M).copy_(keep.t());
    }
    at::mul_out(q_, ahead.select(0, 0), mask_t_.select(0, j));
    if (!quant_.on) return q_;
    // A group's grid is fitted on its current weights, before they are pruned (the range always
    // contains 0, which the pruned entries take).
    auto [s, z] = grids_.grid(j, ahead);
    at::Tensor codes = codes_t_.select(0, j);
    quantize_slice(q_, s, z, quant_.grid.maxq(), codes, q_);
    return q_;  // read by the sweep before the next call
  }

  const at::Tensor& mask_t() const { return mask_t_; }
  const at::Tensor& codes_t() const { return codes_t_; }

 private:
  SparsitySpec spec_;
  QuantSettings quant_;
  SweepGrids& grids_;
  at::Tensor d_;  // [in] diag(U) = 1 / diag(R): the saliency is w^2 / d^2
  RunContext& ctx_;
  at::Tensor mask_t_;   // [in, out] bool, kept entries
  at::Tensor codes_t_;  // [in, out] uint8 codes when quantizing
  at::Tensor q_;        // [out] the fixed column
};

class SparseGpt final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "sparsegpt";
      i.family = LayerCompressor::kFamily;
      i.summary = "SparseGPT: OBS column sweep that prunes (unstructured per block, or N:M) and optionally quantizes";
      i.paper = "Frantar & Alistarh, ICML 2023, arXiv 2301.00774";
      i.version = "1";
      i.params = sparsity_params();
      i.params.push_back(param_int("block_size", 128, "columns per block (mask choice and lazy batch update)").at_least(1));
      for (ParamSpec p : damping_params(/*hess_diag=*/true)) i.params.push_back(p);
      for (ParamSpec p : quant_params({.bits = 16, .group_size = -1, .allow_off = true, .clip_search = false}))
        i.params.push_back(p);
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    spec_ = sparsity_pattern(params);
    block_size_ = params.get_int("block_size");
    damping_ = read_damping(params);
    quant_ = read_quant(params);
  }

  // The column sweep's cost (methods/common/solve_cost.h); the mask choice adds little.
  double solve_flops(int64_t out, int64_t in) const override { return column_sweep_flops(out, in); }
  double solve_bytes(int64_t out, int64_t in) const override { return column_sweep_bytes(out, in); }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    const at::Tensor W = problem.W.to(at::kFloat);
    const int64_t out = W.size(0), in = W.size(1);
    check_pattern_fits(spec_, out, in, problem.name);
    const bool grouped = quant_.on && num_groups(in, quant_.group_size) > 1;

    // Per-channel grids come from the original W (as in the SparseGPT repo: before dead columns).
    GridParams channel;
    if (quant_.on && !grouped) channel = fit_grid(W, quant_.grid);

    std::optional<PhaseTimer::Scope> prep_timer;
    prep_timer.emplace(ctx.timer(), "prepare");
    PreparedHessian h = prepare_hessian(problem.hessian(), damping_, ctx);
    // The sweep runs on W^T [in, out], dead inputs zeroed.
    at::Tensor Wt = copy_large(W.t());
    Wt.masked_fill_(h.dead.unsqueeze(1), 0.0);
    prep_timer.reset();
    at::Tensor R;
    {
      auto timer = ctx.timer().scope("factor");
      R = reverse_cholesky_upper(h, ctx, problem.name);  // consumes h.H
    }

    SweepGrids grids;
    if (quant_.on) {
      if (grouped) grids.set_dynamic(num_groups(in, quant_.group_size), out, quant_.group_size, quant_.grid, W.options());
      else grids.set_per_channel(channel);
    }
    SparseGptRule rule(spec_, quant_, grids, R.diagonal().reciprocal(), in, out, ctx);
    {
      auto timer = ctx.timer().scope("sweep");
      // Original rows come from W itself: no second [in, out] copy.
      auto original = [&](int64_t i1, int64_t n) {
        return W.t().narrow(0, i1, n).contiguous().masked_fill_(h.dead.narrow(0, i1, n).unsqueeze(1), 0.0);
      };
      obs_sweep(Wt, R, rule, {block_size_, 16}, original);
    }

    auto timer = ctx.timer().scope("finish");
    // [out, in] copies in huge-page buffers: CompressedLinear multiplies values by the mask, which
    // costs twice as much from a transposed view.
    CompressedLinear c;
    c.set_sparse(copy_large(Wt.t()), copy_large(rule.mask_t().t()));
    if (spec_.pattern.nm) c.set_pattern(spec_.pattern.n, spec_.pattern.m);
    if (quant_.on) {
      c.set_quant(make_quant_codes(rule.codes_t().t(), grids.grids(), quant_.grid, grouped ? quant_.group_size : -1));
    }
    return c;
  }

 private:
  SparsitySpec spec_;
  QuantSettings quant_;
  int64_t block_size_ = 128;
  DampingOptions damping_;
};

REPRO_REGISTER_METHOD(LayerCompressor, SparseGpt);

}  // namespace
}  // namespace repro
