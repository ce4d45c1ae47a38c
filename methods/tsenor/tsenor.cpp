// TSENOR (Meng, Makni & Mazumder 2025): transposable N:M masks from the entropy-regularised
// transport relaxation of each m x m block, solved by batched Dykstra, rounded greedily and
// repaired by local search. See README.md for the defaults, the measurements and the deviations.

#include <spdlog/spdlog.h>

#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/transposable.h"

namespace repro {
namespace {

class Tsenor final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "tsenor",
        MaskSolver::kFamily,
        "transposable N:M masks: entropic transport per block (batched Dykstra), greedy rounding, local search",
        "Meng, Makni & Mazumder 2025, arXiv 2505.23949",
        "1",
        {param_float("tau", 60, "inverse temperature on the per-block normalised scores (fp32-safe up to 80)")
             .above(0)
             .at_most(80),
         param_int("iters", 100, "Dykstra iterations (at most)").range(1, 100000),
         param_float("tol", 1e-3, "stop Dykstra once every row and column sum is within tol of N (0: run all iters)")
             .at_least(0),
         param_int("local_search", 32, "local search steps per block before a block falls back to the exact solver")
             .range(0, 100000)}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  bool transposable() const override { return true; }

  void configure(const Params& p) override {
    opts_.tau = p.get_float("tau");
    opts_.iters = p.get_int("iters");
    opts_.tol = p.get_float("tol");
    local_search_ = p.get_int("local_search");
  }

  // scores: [out, in] fp32, both multiples of m, any device. Returns bool [out, in] there.
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext& ctx) override {
    return solve_by_blocks(scores, pattern, [&](const at::Tensor& A) {
      DykstraResult relaxed = dykstra_transposable(A, pattern.n, opts_);
      at::Tensor mask = greedy_round(relaxed.S, A, pattern.n);
      const int64_t exact = finish_transposable(A, mask, pattern.n, local_search_);
      ctx.count("tsenor_dykstra_iterations", relaxed.iterations);
      if (exact > 0) {
        ctx.count("tsenor_exact_fallback_blocks", exact);
        ctx.log().debug("tsenor {}:{}: {} of {} blocks still infeasible after {} local search steps, solved exactly",
                        pattern.n, pattern.m, exact, A.size(0), local_search_);
      }
      return mask;
    });
  }

 private:
  DykstraOptions opts_;
  int64_t local_search_ = 32;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(MaskSolver, repro::Tsenor);
