#pragma once
// Training-time image transforms of SPARTA's CIFAR pipeline (mazumder-lab/SPARTA,
// src/utils/dataset_utils.py and src/utils/train_utils.py), as tensor ops on a batch:
//
//   torchvision: RandomCrop(32, padding=4) -> RandomHorizontalFlip() -> ToTensor() -> Normalize(mean, std)
//   here:        normalize_images(random_crop_flip(batch, 4, gen), mean, std)
//
// and, for the DeiT models, Resize(224) of the (normalised) batch before the forward pass. The crop
// pads with zeros before normalisation, as torchvision pads the PIL image with black, so apply it
// to [0, 1] pixels and normalise afterwards.

#include <cstdint>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace repro {

// A seeded CPU generator for augmentation draws (same seed, same crops and flips).
at::Generator make_augment_generator(uint64_t seed);

// Per image: zero-pad by `padding` on every side, crop a window of the original size at a uniform
// offset in [0, 2 * padding] per axis, then (when `flip`) mirror left-right with probability 1/2.
// The draws come from `gen` (CPU) in a fixed order: all row offsets, all column offsets, all flips.
// images: [B, C, H, W] any float dtype and device -> same shape, dtype and device.
at::Tensor random_crop_flip(const at::Tensor& images, int64_t padding, at::Generator& gen, bool flip = true);

// Bilinear resize to size x size (align_corners = false; torchvision's Resize(size) of a square
// image, which for upsampling does not depend on antialiasing). images: [B, C, H, W] float.
at::Tensor resize_images(const at::Tensor& images, int64_t size);

}  // namespace repro
