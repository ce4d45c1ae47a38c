#pragma once
// ResNet with GroupNorm for small images: the CIFAR ResNet-18 that SPARTA fine-tunes
// (mazumder-lab/SPARTA, src/models/resnet.py, after Opacus's ModuleValidator.fix replaced every
// BatchNorm2d(C) by GroupNorm(min(32, C), C)), and a three-stage variant for 28x28 grayscale
// images (cnn_gn_small). He et al., "Deep Residual Learning", arXiv 1512.03385, Sec. 4.2 (the CIFAR
// stem: one 3x3 convolution, no max pooling).
//
// Tensor names, as in SPARTA's checkpoints (resnet18_cifar100_gn.pt):
//   conv1.weight, bn1.{weight,bias}                       stem (3x3, stride 1, no bias; bn1 is a GroupNorm)
//   layer{s}.{i}.conv1.weight, layer{s}.{i}.bn1.{weight,bias}, layer{s}.{i}.conv2.weight,
//   layer{s}.{i}.bn2.{weight,bias}                        BasicBlock i of stage s
//   layer{s}.{i}.shortcut.0.weight, layer{s}.{i}.shortcut.1.{weight,bias}   1x1 projection + GroupNorm
//                                                         (when the stride or the width changes)
//   linear.{weight,bias}                                  the head
//
// resnet18_gn: stages of width 64-128-256-512, strides 1-2-2-2, 2 blocks each (11.2M parameters with
// 10 classes). cnn_gn_small: widths 16-32-64, strides 1-2-2, 1 block each, 8 GroupNorm groups (78k
// parameters with 10 classes; 28 -> 28 -> 14 -> 7). Both end with a global average pool (SPARTA's
// avg_pool2d(out, 4) is the same on 32x32 inputs) and the linear head.

#include <memory>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>

#include "models/vision/detail/vision_model_base.h"

namespace repro {

class ResNetGnBlockImpl;

class ResNetGn : public detail::VisionModelBase {
 public:
  // config.architecture: resnet18_gn or cnn_gn_small (validated here).
  explicit ResNetGn(const VisionConfig& config);
  at::Tensor forward(const at::Tensor& images) override;  // [B, C, H, W] -> [B, classes]

 private:
  dp::PerSampleConv2d conv1_{nullptr};
  dp::PerSampleGroupNorm bn1_{nullptr};
  std::vector<std::vector<std::shared_ptr<ResNetGnBlockImpl>>> stages_;
};

}  // namespace repro
