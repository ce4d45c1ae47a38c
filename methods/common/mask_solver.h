#pragma once
// N:M mask selection through a named MaskSolver plugin, so that a pruner's `mask_solver` key can
// swap the default per-group top-N ("topk") for another solver (TSENOR) without the pruner knowing.

#include <string>

#include <ATen/ATen.h>

#include "core/run_context.h"
#include "core/value.h"
#include "methods/api.h"

namespace repro {

// The default solver's registry name (methods/topk).
inline constexpr const char* kDefaultMaskSolver = "topk";

// Looks `solver` up in Registry<MaskSolver>, configures it with `params` (null: its defaults) and
// solves. scores: [out, in] fp32 (higher = keep), in % pattern.m == 0, any device. Returns a bool
// mask [out, in] on scores' device. Throws ConfigError for an unknown solver name and
// InternalError when the solver returns a mask that is not exactly N of every M.
at::Tensor solve_mask(const at::Tensor& scores, NMPattern pattern, const std::string& solver, RunContext& ctx,
                      const Value& params = Value());

}  // namespace repro
