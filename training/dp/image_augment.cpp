#include "training/dp/image_augment.h"

#include <ATen/ATen.h>

#include <ATen/core/grad_mode.h>

#include "core/error.h"

namespace repro::dp {

at::Tensor random_crop_flip(const at::Tensor& images, int64_t padding, const std::vector<double>& fill,
                            at::Generator& generator) {
  at::NoGradGuard no_grad;
  if (images.dim() != 4) throw ConfigError("augmentation: images must be [B, C, H, W]");
  if (padding < 0) throw ConfigError("augmentation: padding must be >= 0");
  const int64_t B = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  if (!fill.empty() && static_cast<int64_t>(fill.size()) != C)
    throw ConfigError("augmentation: " + std::to_string(fill.size()) + " fill values for " + std::to_string(C) +
                      " channels");
  if (B == 0) return images;
  at::Tensor padded = at::zeros({B, C, H + 2 * padding, W + 2 * padding}, images.options());
  if (!fill.empty())
    padded.copy_(
        at::tensor(fill, images.options().device(at::kCPU)).to(images.device()).view({1, C, 1, 1}).expand_as(padded));
  padded.narrow(2, padding, H).narrow(3, padding, W).copy_(images);
  const at::TensorOptions cpu_long = at::TensorOptions().dtype(at::kLong);
  const at::Tensor offsets = at::randint(0, 2 * padding + 1, {B, 2}, generator, cpu_long);
  const at::Tensor flips = at::rand({B}, generator).lt(0.5);
  const auto off = offsets.accessor<int64_t, 2>();
  const auto flip = flips.accessor<bool, 1>();
  at::Tensor out = at::empty_like(images);
  for (int64_t b = 0; b < B; ++b) {
    at::Tensor crop = padded[b].narrow(1, off[b][0], H).narrow(2, off[b][1], W);
    out[b].copy_(flip[b] ? crop.flip({2}) : crop);
  }
  return out;
}

}  // namespace repro::dp
