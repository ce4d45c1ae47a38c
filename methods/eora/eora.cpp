// EoRA-style S + LR (the "eora_sparsegpt" / "eora_alps" baselines of the 3BASiL tables; Liu et al.,
// arXiv 2410.21271 §3: the low-rank compensation of the compression residual in the eigenspace of
// the input activations): S = SparseGPT(W) or ALPS(W), then once L = argmin over rank-r L of
// tr((W - S - L) H (W - S - L)^T), the closed-form H-weighted reduced-rank regression.
// One HASSLE-free alternating iteration (arXiv 2502.00899) with the closed-form L step.

#include <fmt/format.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/hessian.h"
#include "methods/common/intra_op.h"
#include "methods/common/low_rank.h"
#include "methods/common/pruner_step.h"
#include "methods/common/rank_r_svd.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {
namespace {

class Eora final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "eora";
      i.family = LayerCompressor::kFamily;
      i.summary = "EoRA: prune (SparseGPT or ALPS), then the closed-form H-weighted rank-r fit of the residual";
      i.paper = "Liu et al., arXiv 2410.21271 (as the 3BASiL baseline, arXiv 2603.01376)";
      i.version = "1";
      i.params = sparsity_params();
      for (ParamSpec p : {
               rank_param(),
               pruner_param(),
               param_int("alps_max_iter", 300, "ADMM iterations of ALPS (pruner = 'alps')").at_least(0),
               svd_param("exact"),
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
    rank_ = params.get_int("rank");
    svd_ = read_svd_mode(params);
    damping_ = read_damping(params);
    const std::string name = params.get_string("pruner");
    Value::Table extra;
    if (name == "alps") extra = {{"max_iter", Value(params.get_int("alps_max_iter"))}};
    pruner_ = make_pruner(name, params, extra);
  }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    at::Tensor W = problem.W.to(at::kFloat);
    const int64_t out = W.size(0), in = W.size(1);
    check_pattern_fits(spec_, out, in, problem.name);
    check_rank_fits("eora", rank_, out, in, problem.name);
    CompressedLinear c = pruner_->compress(problem, ctx);
    SerialIntraOp serial(W.is_cpu());
    PreparedHessian h = prepare_hessian(problem.hessian(), damping_, ctx);  // the pruner's damping
    RankRSvd svd(rank_, svd_, ctx.generator("eora"));
    LowRankFactors L = weighted_low_rank(W - c.sparse_values(), hessian_eigen(h.H), svd);
    c.set_low_rank(L.B, L.A);
    return c;
  }

 private:
  SparsitySpec spec_;
  std::unique_ptr<LayerCompressor> pruner_;
  int64_t rank_ = 64;
  SvdMode svd_ = SvdMode::Exact;
  DampingOptions damping_;
};

REPRO_REGISTER_METHOD(LayerCompressor, Eora);

}  // namespace
}  // namespace repro
