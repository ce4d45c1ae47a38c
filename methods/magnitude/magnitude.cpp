// Magnitude pruning: keep the largest |W_ij| (no calibration data).

#include <fmt/format.h>

#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/intra_op.h"
#include "methods/common/large_buffer.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {
namespace {

class Magnitude final : public LayerCompressor {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i;
      i.name = "magnitude";
      i.family = LayerCompressor::kFamily;
      i.summary = "magnitude pruning: keep the largest |W| (unstructured per layer or per row, or N:M)";
      i.paper = "baseline (Han et al. 2015; the Wanda repo's convention, Sun et al. 2024)";
      i.version = "1";
      i.params = sparsity_params();
      i.params.push_back(param_string("scope", "layer",
                                      "unstructured threshold: 'layer' (one per matrix) or 'row' (one per output row)",
                                      {"layer", "row"}));
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    spec_ = sparsity_pattern(params);
    scope_ = params.get_string("scope") == "row" ? UnstructuredScope::Row : UnstructuredScope::Layer;
  }

  bool needs_hessian() const override { return false; }

  // A few passes over W (a top-k selection over the weights); memory: W's copy and its codes or mask.
  double solve_flops(int64_t out, int64_t in) const override { return 10.0 * static_cast<double>(out) * static_cast<double>(in); }
  double solve_bytes(int64_t out, int64_t in) const override { return 9.0 * static_cast<double>(out) * static_cast<double>(in); }

  CompressedLinear compress(const LayerProblem& problem, RunContext& ctx) override {
    SerialIntraOp serial(problem.W.is_cpu());  // see intra_op.h
    at::Tensor W = problem.W.to(at::kFloat);
    check_pattern_fits(spec_, W.size(0), W.size(1), problem.name);
    at::Tensor mask = select_mask(copy_large(W).abs_(), spec_, scope_, ctx);
    CompressedLinear c;
    c.set_sparse(W, mask);
    if (spec_.pattern.nm) c.set_pattern(spec_.pattern.n, spec_.pattern.m);
    return c;
  }

 private:
  SparsitySpec spec_;
  UnstructuredScope scope_ = UnstructuredScope::Layer;
};

REPRO_REGISTER_METHOD(LayerCompressor, Magnitude);

}  // namespace
}  // namespace repro
