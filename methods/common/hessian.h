#pragma once
// Hessian preparation shared by the second-order solvers (GPTQ, SparseGPT, ALPS, ...): dead inputs,
// relative damping, and a Cholesky factorization that raises the damping when it fails.
//
// Conventions (specs/sparse_lowrank.md §0, specs/quantization.md §3.2): H = (2/n) sum x x^T is
// [in, in] fp32. An input j with diag(H)_j == 0 never fires; its H_jj is set to 1 so that H stays
// invertible. Damping is relative: percdamp * mean(diag H) on the diagonal (after the dead-input
// repair), plus hess_percdamp * diag(H) in "hess_diag" mode.

#include <cstdint>
#include <string>

#include <ATen/ATen.h>

#include "core/run_context.h"

namespace repro {

struct DampingOptions {
  double percdamp = 0.01;        // + percdamp * mean(diag H) * I
  bool hess_diag = false;        // also + hess_percdamp * diag(H) (the 3BASiL runs)
  double hess_percdamp = 0.015;  // used only with hess_diag
};

// A repaired, damped Hessian. H = base + diag(damping); a Cholesky retry multiplies `damping` by 10.
struct PreparedHessian {
  at::Tensor H;        // [in, in] fp32, repaired and damped; same device as the input
  at::Tensor base;     // [in, in] fp32, repaired but undamped
  at::Tensor damping;  // [in] fp32, what was added to the diagonal of `base`
  at::Tensor dead;     // [in] bool, inputs with diag(H) == 0 (H_jj was set to 1)
  int64_t n_dead = 0;
};

// Repairs dead inputs and damps. H: [in, in] fp32 (any device), undamped; not modified.
// Adds the number of dead inputs to ctx.count("dead_inputs"). Throws DataError on a non-square H.
PreparedHessian prepare_hessian(const at::Tensor& H, const DampingOptions& opts, RunContext& ctx);

// The number of times damped_cholesky multiplies the damping by 10 before it gives up.
constexpr int kMaxCholeskyRetries = 4;

// Lower-triangular L with h.H = L L^T, [in, in] fp32. When the factorization fails, multiplies
// h.damping by 10 (updating h.H), counts ctx.count("cholesky_retries") and tries again; after
// kMaxCholeskyRetries failed retries throws NumericalError naming `what`.
at::Tensor damped_cholesky(PreparedHessian& h, RunContext& ctx, const std::string& what = "layer");

// The upper-triangular R with h.H = R R^T (a Cholesky factorization in reverse index order:
// R = P chol(P H P) P, P the order-reversing permutation), [in, in] fp32. It holds everything the
// OBS sweeps need: GPTQ's Hinv factor is U = R^{-1}, with U_jj = 1 / R_jj (see obs_sweep.h).
// Retries like damped_cholesky.
at::Tensor reverse_cholesky_upper(PreparedHessian& h, RunContext& ctx, const std::string& what = "layer");

// GPTQ's "Hinv": the upper-triangular U with U^T U = h.H^{-1}, [in, in] fp32 (row j holds the OBS
// update coefficients of column j once columns < j are fixed). Computed as R^{-1} from
// reverse_cholesky_upper: the same matrix as GPTQ's chol -> cholesky_inverse -> chol(upper) by
// uniqueness of the Cholesky factor, with one factorization instead of two.
at::Tensor inverse_cholesky_upper(PreparedHessian& h, RunContext& ctx, const std::string& what = "layer");

// The reference construction (chol(H) -> cholesky_inverse -> chol(., upper)), for tests.
at::Tensor reference_inverse_cholesky_upper(const at::Tensor& H_damped);

}  // namespace repro
