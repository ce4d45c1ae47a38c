// The optimal transposable N:M mask of every m x m block (a maximum-score bipartite b-matching):
// min-cost flow per block, or, for m <= 4, enumeration of every feasible block pattern. The
// baseline the approximate transposable solvers (tsenor, greedy_transposable) are measured against.

#include <fmt/format.h>

#include "core/error.h"
#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/transposable.h"
#include "methods/common/transposable_flow.h"

namespace repro {
namespace {

class ExactTransposable final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "exact_transposable",
        MaskSolver::kFamily,
        "optimal transposable N:M masks: min-cost flow per block (or enumeration for M <= 4)",
        "",
        "1",
        {param_string("method", "flow",
                      "flow: successive shortest paths per block; enumerate: best of all feasible patterns (M <= 4)",
                      {"flow", "enumerate"})}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  bool transposable() const override { return true; }
  void configure(const Params& p) override { enumerate_ = p.get_string("method") == "enumerate"; }

  // scores: [out, in] fp32, both multiples of m, any device (the flow runs on CPU). Returns bool
  // [out, in] on scores' device.
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext&) override {
    if (enumerate_ && pattern.m > 4)
      throw NotSupported(
          fmt::format("exact_transposable(method=enumerate) handles M <= 4; got {}:{} (use method = "
                      "\"flow\")",
                      pattern.n, pattern.m));
    return solve_by_blocks(scores, pattern, [&](const at::Tensor& A) {
      return enumerate_ ? enumerate_transposable_blocks(A, pattern.n) : exact_transposable_blocks(A, pattern.n);
    });
  }

 private:
  bool enumerate_ = false;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(MaskSolver, repro::ExactTransposable);
