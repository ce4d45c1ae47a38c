#pragma once
// N:M mask selection through a MaskSolver plugin, so that a pruner's `mask_solver` component can
// swap the default per-group top-N ("topk") for another solver (TSENOR) without the pruner knowing.

#include <ATen/core/Tensor.h>

#include "methods/api/mask_solver.h"

namespace repro {

// The default solver's registry name (methods/topk).
inline constexpr const char* kDefaultMaskSolver = "topk";

// solver.solve(scores, pattern), checked. scores: [out, in] fp32 (higher = keep), any device.
// Returns a bool mask [out, in] on scores' device. Throws NotSupported when in % pattern.m != 0 (or,
// for a transposable solver, out % pattern.m != 0) and InternalError when the solver returns a mask
// that is not exactly N of every M (for a transposable solver: not exactly N in every row and every
// column of each M x M block).
at::Tensor solve_mask(MaskSolver& solver, const at::Tensor& scores, NMPattern pattern, RunContext& ctx);

}  // namespace repro
