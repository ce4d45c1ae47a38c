#pragma once
// Fast N:M support selection for the ADMM-style solvers (ALPS, 3BASiL, HASSLE-free-ALPS) that
// project every iteration. Their variables live in the scaled-transposed space Z = D W^T
// [in, out] (the scaling of ALPS, arXiv 2406.07831, and its code mazumder-lab/ALPS), where an N:M group is M consecutive ROWS of one
// column. Going through the generic mask solver means a transposed copy, a topk over [out, in/M, M]
// and a transposed mask every iteration; here the groups are read in place.

#include <ATen/core/Tensor.h>

#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {

// Keeps the n largest |Z| of every m consecutive entries along `dim` (0 or 1) of Z [rows, cols]
// (any float dtype, any device; Z.size(dim) % m == 0). Returns a bool mask of Z's shape. Ties keep
// the lower index. The CPU fp32 path is a single pass with no temporaries beyond the mask; other
// devices compare within each group with tensor ops (m^2 comparisons, no sort).
at::Tensor nm_abs_mask(const at::Tensor& Z, NMPattern pattern, int64_t dim);

// Kept entries of a scaled-space matrix Z [in, out]: the global top-k of |Z| (unstructured, k =
// round((1 - p) numel), one threshold per layer as in ALPS / 3BASiL), or N of every M consecutive
// inputs of each output (N:M). N:M goes through nm_abs_mask when the spec's solver is the default
// `topk` (identical masks up to ties), and through the configured MaskSolver on |Z|^T otherwise.
// Returns bool [in, out].
at::Tensor scaled_support(const at::Tensor& Z, const SparsitySpec& spec, RunContext& ctx);

// True when `spec` selects N:M masks with the default topk solver (so nm_abs_mask may stand in).
bool uses_default_nm_solver(const SparsitySpec& spec);

}  // namespace repro
