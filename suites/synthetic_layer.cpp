#include "suites/synthetic_layer.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace repro {

at::Tensor make_correlated_inputs(int64_t n_tokens, int64_t in, double decay, int64_t outliers, double outlier_scale,
                                  at::Generator& gen) {
  REPRO_ASSERT(n_tokens > 0 && in > 0);
  auto opts = at::TensorOptions().dtype(at::kFloat);
  // A random orthogonal basis Q (QR of a Gaussian matrix) and a decaying spectrum: cov = Q diag(s^2) Q^T.
  at::Tensor G = at::normal(0.0, 1.0, {in, in}, gen, opts);
  at::Tensor Q = std::get<0>(at::linalg_qr(G));
  at::Tensor s = at::pow(at::arange(1, in + 1, opts), -decay / 2.0);
  s = s / s.max();
  at::Tensor Z = at::normal(0.0, 1.0, {n_tokens, in}, gen, opts);
  at::Tensor X = at::matmul(Z * s, Q.t());
  // A non-zero mean per channel, as activations after a norm layer have.
  X = X + 0.1 * at::normal(0.0, 1.0, {1, in}, gen, opts) * X.std();
  if (outliers > 0) {
    at::Tensor idx = at::randperm(in, gen, at::TensorOptions().dtype(at::kLong)).slice(0, 0, std::min(outliers, in));
    at::Tensor scale = at::ones({in}, opts);
    scale.index_fill_(0, idx, outlier_scale);
    X = X * scale;
  }
  return X.contiguous();
}

SyntheticLayer make_synthetic_layer(const SyntheticLayerOptions& o, at::Generator& gen) {
  auto opts = at::TensorOptions().dtype(at::kFloat);
  SyntheticLayer layer;
  at::Tensor W = at::normal(0.0, 1.0 / std::sqrt(static_cast<double>(o.in_features)), {o.out_features, o.in_features},
                            gen, opts);
  // Heavy tail: 0.5% of the weights are five times larger, as trained LLM weights have.
  at::Tensor big = at::rand({o.out_features, o.in_features}, gen, opts).lt(0.005);
  layer.W = at::where(big, W * 5.0, W).contiguous();
  layer.X = make_correlated_inputs(o.n_tokens, o.in_features, o.spectrum_decay, o.outlier_channels, o.outlier_scale, gen);
  return layer;
}

at::Tensor hessian_from_inputs(const at::Tensor& X) {
  at::Tensor Xf = X.to(at::kFloat);
  return at::matmul(Xf.t(), Xf) * (2.0 / static_cast<double>(Xf.size(0)));
}

}  // namespace repro
