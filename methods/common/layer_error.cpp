#include "methods/common/layer_error.h"

#include <ATen/ATen.h>

#include "core/error.h"

namespace repro {

namespace {
// tr(E H E^T) = sum((E H) * E). The difference E is formed in fp64 by the callers (so that tiny
// errors of large weights do not cancel), the GEMM runs in fp32 (an fp64 GEMM of an 8B layer costs
// minutes on a CPU) and the final sum is accumulated in fp64.
double quad(const at::Tensor& E, const at::Tensor& H) {
  at::Tensor Ef = E.to(at::kFloat);
  return at::matmul(Ef, H.to(at::kFloat)).mul_(Ef).sum(at::kDouble).item<double>();
}
}  // namespace

double layer_loss(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H) {
  REPRO_ASSERT(W.sizes() == What.sizes() && W.dim() == 2 && H.size(0) == W.size(1), "layer_loss: shapes");
  return quad(W.to(at::kDouble) - What.to(at::kDouble), H);  // fp64 difference, then fp32
}

double relative_error(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H) {
  const double denom = quad(W, H);
  return denom > 0 ? layer_loss(W, What, H) / denom : 0.0;
}

}  // namespace repro
