#pragma once
// MaskSolver: chooses an N:M mask from importance scores. Pruners (Wanda, SparseGPT, ALPS, ...)
// take one as their `mask_solver` component, so that a transposable-mask solver (TSENOR) plugs
// into every pruner by configuration.

#include <ATen/core/Tensor.h>

#include "methods/method.h"

namespace repro {

// An N:M pattern: at most n nonzeros in every group of m consecutive input columns of a row.
struct NMPattern {
  int n = 2, m = 4;
};

class MaskSolver : public Method {
 public:
  static constexpr const char* kFamily = "MaskSolver";
  // scores: [out, in] fp32 on any device, in % m == 0, higher = more important to keep.
  // Returns a bool mask [out, in] on scores' device with exactly n kept in every group of m
  // consecutive columns of a row (a transposable solver also keeps n per m rows of each m x m
  // block). Called many times per layer: heavy setup belongs in configure().
  virtual at::Tensor solve(const at::Tensor& scores, NMPattern pattern, RunContext& ctx) = 0;
  // True for a solver of transposable masks: every m x m block of the mask (blocks aligned at
  // multiples of m in both dimensions) keeps exactly n of every row and of every column, so the
  // mask and its transpose are both N:M. solve_mask() then also requires out % m == 0 and checks
  // the column condition of the returned mask.
  virtual bool transposable() const { return false; }
};

}  // namespace repro
