#pragma once
// Derived forms of one layer's Hessian that several solves on the same H share. HASSLE-free's
// sparse step runs ALPS on W - L once per alternating iteration, always with the same H: without a
// memo each call repeats the damping, the fp64 eigendecomposition of the scaled Hessian and the
// (Hs + rho I)^{-1} rebuilds. A caller that solves several problems on one H puts a HessianMemo in
// LayerProblem::memo; solvers that know it (ALPS) take their ScaledHessian from it. The results are
// the same as without it, bit for bit.

#include <map>
#include <memory>
#include <tuple>

#include <ATen/core/Tensor.h>

#include "methods/common/hessian.h"
#include "methods/common/scaled_hessian.h"

namespace repro {

class RunContext;
struct LayerProblem;

class HessianMemo {
 public:
  // The ScaledHessian of H damped with `opts` (prepare_hessian, then ScaledHessian), built on the
  // first call for each damping. H must be the tensor the memo was first used with (asserted).
  std::shared_ptr<const ScaledHessian> scaled(const at::Tensor& H, const DampingOptions& opts, RunContext& ctx);

 private:
  const void* H_ = nullptr;
  std::map<std::tuple<double, bool, double>, std::shared_ptr<const ScaledHessian>> scaled_;
};

// From problem.memo when the caller gave one, else built for this call only.
std::shared_ptr<const ScaledHessian> scaled_hessian(const LayerProblem& problem, const DampingOptions& opts,
                                                    RunContext& ctx);

}  // namespace repro
