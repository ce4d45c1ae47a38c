#pragma once
// ADMM-Q (Lucas, Makni, Meng, Deng, Mazumder, arXiv 2605.11222): layer-wise weight quantization by a
// combinatorial ADMM in the diagonally scaled space of ALPS (arXiv 2406.07831), with a penalty
// schedule and a final local search. Only the abstract of the paper was available: the algorithm
// below is a reconstruction (methods/admm_q/README.md lists every guess).
// Exposed (besides the `admm_q` plugin) so that tests can watch the iterates.

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/run_context.h"
#include "methods/common/admm_schedule.h"
#include "models/compressed_linear.h"

namespace repro {

// The grid of every coordinate of a scaled-space matrix Bs = diag(c) W^T [in, out]: coordinate (j, r)
// takes the values c_j * s_{r,G(j)} * (k - z_{r,G(j)}), k = 0..maxq. The projection onto it is
// elementwise (round to nearest, clamp), exact for a product of scalar grids.
struct ScaledGrid {
  at::Tensor step;   // [in, out] fp32: c_j * s_{r,G(j)}
  at::Tensor zero;   // [in, out] fp32, integer-valued
  int64_t maxq = 0;

  // Codes of the nearest grid points: clamp(round(Y / step) + zero, 0, maxq). Y: [in, out] fp32;
  // returns [in, out] fp32, integer-valued.
  at::Tensor codes(const at::Tensor& Y) const;
  // step * (K - zero). K: [in, out] fp32 codes; returns [in, out] fp32.
  at::Tensor values(const at::Tensor& K) const;
};

// The scaled grid of q's grids (scales, zeros [out, n_groups], q.column_groups()) under the
// column scaling c ([in] fp32; ones gives the unscaled grid of W^T). Same device as q.
ScaledGrid make_scaled_grid(const QuantCodes& q, const at::Tensor& c);

// ALPS's schedule (x1.3 / x1.2 / x1.1 every 3 iterations, stop checks after 30) with ADMM-Q's
// default rho0 (0.01, measured: README.md).
inline RhoScheduleOptions admm_q_schedule(double rho0 = 0.01) {
  RhoScheduleOptions o;
  o.rho0 = rho0;
  return o;
}

struct AdmmQOptions {
  int64_t max_iter = 300;
  RhoScheduleOptions rho = admm_q_schedule();
  bool trace = false;      // record residual, objective and rho at the start and at every rho update
};

struct AdmmQResult {
  QuantCodes q;               // the init's grids; codes of the best feasible iterate (the init included)
  int64_t iterations = 0;
  int64_t resets = 0;         // schedule resets (rho cut before it ever grew)
  double init_objective = 0;  // tr((Q - W) H (Q - W)^T) of the init
  double objective = 0;       // the same for the returned codes (<= init_objective)
  // With options.trace, at the start and at every rho update: ||Bs - D||_F / ||Bs0||_F (the primal
  // residual of the splitting), the objective of the feasible copy D, and rho before the update.
  std::vector<double> residual, trace_objective, rho;
};

// W: [out, in] fp32; H: [in, in] fp32, damped (dead inputs repaired); init: codes on their grids for
// W (RTN or GPTQ; its grids are kept). All on one device; the result lives there too.
AdmmQResult admm_q_solve(const at::Tensor& W, const at::Tensor& H, const QuantCodes& init, const AdmmQOptions& opts,
                         RunContext& ctx);

struct LocalSearchResult {
  QuantCodes q;                    // q's grids, improved codes
  int64_t sweeps = 0;              // sweeps run
  int64_t moves = 0;               // accepted +-1 moves
  std::vector<double> objective;   // tr((Q - W) H (Q - W)^T) at the start and after each kept sweep
};

// Coordinate descent on the discrete problem with the grids fixed: sweeps over the input columns,
// all output rows at once, moving a code by +-1 when that lowers the objective (the change is
// 2 delta (H e_r)_j + delta^2 H_jj, e_r = q_r - w_r). Stops after max_sweeps, after a sweep without
// a move, or (undoing it) after a sweep that raised the objective through rounding. W: [out, in]
// fp32, H: [in, in] fp32 (damped), q: codes on their grids; block: columns per lazy update of H e.
LocalSearchResult local_search(const at::Tensor& W, const at::Tensor& H, const QuantCodes& q, int64_t max_sweeps,
                               int64_t block = 128);

}  // namespace repro
