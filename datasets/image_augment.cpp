#include "datasets/image_augment.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

at::Tensor resize_images(const at::Tensor& images, int64_t size) {
  if (images.dim() != 4)
    throw ConfigError(fmt::format("resize_images: images must be [B, C, H, W], got {} dimensions", images.dim()));
  if (size <= 0) throw ConfigError(fmt::format("resize_images: size {} is not positive", size));
  if (images.size(2) == size && images.size(3) == size) return images;
  return at::upsample_bilinear2d(images, {size, size}, /*align_corners=*/false);
}

}  // namespace repro
