// The 2-approximation of Hubara et al. (NeurIPS 2021, arXiv 2102.08124) for transposable N:M
// masks: per m x m block, keep entries in descending score while their row and column keep fewer
// than N; then the local search repair shared with tsenor, so the mask is always feasible.

#include <spdlog/spdlog.h>

#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/transposable.h"

namespace repro {
namespace {

class GreedyTransposable final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "greedy_transposable",
        MaskSolver::kFamily,
        "transposable N:M masks: greedy by descending score per block (2-approximation), then local search",
        "Hubara et al. 2021, arXiv 2102.08124",
        "1",
        {param_int("local_search", 32, "local search steps per block before a block falls back to the exact solver")
             .range(0, 100000)}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  bool transposable() const override { return true; }
  void configure(const Params& p) override { local_search_ = p.get_int("local_search"); }

  // scores: [out, in] fp32, both multiples of m, any device. Returns bool [out, in] there.
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext& ctx) override {
    return solve_by_blocks(scores, pattern, [&](const at::Tensor& A) {
      at::Tensor mask = greedy_round(A, A, pattern.n);
      const int64_t exact = finish_transposable(A, mask, pattern.n, local_search_);
      if (exact > 0) {
        ctx.count("greedy_transposable_exact_fallback_blocks", exact);
        ctx.log().debug(
            "greedy_transposable {}:{}: {} of {} blocks still infeasible after {} local search steps, "
            "solved exactly",
            pattern.n, pattern.m, exact, A.size(0), local_search_);
      }
      return mask;
    });
  }

 private:
  int64_t local_search_ = 32;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(MaskSolver, repro::GreedyTransposable);
