#pragma once
// The sparsity parameters every pruner shares (sparsity, pattern, mask_solver), their parsing and
// validation, and the mask selection they imply.

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/params.h"
#include "core/run_context.h"
#include "methods/api/mask_solver.h"

namespace repro {

// "unstructured" or "N:M" (keep N of every M consecutive input columns of a row, 0 < N < M).
struct SparsityPattern {
  bool nm = false;
  int n = 0, m = 0;

  // Throws ConfigError on anything else ("2:4", "unstructured").
  static SparsityPattern parse(const std::string& text);
  std::string str() const;
  NMPattern nm_pattern() const { return {n, m}; }
};

struct SparsitySpec {
  double sparsity = 0.5;  // fraction of weights pruned (unstructured; N:M implies 1 - N/M)
  SparsityPattern pattern;
  std::string mask_solver = "topk";     // the MaskSolver's canonical spec, e.g. "topk()"
  bool transposable = false;            // N:M along rows and columns of every M x M block (TSENOR)
  std::shared_ptr<MaskSolver> solver;  // created once per row by sparsity_pattern()

  // The fraction actually pruned: sparsity, or 1 - N/M.
  double effective_sparsity() const;
};

// The shared ParamSpecs: sparsity (float in [0, 1)), pattern (string), mask_solver (a MaskSolver
// component, default topk), transposable (bool, default false; left out of the canonical spec at its
// default so that records made before it existed stay valid).
std::vector<ParamSpec> sparsity_params(double default_sparsity = 0.5);

// Reads the shared parameters and creates the mask solver (ConfigError via params.fail on a
// malformed pattern, on transposable = true without an N:M pattern, and on a mask solver whose kind
// (row-wise or transposable) disagrees with `transposable`). Call it from configure(): it runs once
// per row.
SparsitySpec sparsity_pattern(const Params& params);

// Throws NotSupported when an N:M pattern does not tile a layer of `in` input columns (nor, for a
// transposable pattern, its `out` rows).
void check_pattern_fits(const SparsitySpec& spec, int64_t out, int64_t in, const std::string& layer);

// How an unstructured budget is spread: one threshold for the whole matrix, or per output row.
enum class UnstructuredScope { Layer, Row };

// The mask of kept weights for `scores` (higher = keep), [out, in] on any device -> bool [out, in].
//  - N:M: solve_mask(*spec.solver, scores, pattern);
//  - unstructured, Layer: keep round((1 - p) * numel) over the whole matrix;
//  - unstructured, Row: prune floor(in * p) per row (the Wanda convention).
at::Tensor select_mask(const at::Tensor& scores, const SparsitySpec& spec, UnstructuredScope scope, RunContext& ctx);

}  // namespace repro
