// GPTQ (Frantar et al., ICLR 2023; IST-DASLab/gptq): quantize one input column at a time and
// spread its rounding error over the remaining columns with the inverse-Hessian Cholesky factor.

#include <optional>

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/solve_cost.h"
#include "methods/common/hessian.h"
#include "methods/common/large_buffer.h"
#include "methods/common/obs_sweep.h"
#include "methods/common/quant_grid.h"

namespace repro {
namespace {

// Rounds each column on its (row, group) grid (SweepGrids: fixed, or fitted when a group starts).
class GptqRule final : public ColumnRule {
 public:
  GptqRule(SweepGrids& grids, int64_t maxq, int64_t in, int64_t out, const at::TensorOptions& to)
      : grids_(grids), maxq_(maxq), codes_t_(empty_large({in, out}, to.dtype(at::kByte))), q_(at::empty({out}, to)) {}

  std::vector<int64_t> windows() const override { return grids_.windows(); }

  at::Tensor fix(int64_t j, const at::Tensor& ahead) override {
    auto [s, z] = grids_.grid(j, ahead);
    at::Tensor codes = codes_t_.select(0, j);
    quantize_slice(ahead.select(0, 0), s, z, maxq_, codes, q_);
    return q_;  // read by the sweep before the next call
  }

  const at::Tensor& codes_t() const { return codes_t_; }

 private:
  SweepGrids& grids_;
  int64_t maxq_;
  at::Tensor codes_t_;  // [in, out] uint8, sweep order
  at::Tensor q_;        // [out] the fixed column
};

class Gptq final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "gptq";
      i.family = LayerCompressor::kFamily;
      i.summary = "GPTQ: column-by-column quantization with inverse-Hessian error feedback, lazy block updates";
      i.paper = "Frantar, Ashkboos, Hoefler, Alistarh, ICLR 2023, arXiv 2210.17323";
      i.version = "1";
      i.params = quant_params({.bits = 4, .group_size = 128});
      for (ParamSpec p : {
               param_bool("act_order", false, "quantize columns in order of decreasing diag(H)"),
               param_bool("static_groups", false, "fit every group's grid on the original W before the sweep"),
               param_int("block_size", 128, "columns per lazy batch update").at_least(1),
               param_bool("clip_neg_scale", false,
                          "sym + clip_search: also try each negated scale (GSQ's GPTQ init, IST-DASLab/GSQ)")
                   .quiet_at_default(),
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
    opts_.clip_neg_scale = params.get_bool("clip_neg_scale");
    if (opts_.clip_neg_scale && !(opts_.sym && opts_.clip_search))
      params.fail("clip_neg_scale", "needs sym = true and clip_search = true");
    group_size_ = q.group_size;
    act_order_ = params.get_bool("act_order");
    static_groups_ = params.get_bool("static_groups");
    block_size_ = params.get_int("block_size");
    damping_ = read_damping(params);
  }

  // The column sweep's cost (methods/common/solve_cost.h).
  double solve_flops(int64_t out, int64_t in) const override { return column_sweep_flops(out, in); }
  double solve_bytes(int64_t out, int64_t in) const override { return column_sweep_bytes(out, in); }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    const at::Tensor W = problem.W.to(at::kFloat);
    const int64_t out = W.size(0), in = W.size(1);
    const int64_t ng = num_groups(in, group_size_);
    const bool grouped = ng > 1;
    const at::TensorOptions to = W.options();

    SweepGrids sweep_grids;
    // Per channel: the grid comes from the original W, before dead columns are zeroed (as in GPTQ).
    GridParams channel;
    if (!grouped) channel = fit_grid(W, opts_);

    std::optional<PhaseTimer::Scope> prep_timer;
    prep_timer.emplace(ctx.timer(), "prepare");
    PreparedHessian h = prepare_hessian(problem.hessian(), damping_, ctx);

    GridParams fixed;
    if (grouped && static_groups_) fixed = fit_group_grids(W.masked_fill(h.dead.unsqueeze(0), 0.0), opts_, group_size_);

    // The sweep runs on W^T [in, out] in sweep order, dead inputs zeroed.
    at::Tensor perm, invperm, Wt;
    if (act_order_) {
      perm = at::argsort(h.diag, /*dim=*/int64_t{0}, /*descending=*/true);
      invperm = at::argsort(perm);
      permute_hessian(h, perm);
      Wt = empty_large({in, out}, to);
      at::index_select_out(Wt, W.t(), 0, perm);
    } else {
      Wt = copy_large(W.t());
    }
    Wt.masked_fill_(h.dead.unsqueeze(1), 0.0);

    if (!grouped) {
      sweep_grids.set_per_channel(channel);
    } else if (static_groups_) {
      std::vector<int64_t> col_group(in);
      std::vector<int64_t> p = perm.defined() ? to_vector(perm) : std::vector<int64_t>{};
      for (int64_t j = 0; j < in; ++j) col_group[j] = (perm.defined() ? p[j] : j) / group_size_;
      sweep_grids.set_fixed(fixed.scale.t().contiguous(), fixed.zero.t().contiguous(), std::move(col_group));
    } else {
      sweep_grids.set_dynamic(ng, out, group_size_, opts_, to);
    }
    GptqRule rule(sweep_grids, opts_.maxq(), in, out, to);

    prep_timer.reset();
    at::Tensor R;
    {
      auto timer = ctx.timer().scope("factor");
      R = reverse_cholesky_upper(h, ctx, problem.name);  // consumes h.H
    }
    {
      auto timer = ctx.timer().scope("sweep");
      // Original rows come from W itself: no second [in, out] copy.
      at::Tensor dead = h.dead;
      auto original = [&](int64_t i1, int64_t n) {
        at::Tensor rows = perm.defined() ? W.t().index_select(0, perm.narrow(0, i1, n)) : W.t().narrow(0, i1, n).contiguous();
        return rows.masked_fill_(dead.narrow(0, i1, n).unsqueeze(1), 0.0);
      };
      obs_sweep(Wt, R, rule, {block_size_, 16}, original);
    }

    at::Tensor codes = rule.codes_t().t();
    if (act_order_) codes = codes.index_select(1, invperm);
    GridParams grids;
    at::Tensor g_idx;
    if (!grouped) {
      grids = channel;
      grids.scale = grids.scale.unsqueeze(1);
      grids.zero = grids.zero.unsqueeze(1);
    } else if (static_groups_) {
      grids = fixed;
    } else {
      grids = sweep_grids.grids();
      // Groups were formed in sweep order: column perm[j] belongs to group j / group_size.
      if (act_order_) g_idx = at::arange(in, to.dtype(at::kLong)).div(group_size_, "floor").index_select(0, invperm);
    }
    CompressedLinear c;
    c.set_quant(make_quant_codes(codes, grids, opts_, group_size_, g_idx));
    return c;
  }

 private:
  static std::vector<int64_t> to_vector(const at::Tensor& t) {
    at::Tensor c = t.to(at::kCPU, at::kLong).contiguous();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  }

  QuantGridOptions opts_;
  int64_t group_size_ = 128;
  bool act_order_ = false, static_groups_ = false;
  int64_t block_size_ = 128;
  DampingOptions damping_;
};

REPRO_REGISTER_METHOD(LayerCompressor, Gptq);

}  // namespace
}  // namespace repro
