#pragma once
// DeiT (Touvron et al., "Training data-efficient image transformers", arXiv 2012.12877): the ViT of
// timm's VisionTransformer with DeiT's sizes, as SPARTA builds it (mazumder-lab/SPARTA,
// src/models/deit.py: patch 16, qkv bias, MLP ratio 4, LayerNorm eps 1e-6, class-token pooling).
// deit_tiny: width 192, 3 heads, 12 blocks (5.7M parameters with 1000 classes); deit_small: 384,
// 6 heads, 12 blocks (22.1M).
//
// Tensor names, timm's (the DeiT release checkpoints and timm's Hugging Face safetensors):
//   cls_token [1, 1, D], pos_embed [1, 1 + (S/P)^2, D]        Frozen (requires_grad = false), as SPARTA
//   patch_embed.proj.{weight,bias}                            Conv2d C -> D, kernel = stride = P
//   blocks.{i}.norm1.{weight,bias}, blocks.{i}.attn.qkv.{weight,bias}, blocks.{i}.attn.proj.{weight,bias},
//   blocks.{i}.norm2.{weight,bias}, blocks.{i}.mlp.fc1.{weight,bias}, blocks.{i}.mlp.fc2.{weight,bias}
//   norm.{weight,bias}                                        final LayerNorm
//   head.{weight,bias}                                        the head, on the class token
//
// Block (pre-norm): x += proj(attention(qkv(norm1 x))); x += fc2(gelu(fc1(norm2 x))), exact (erf) GELU,
// attention softmax(q k^T / sqrt(D / heads)) v per head. Images must be image_size x image_size
// (224: SPARTA resizes CIFAR's 32x32 with Resize(224), datasets/image_augment.h resize_images).

#include <memory>
#include <vector>

#include "models/vision/detail/vision_model_base.h"

namespace repro {

class DeitBlockImpl;
class DeitPatchEmbedImpl;

class Deit : public detail::VisionModelBase {
 public:
  explicit Deit(const VisionConfig& config);              // config.architecture: deit_tiny or deit_small
  at::Tensor forward(const at::Tensor& images) override;  // [B, C, S, S] -> [B, classes]

 protected:
  void init_head(dp::PerSampleLinearImpl& head) override;  // timm: trunc_normal(std 0.02), zero bias

 private:
  at::Tensor cls_token_, pos_embed_;
  std::shared_ptr<DeitPatchEmbedImpl> patch_embed_;
  std::vector<std::shared_ptr<DeitBlockImpl>> blocks_;
  dp::PerSampleLayerNorm norm_{nullptr};
};

}  // namespace repro
