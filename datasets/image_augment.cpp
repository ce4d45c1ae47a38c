#include "datasets/image_augment.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

at::Generator make_augment_generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor random_crop_flip(const at::Tensor& images, int64_t padding, at::Generator& gen, bool flip) {
  if (images.dim() != 4)
    throw ConfigError(fmt::format("random_crop_flip: images must be [B, C, H, W], got {} dimensions", images.dim()));
  if (padding < 0) throw ConfigError(fmt::format("random_crop_flip: padding {} is negative", padding));
  const int64_t B = images.size(0), H = images.size(2), W = images.size(3);
  const auto cpu_long = at::TensorOptions().dtype(at::kLong);
  const at::Tensor top = at::randint(0, 2 * padding + 1, {B}, gen, cpu_long);
  const at::Tensor left = at::randint(0, 2 * padding + 1, {B}, gen, cpu_long);
  const at::Tensor mirror = flip ? at::rand({B}, gen, at::TensorOptions().dtype(at::kFloat)).lt(0.5)
                                 : at::zeros({B}, at::TensorOptions().dtype(at::kBool));
  const at::Tensor padded =
      padding > 0 ? at::constant_pad_nd(images, {padding, padding, padding, padding}, 0.0) : images;
  at::Tensor out = at::empty_like(images, at::MemoryFormat::Contiguous);
  const auto* t = top.data_ptr<int64_t>();
  const auto* l = left.data_ptr<int64_t>();
  const auto* m = mirror.data_ptr<bool>();
  for (int64_t b = 0; b < B; ++b) {
    at::Tensor crop = padded[b].narrow(1, t[b], H).narrow(2, l[b], W);
    out[b].copy_(m[b] ? crop.flip({2}) : crop);
  }
  return out;
}

at::Tensor resize_images(const at::Tensor& images, int64_t size) {
  if (images.dim() != 4)
    throw ConfigError(fmt::format("resize_images: images must be [B, C, H, W], got {} dimensions", images.dim()));
  if (size <= 0) throw ConfigError(fmt::format("resize_images: size {} is not positive", size));
  if (images.size(2) == size && images.size(3) == size) return images;
  return at::upsample_bilinear2d(images, {size, size}, /*align_corners=*/false);
}

}  // namespace repro
