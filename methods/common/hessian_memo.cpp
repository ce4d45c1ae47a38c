#include "methods/common/hessian_memo.h"

#include "core/error.h"
#include "methods/api/layer_compressor.h"

namespace repro {

std::shared_ptr<const ScaledHessian> HessianMemo::scaled(const at::Tensor& H, const DampingOptions& opts,
                                                         RunContext& ctx) {
  if (!H_) H_ = H.data_ptr();
  REPRO_ASSERT(H_ == H.data_ptr(), "HessianMemo used with a different Hessian than the one it was made for");
  const auto key = std::make_tuple(opts.percdamp, opts.hess_diag, opts.hess_percdamp);
  auto it = scaled_.find(key);
  if (it != scaled_.end()) return it->second;
  PreparedHessian h = prepare_hessian(H, opts, ctx);
  auto sh = std::make_shared<const ScaledHessian>(h.H);
  scaled_.emplace(key, sh);
  return sh;
}

std::shared_ptr<const ScaledHessian> scaled_hessian(const LayerProblem& problem, const DampingOptions& opts,
                                                    RunContext& ctx) {
  if (problem.memo) return problem.memo->scaled(problem.hessian(), opts, ctx);
  PreparedHessian h = prepare_hessian(problem.hessian(), opts, ctx);
  return std::make_shared<const ScaledHessian>(h.H);
}

}  // namespace repro
