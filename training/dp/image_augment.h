#pragma once
// The training-time augmentation of SPARTA's CIFAR loaders (mazumder-lab/SPARTA,
// src/utils/dataset_utils.py): torchvision RandomCrop(32, padding = 4) then RandomHorizontalFlip(),
// per example, here on a batch of tensors. Augmenting each example of a lot independently keeps
// DP-SGD's per-example sensitivity (the map acts on one example at a time).

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace repro::dp {

// images: [B, C, H, W] float -> [B, C, H, W]: each example padded by `padding` on every side with
// fill[c] (empty: 0), cropped back to H x W at a uniform offset in [0, 2 padding]^2, and mirrored
// left-right with probability 1/2. Draws come from `generator` (CPU). torchvision pads the raw image
// with 0 (black) before normalising; for normalised inputs pass fill[c] = -mean[c] / std[c] to match.
at::Tensor random_crop_flip(const at::Tensor& images, int64_t padding, const std::vector<double>& fill,
                            at::Generator& generator);

}  // namespace repro::dp
