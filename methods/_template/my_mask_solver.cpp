// TEMPLATE (MaskSolver) — copy to methods/<your_solver>/ and follow methods/README.md. Compiled as
// the plugin `_template_mask_solver` so that it never rots.
//
// A MaskSolver turns importance scores into an N:M mask; every pruner takes one as its
// `mask_solver` component (`mask_solver = { method = "_template_mask_solver" }`). This example keeps
// the N largest scores of each group of M columns, like the default `topk`.

#include "core/run_context.h"
#include "methods/api/mask_solver.h"

#include <ATen/ATen.h>

namespace repro {
namespace {

class TemplateMaskSolver final : public MaskSolver {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info{"_template_mask_solver", MaskSolver::kFamily,
                                 "template mask solver: the N largest scores of every M columns (copy me)", "", "1",
                                 {}};
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }
  // Heavy, parameter-only setup (tables, workspaces sized by parameters) belongs here: solve() runs
  // many times per layer.
  void configure(const Params&) override {}

  // scores: [out, in] fp32, in % m == 0. Returns bool [out, in], exactly n per group (checked by
  // the caller).
  at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext&) override {
    const int64_t out = scores.size(0), in = scores.size(1);
    at::Tensor groups = scores.reshape({out, in / pattern.m, pattern.m});
    at::Tensor idx = std::get<1>(groups.topk(pattern.n, /*dim=*/-1));
    return at::zeros_like(groups, groups.options().dtype(at::kBool)).scatter_(-1, idx, true).reshape({out, in});
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(MaskSolver, repro::TemplateMaskSolver);
