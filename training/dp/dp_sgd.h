#pragma once
// The privatised gradient of one DP-SGD step (Abadi et al., "Deep Learning with Differential
// Privacy", arXiv 1607.00133, Algorithm 1), with Opacus's semantics (opacus/optimizers/optimizer.py:
// clip_and_accumulate, add_noise, scale_grad):
//   c_i = min(1, C / (||g_i|| + 1e-6))      ||g_i|| over ALL trainable parameters jointly ("flat" clipping)
//   G   = sum_i c_i g_i + N(0, sigma^2 C^2 I) (fresh noise per coordinate)
//   g~  = G / L                              L = the EXPECTED lot size q n, not the realised one
// Physical micro-batches: add up clip_and_sum() over the micro-batches of one lot, then call
// noise_and_normalize() once. An empty lot (B = 0) gives zero sums and a noise-only step.
//
// The noise comes from the caller's generator (make_noise_generator(seed)): same seed, same noise.
// It is a Mersenne Twister (at::CPUGeneratorImpl), not a cryptographically secure generator: fine for research runs,
// not for releasing models under a formal guarantee (Opacus's secure_mode uses a CSPRNG).

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace repro::dp {

struct DpSgdOptions {
  double max_grad_norm = 1.0;      // C > 0; +infinity disables clipping (then sigma must be 0)
  double noise_multiplier = 0.0;   // sigma >= 0; the noise std is sigma * C
  double expected_lot_size = 1.0;  // L = q * n > 0
};

// A CPU generator seeded with `seed`, to be dedicated to DP noise.
at::Generator make_noise_generator(uint64_t seed);

// grad_samples: one tensor per parameter, [B, *shape_k], the same B, on one device.
// -> [B]: each example's L2 norm over all parameters jointly, in at least fp32.
at::Tensor per_sample_norms(const std::vector<at::Tensor>& grad_samples);

// norms: [B] -> [B] min(1, C / (norm + 1e-6)); all ones for C = +infinity.
at::Tensor clip_factors(const at::Tensor& norms, double max_grad_norm);

// The clipped per-example gradients c_i g_i, each [B, *shape_k] (for inspection; DP-SGD needs only their sum).
std::vector<at::Tensor> clip_per_sample(const std::vector<at::Tensor>& grad_samples, double max_grad_norm);

// sum_i c_i g_i for each parameter: [*shape_k], in the dtype of the grad samples.
std::vector<at::Tensor> clip_and_sum(const std::vector<at::Tensor>& grad_samples, double max_grad_norm);

// (sum + N(0, (sigma C)^2 I)) / L for each parameter, noise drawn from `generator` parameter by
// parameter in order (on the generator's device, then moved to the sum's); no draw when sigma = 0.
std::vector<at::Tensor> noise_and_normalize(const std::vector<at::Tensor>& clipped_sums, const DpSgdOptions& options,
                                            at::Generator& generator);

// clip_and_sum + noise_and_normalize: the privatised gradient of one lot, one tensor per parameter
// [*shape_k]. Throws ConfigError for options out of range.
std::vector<at::Tensor> privatize(const std::vector<at::Tensor>& grad_samples, const DpSgdOptions& options,
                                  at::Generator& generator);

}  // namespace repro::dp
