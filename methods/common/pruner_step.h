#pragma once
// The sparse step of the alternating S + LR solvers (HASSLE-free, arXiv 2502.00899; EoRA as one
// HASSLE-free iteration): a pruning LayerCompressor (SparseGPT or ALPS) run on W - L, configured with the caller's own
// sparsity (sparsity, pattern, mask_solver) and damping (percdamp, hess_diag, hess_percdamp)
// parameters, so that the S step and the low-rank step see the same damped H.

#include <memory>
#include <string>

#include "core/params.h"
#include "core/value.h"
#include "methods/api/layer_compressor.h"

namespace repro {

// The `pruner` parameter: "sparsegpt" (default) or "alps".
ParamSpec pruner_param();

// Creates the plugin `name` configured with the caller's sparsity and damping parameters plus
// `extra` (the pruner's own keys, e.g. {"max_iter", 100} for ALPS, or a per-layer "sparsity"), which
// override the caller's. ConfigError as for a row.
std::unique_ptr<LayerCompressor> make_pruner(const std::string& name, const Params& params,
                                             const Value::Table& extra = {});

}  // namespace repro
