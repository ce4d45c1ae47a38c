#include "methods/common/layer_error.h"

#include "core/error.h"

namespace repro {

namespace {
// tr(E H E^T) = sum((E H) * E), fp64 so that tiny errors of large weights do not cancel.
double quad(const at::Tensor& E, const at::Tensor& H) {
  at::Tensor Ed = E.to(at::kDouble);
  return at::matmul(Ed, H.to(at::kDouble)).mul_(Ed).sum().item<double>();
}
}  // namespace

double layer_loss(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H) {
  REPRO_ASSERT(W.sizes() == What.sizes() && W.dim() == 2 && H.size(0) == W.size(1), "layer_loss: shapes");
  return quad(W.to(at::kDouble) - What.to(at::kDouble), H);
}

double relative_error(const at::Tensor& W, const at::Tensor& What, const at::Tensor& H) {
  const double denom = quad(W, H);
  return denom > 0 ? layer_loss(W, What, H) / denom : 0.0;
}

}  // namespace repro
