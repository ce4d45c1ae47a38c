#pragma once
// Wide ResNet with GroupNorm, as SPARTA fine-tunes it (mazumder-lab/SPARTA, src/models/wide_resnet.py,
// the pre-activation WRN of Zagoruyko & Komodakis, arXiv 1605.07146, after Opacus's
// ModuleValidator.fix replaced every BatchNorm2d(C) by GroupNorm(min(32, C), C)); pretrained on
// ImageNet32 in SPARTA (wrn_2810_imagenet32_gn.pt). Dropout is 0 there and omitted here.
//
// Tensor names:
//   conv1.{weight,bias}                                   stem, 3x3, 3 -> 16
//   layer{s}.{i}.bn1.{weight,bias}, layer{s}.{i}.conv1.{weight,bias},
//   layer{s}.{i}.bn2.{weight,bias}, layer{s}.{i}.conv2.{weight,bias}   block i of stage s (1..3)
//   layer{s}.{i}.shortcut.0.{weight,bias}                 1x1 projection when the stride or width changes
//   bn1.{weight,bias}                                     the final GroupNorm (after the stages)
//   linear.{weight,bias}                                  the head
//
// Every convolution has a bias (as in that code). Block: conv1(relu(bn1 x)) -> conv2(relu(bn2 .)) +
// shortcut(x), the stride on conv2. Widths 16, 16k, 32k, 64k with k = width; n = (depth - 4) / 6
// blocks per stage, strides 1-2-2; then relu(bn1), global average pool, linear. WRN-28-10: 36.5M
// parameters.

#include <memory>
#include <vector>

#include "models/vision/detail/vision_model_base.h"

namespace repro {

class WideResNetGnBlockImpl;

class WideResNetGn : public detail::VisionModelBase {
 public:
  explicit WideResNetGn(const VisionConfig& config);      // config.architecture: wrn_28_10_gn
  at::Tensor forward(const at::Tensor& images) override;  // [B, C, H, W] -> [B, classes]

 private:
  dp::PerSampleConv2d conv1_{nullptr};
  std::vector<std::shared_ptr<WideResNetGnBlockImpl>> blocks_;
  dp::PerSampleGroupNorm bn1_{nullptr};
};

}  // namespace repro
