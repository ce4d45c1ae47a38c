// Wanda (Sun, Liu, Bair, Kolter, ICLR 2024): prune by |W_ij| * ||X_j||, per output row or N:M,
// without a weight update. Code: locuslab/wanda.

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/intra_op.h"
#include "methods/common/large_buffer.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {
namespace {

class Wanda final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "wanda";
      i.family = LayerCompressor::kFamily;
      i.summary = "Wanda: prune the lowest |W_ij| * ||X_j|| per output row (or N:M), no weight update";
      i.paper = "Sun, Liu, Bair, Kolter, ICLR 2024, arXiv 2306.11695";
      i.version = "1";
      i.params = sparsity_params();
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override { spec_ = sparsity_pattern(params); }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    SerialIntraOp serial(problem.W.is_cpu());  // see intra_op.h
    at::Tensor W = problem.W.to(at::kFloat);
    check_pattern_fits(spec_, W.size(0), W.size(1), problem.name);
    // diag(H) is proportional to mean_t x_j^2 (Wanda's scaler_row): the score order is the same.
    at::Tensor norm = problem.hessian().diagonal().to(at::kFloat).clamp_min(0).sqrt();
    at::Tensor score = copy_large(W).abs_().mul_(norm.unsqueeze(0));
    at::Tensor mask = select_mask(score, spec_, UnstructuredScope::Row, ctx);
    CompressedLinear c;
    c.set_sparse(W, mask);
    if (spec_.pattern.nm) c.set_pattern(spec_.pattern.n, spec_.pattern.m);
    return c;
  }

 private:
  SparsitySpec spec_;
};

REPRO_REGISTER_METHOD(LayerCompressor, Wanda);

}  // namespace
}  // namespace repro
