#include "methods/common/mask_solver.h"

#include <fmt/format.h>

#include "core/error.h"
#include "methods/common/topk.h"

namespace repro {

at::Tensor solve_mask(const at::Tensor& scores, NMPattern pattern, const std::string& solver, RunContext& ctx,
                      const Value& params) {
  REPRO_ASSERT(scores.dim() == 2, "solve_mask: scores must be [out, in]");
  if (scores.size(1) % pattern.m != 0)
    throw NotSupported(fmt::format("a {}:{} mask needs the input width ({}) to be a multiple of {}", pattern.n,
                                   pattern.m, scores.size(1), pattern.m));
  std::unique_ptr<MaskSolver> s = Registry<MaskSolver>::instance().create(solver);
  s->configure(Params::validate(params, s->info().params, "mask solver '" + solver + "'"));
  at::Tensor mask = s->solve(scores, pattern, ctx);
  REPRO_ASSERT(mask.defined() && mask.sizes() == scores.sizes(),
               fmt::format("mask solver '{}' returned a mask of the wrong shape", solver));
  mask = mask.to(at::kBool);
  REPRO_ASSERT(satisfies_nm(mask, pattern, /*exact=*/true),
               fmt::format("mask solver '{}' returned a mask that does not keep exactly {} of every {}", solver,
                           pattern.n, pattern.m));
  return mask;
}

}  // namespace repro
