// The default N:M MaskSolver: keep the N highest scores of every group of M input columns.

#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/topk.h"

namespace repro {
namespace {

class TopkMaskSolver final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{
        "topk", MaskSolver::kFamily, "per-group top-N: keep the N highest scores of every M input columns", "", "1",
        {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  void configure(const Params&) override {}
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext&) override {
    return nm_topk_mask(scores, pattern);
  }
};

REPRO_REGISTER_METHOD(MaskSolver, TopkMaskSolver);

}  // namespace
}  // namespace repro
