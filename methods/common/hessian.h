#pragma once
// Hessian preparation shared by the second-order solvers (GPTQ, SparseGPT, ALPS, ...): dead inputs,
// relative damping, and Cholesky factorizations that raise the damping when they fail.
//
// Conventions (those of IST-DASLab/gptq and IST-DASLab/sparsegpt): H = (2/n) sum x x^T is
// [in, in] fp32. An input j with diag(H)_j == 0 never fires; its H_jj is set to 1 so that H stays
// invertible. Damping is relative: percdamp * mean(diag H) on the diagonal (after the dead-input
// repair), plus hess_percdamp * diag(H) in "hess_diag" mode.
//
// Layer matrices are large (an 8B down_proj's H is 820 MB), and on a CPU every fresh allocation of
// that size also pays one page fault per 4 KiB page, so these helpers avoid copies: one copy of H
// is made, and the reverse factorization overwrites it in place.

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/params.h"
#include "core/run_context.h"

namespace repro {

struct DampingOptions {
  double percdamp = 0.01;        // + percdamp * mean(diag H) * I
  bool hess_diag = false;        // also + hess_percdamp * diag(H) (the 3BASiL runs)
  double hess_percdamp = 0.015;  // used only with hess_diag
};

// The damping parameters of a method: percdamp (>= 0), and with `hess_diag` also hess_diag and
// hess_percdamp (>= 0).
std::vector<ParamSpec> damping_params(bool hess_diag, double default_percdamp = 0.01);
// Reads what damping_params() declared (absent keys keep DampingOptions' defaults).
DampingOptions read_damping(const Params& params);

// A repaired, damped Hessian: H = H_source[order][:, order] with its diagonal replaced by
// diag + damping. A Cholesky retry multiplies `damping` by 10.
struct PreparedHessian {
  at::Tensor H;        // [in, in] fp32, repaired and damped, on the source's device (undefined
                       // once a factorization consumed it)
  at::Tensor diag;     // [in] fp32, diagonal of the repaired, undamped H (dead inputs: 1)
  at::Tensor damping;  // [in] fp32, added to the diagonal
  at::Tensor dead;     // [in] bool, inputs with diag(H) == 0
  int64_t n_dead = 0;
  at::Tensor source;   // the caller's undamped H (not copied; rebuilds after a consumed factorization)
  at::Tensor order;    // [in] int64 input order (undefined: identity), see permute_hessian
};

// Repairs dead inputs and damps. H: [in, in] fp32 (any device), undamped; not modified (and it must
// stay alive and unchanged while the result is used). Adds the number of dead inputs to
// ctx.count("dead_inputs"). Throws DataError on a non-square H.
PreparedHessian prepare_hessian(const at::Tensor& H, const DampingOptions& opts, RunContext& ctx);

// Reorders the inputs (GPTQ's act-order): afterwards H, diag, damping and dead are in the order
// perm ([in] int64, a permutation), i.e. H <- H[perm][:, perm].
void permute_hessian(PreparedHessian& h, const at::Tensor& perm);

// The number of times a factorization multiplies the damping by 10 before it gives up.
constexpr int kMaxCholeskyRetries = 4;

// Lower-triangular L with h.H = L L^T, [in, in] fp32; h.H is kept. When the factorization fails,
// multiplies h.damping by 10 (updating h.H), counts ctx.count("cholesky_retries") and tries again;
// after kMaxCholeskyRetries failed retries throws NumericalError naming `what`.
at::Tensor damped_cholesky(PreparedHessian& h, RunContext& ctx, const std::string& what = "layer");

// The upper-triangular R with h.H = R R^T (a Cholesky factorization in reverse index order:
// R = P chol(P H P) P, P the order-reversing permutation), [in, in] fp32. It holds everything the
// OBS sweeps need: GPTQ's Hinv factor is U = R^{-1}, with U_jj = 1 / R_jj (see obs_sweep.h).
// CONSUMES h.H: its memory becomes R and h.H is left undefined (no other [in, in] buffer is
// allocated), so R may come back with column-major strides. On CPU a blocked factorization with
// GEMM trailing updates is used for large H (see hessian.cpp). Retries like damped_cholesky,
// rebuilding H from h.source.
at::Tensor reverse_cholesky_upper(PreparedHessian& h, RunContext& ctx, const std::string& what = "layer");

// GPTQ's "Hinv": the upper-triangular U with U^T U = H^{-1}, [in, in] fp32 (row j holds the OBS
// update coefficients of column j once columns < j are fixed). Computed as R^{-1} from
// reverse_cholesky_upper (so it consumes h.H too): the same matrix as GPTQ's
// chol -> cholesky_inverse -> chol(upper) by uniqueness of the Cholesky factor.
at::Tensor inverse_cholesky_upper(PreparedHessian& h, RunContext& ctx, const std::string& what = "layer");

// The reference construction (chol(H) -> cholesky_inverse -> chol(., upper)), for tests.
at::Tensor reference_inverse_cholesky_upper(const at::Tensor& H_damped);

}  // namespace repro
