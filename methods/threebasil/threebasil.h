#pragma once
// 3BASiL's 3-block ADMM (Makni, Meng, Mazumder, NeurIPS 2025, arXiv 2603.01376, Alg. 1;
// mazumder-lab/3BASiL): min over S, L of 1/2 tr((W - S - L) H (W - S - L)^T) with S sparse (per-layer
// top-k or N:M) and rank(L) <= r, split as Z (dense copy of S) = D (sparse copy), L solved exactly
// by the H-weighted reduced-rank regression every iteration.
// Exposed (besides the `threebasil` plugin) so that tests can watch the iterates.

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/run_context.h"
#include "methods/common/admm_schedule.h"
#include "methods/common/low_rank.h"
#include "methods/common/rank_r_svd.h"
#include "methods/common/sparsity_pattern.h"

namespace repro {

struct ThreeBasilOptions {
  int64_t rank = 64;
  int64_t max_iter = 2000;
  SvdMode svd = SvdMode::RankR;
  RhoScheduleOptions rho;  // set by threebasil_schedule()
  bool trace = false;      // record the objective and the constraint violation at every rho update
};

// 3BASiL's schedule: x1.1 / x1.05 / x1.02 every 10 iterations, stop checks after iteration 100.
RhoScheduleOptions threebasil_schedule(double rho0 = 0.1);

struct ThreeBasilResult {
  at::Tensor S;       // [out, in] fp32, zero outside mask
  at::Tensor mask;    // [out, in] bool
  LowRankFactors L;   // B [out, r], A [r, in]
  int64_t iterations = 0;
  // With options.trace: at the start and at every rho update, the objective
  // 1/2 tr((W - S_D - L) H (W - S_D - L)^T) of the feasible iterate (S_D from the sparse copy D)
  // and the violation ||Z - D||_F / ||Z0||_F.
  std::vector<double> objective, violation;
};

// W: [out, in] fp32; H: [in, in] fp32, already damped (used for the scaling, the ADMM and the RRR).
ThreeBasilResult threebasil_admm(const at::Tensor& W, const at::Tensor& H, const SparsitySpec& spec,
                                 const ThreeBasilOptions& opts, RunContext& ctx);

}  // namespace repro
