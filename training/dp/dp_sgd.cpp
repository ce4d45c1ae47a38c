#include "training/dp/dp_sgd.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <string>

#include <fmt/format.h>

#include "core/error.h"

namespace repro::dp {

namespace {

std::string num(double x) { return fmt::format("{:.6g}", x); }

void check_clip(double max_grad_norm) {
  if (!(max_grad_norm > 0.0)) throw ConfigError("DP-SGD: max_grad_norm " + num(max_grad_norm) + " must be > 0");
}

int64_t batch_size(const std::vector<at::Tensor>& grad_samples) {
  REPRO_ASSERT(!grad_samples.empty(), "DP-SGD: no per-sample gradients");
  const int64_t B = grad_samples[0].size(0);
  for (const auto& g : grad_samples)
    REPRO_ASSERT(g.dim() >= 1 && g.size(0) == B, "DP-SGD: per-sample gradients disagree on the batch size");
  return B;
}

// Clipping math in at least fp32 (fp16/bf16 grads would lose the norm).
at::ScalarType norm_dtype(const at::Tensor& g) { return at::promote_types(g.scalar_type(), at::kFloat); }

// c: [B] -> [B, 1, ..., 1] to broadcast against a [B, *shape] tensor.
at::Tensor expand_to(const at::Tensor& c, const at::Tensor& g) {
  std::vector<int64_t> shape(static_cast<size_t>(g.dim()), 1);
  shape[0] = c.size(0);
  return c.view(shape).to(g.scalar_type());
}

}  // namespace

at::Generator make_noise_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor per_sample_norms(const std::vector<at::Tensor>& grad_samples) {
  at::NoGradGuard no_grad;
  const int64_t B = batch_size(grad_samples);
  at::Tensor sq = at::zeros({B}, grad_samples[0].options().dtype(norm_dtype(grad_samples[0])));
  for (const auto& g : grad_samples) {
    const at::Tensor gf = g.to(sq.scalar_type());
    sq += g.dim() > 1 ? gf.square().flatten(1).sum(1) : gf.square();
  }
  return sq.sqrt_();
}

at::Tensor clip_factors(const at::Tensor& norms, double max_grad_norm) {
  check_clip(max_grad_norm);
  if (std::isinf(max_grad_norm)) return at::ones_like(norms);
  return (max_grad_norm / (norms + 1e-6)).clamp_max_(1.0);
}

std::vector<at::Tensor> clip_per_sample(const std::vector<at::Tensor>& grad_samples, double max_grad_norm) {
  at::NoGradGuard no_grad;
  const at::Tensor c = clip_factors(per_sample_norms(grad_samples), max_grad_norm);
  std::vector<at::Tensor> out;
  for (const auto& g : grad_samples) out.push_back(g * expand_to(c, g));
  return out;
}

std::vector<at::Tensor> clip_and_sum(const std::vector<at::Tensor>& grad_samples, double max_grad_norm) {
  at::NoGradGuard no_grad;
  const at::Tensor c = clip_factors(per_sample_norms(grad_samples), max_grad_norm);
  std::vector<at::Tensor> out;
  for (const auto& g : grad_samples) {
    if (g.size(0) == 0) {
      out.push_back(at::zeros(g.sizes().slice(1), g.options()));
      continue;
    }
    // sum_i c_i g_i as one contraction over the batch dimension.
    out.push_back(at::tensordot(c.to(g.scalar_type()), g, {0}, {0}));
  }
  return out;
}

std::vector<at::Tensor> noise_and_normalize(const std::vector<at::Tensor>& clipped_sums, const DpSgdOptions& o,
                                            at::Generator& generator) {
  at::NoGradGuard no_grad;
  check_clip(o.max_grad_norm);
  if (!(o.noise_multiplier >= 0.0))
    throw ConfigError("DP-SGD: noise_multiplier " + num(o.noise_multiplier) + " must be >= 0");
  if (!(o.expected_lot_size > 0.0))
    throw ConfigError("DP-SGD: expected_lot_size " + num(o.expected_lot_size) + " must be > 0");
  if (o.noise_multiplier > 0.0 && std::isinf(o.max_grad_norm))
    throw ConfigError("DP-SGD: noise needs a finite max_grad_norm (the noise std is noise_multiplier * max_grad_norm)");
  const double std = o.noise_multiplier * o.max_grad_norm;
  std::vector<at::Tensor> out;
  for (const auto& s : clipped_sums) {
    at::Tensor g = s.clone();
    if (std > 0.0) {
      const at::Tensor noise =
          at::randn(s.sizes(), generator, s.options().device(generator.device())).mul_(std).to(s.device());
      g.add_(noise);
    }
    out.push_back(g.div_(o.expected_lot_size));
  }
  return out;
}

std::vector<at::Tensor> privatize(const std::vector<at::Tensor>& grad_samples, const DpSgdOptions& options,
                                  at::Generator& generator) {
  return noise_and_normalize(clip_and_sum(grad_samples, options.max_grad_norm), options, generator);
}

}  // namespace repro::dp
