#pragma once
// A rank-r truncated SVD for solvers that take one per iteration of a slowly changing matrix (OATS,
// 3BASiL, HASSLE-free). `svd = "exact"` is a full LAPACK SVD truncated to r (what OATS's code does,
// stephenqz/OATS); `svd = "rank_r"` is a randomized subspace iteration (Halko, Martinsson, Tropp
// 2011, arXiv 0909.4061, Alg. 4.4) with r + oversample columns that, after its first call, starts
// from the previous call's right singular subspace, so one power step per call is enough while
// the matrix moves little between calls. The 3BASiL code's RRR uses torch.svd_lowrank (q = r + 5,
// niter = 2, a fresh random start each call; mazumder-lab/3BASiL).

#include <cstdint>
#include <string>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "core/params.h"
#include "methods/common/low_rank.h"

namespace repro {

enum class SvdMode { Exact, RankR };

// The `svd` parameter ("exact" | "rank_r") with its doc; `def` is the plugin's default.
ParamSpec svd_param(const std::string& def);
SvdMode read_svd_mode(const Params& params);  // reads "svd"

struct RankROptions {
  int64_t oversample = 8;   // extra basis columns beyond r
  int64_t power_iters = 2;  // power steps of the first (cold, random) call
  int64_t warm_iters = 1;   // power steps of every later (warm-started) call
};

class RankRSvd {
 public:
  // r >= 1; gen: the plugin's generator (ctx.generator(...)), used for the cold start only.
  RankRSvd(int64_t r, SvdMode mode, at::Generator gen, RankROptions opts = {});

  // The top-r singular triplets of M [rows, cols] fp32 (any device; r <= min(rows, cols)).
  TruncatedSvd operator()(const at::Tensor& M);

  // Forgets the warm start (the next call is cold).
  void reset() { basis_ = at::Tensor(); }
  int64_t rank() const { return r_; }
  SvdMode mode() const { return mode_; }

 private:
  int64_t r_;
  SvdMode mode_;
  at::Generator gen_;
  RankROptions opts_;
  at::Tensor basis_;  // [cols, k] orthonormal: the previous call's top-k right singular vectors
};

// weighted_low_rank (low_rank.h) with its inner SVD taken by `svd` (whose rank sets r).
LowRankFactors weighted_low_rank(const at::Tensor& R, const HessianEigen& eig, RankRSvd& svd);

}  // namespace repro
