#pragma once
// Synthetic layer problems whose inputs look like a transformer's: correlated channels (a decaying
// spectrum) and a few outlier channels with much larger magnitude, all drawn from one generator.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace repro {

struct SyntheticLayerOptions {
  int64_t out_features = 512;
  int64_t in_features = 512;
  int64_t n_tokens = 2048;
  double spectrum_decay = 1.0;   // eigenvalue k of the input covariance ~ (k + 1)^-decay
  int64_t outlier_channels = 4;  // input channels scaled by outlier_scale
  double outlier_scale = 20.0;
};

struct SyntheticLayer {
  at::Tensor W;  // [out, in] fp32, N(0, 1/in) entries with a few heavy-tailed ones
  at::Tensor X;  // [n_tokens, in] fp32 inputs
};

// Deterministic for a given generator state.
SyntheticLayer make_synthetic_layer(const SyntheticLayerOptions& options, at::Generator& gen);

// Inputs only (for a weight read from a file): X [n_tokens, in] fp32.
at::Tensor make_correlated_inputs(int64_t n_tokens, int64_t in_features, double spectrum_decay,
                                  int64_t outlier_channels, double outlier_scale, at::Generator& gen);

// H = (2 / n_rows) X^T X, the Hessian convention of the layer-wise methods. X: [n, in] -> [in, in] fp32.
at::Tensor hessian_from_inputs(const at::Tensor& X);

}  // namespace repro
