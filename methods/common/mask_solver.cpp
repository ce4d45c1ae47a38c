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
  const std::string& name = solver.info().name;
  if (solver.transposable() && scores.size(0) % pattern.m != 0)
    throw NotSupported(
        fmt::format("mask solver '{}' chooses transposable {}:{} masks, which need both dimensions of "
                    "the scores to be multiples of {}; got scores of shape [{}, {}]",
                    name, pattern.n, pattern.m, pattern.m, scores.size(0), scores.size(1)));
  at::Tensor mask = solver.solve(scores, pattern, ctx);
  REPRO_ASSERT(mask.defined() && mask.sizes() == scores.sizes(),
               fmt::format("mask solver '{}' returned a mask of the wrong shape", name));
  mask = mask.to(at::kBool);
  // A transposable mask is also N:M along rows: one check of every block covers both (the row
  // check runs again only to name what failed).
  if (solver.transposable() && satisfies_transposable_nm(mask, pattern)) return mask;
  REPRO_ASSERT(satisfies_nm(mask, pattern, /*exact=*/true),
               fmt::format("mask solver '{}' returned a mask that does not keep exactly {} of every {}", name,
                           pattern.n, pattern.m));
  REPRO_ASSERT(!solver.transposable(),
               fmt::format("transposable mask solver '{}' returned a mask whose {}x{} blocks do not keep exactly {} "
                           "of every column",
                           name, pattern.m, pattern.m, pattern.n));
  return mask;
}

}  // namespace repro
