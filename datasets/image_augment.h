#pragma once
// Training-time image transforms of SPARTA's CIFAR pipeline (mazumder-lab/SPARTA,
// src/utils/dataset_utils.py and src/utils/train_utils.py), as tensor ops on a batch:
//
//   torchvision: RandomCrop(32, padding=4) -> RandomHorizontalFlip() -> ToTensor() -> Normalize(mean, std)
//   here:        repro::dp::random_crop_flip (training/dp/image_augment.h: per example, with the
//                fill value of black after normalisation), then the model
//
// and, for the DeiT models, Resize(224) of the (normalised) batch before the forward pass.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace repro {

// Bilinear resize to size x size (align_corners = false; torchvision's Resize(size) of a square
// image, which for upsampling does not depend on antialiasing). images: [B, C, H, W] float.
at::Tensor resize_images(const at::Tensor& images, int64_t size);

}  // namespace repro
