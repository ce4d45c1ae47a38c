#include "methods/common/mask_solver.h"

#include <fmt/format.h>

#include "core/error.h"
#include "methods/common/topk.h"

namespace repro {

at::Tensor solve_mask(MaskSolver& solver, const at::Tensor& scores, NMPattern pattern, RunContext& ctx) {
  REPRO_ASSERT(scores.dim() == 2, "solve_mask: scores must be [out, in]");
  if (scores.size(1) % pattern.m != 0)
    throw NotSupported(fmt::format("a {}:{} mask needs the input width ({}) to be a multiple of {}", pattern.n,
                                   pattern.m, scores.size(1), pattern.m));
  at::Tensor mask = solver.solve(scores, pattern, ctx);
  const std::string& name = solver.info().name;
  REPRO_ASSERT(mask.defined() && mask.sizes() == scores.sizes(),
               fmt::format("mask solver '{}' returned a mask of the wrong shape", name));
  mask = mask.to(at::kBool);
  REPRO_ASSERT(satisfies_nm(mask, pattern, /*exact=*/true),
               fmt::format("mask solver '{}' returned a mask that does not keep exactly {} of every {}", name,
                           pattern.n, pattern.m));
  return mask;
}

}  // namespace repro
