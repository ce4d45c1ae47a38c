#include "models/vision/deit.h"

#include <cmath>

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"

#include <torch/nn/modules/container/modulelist.h>

namespace repro {

namespace {

// timm's trunc_normal_(t, std=0.02) truncates at +-2 (absolute), 100 standard deviations out:
// a plain normal, clamped for form.
void trunc_normal_02(at::Tensor& t) {
  at::NoGradGuard no_grad;
  t.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
}

// timm's VisionTransformer._init_weights for Linear layers.
dp::PerSampleLinear linear(int64_t in, int64_t out) {
  dp::PerSampleLinear l(in, out);
  trunc_normal_02(l->weight);
  at::NoGradGuard no_grad;
  l->bias.zero_();
  return l;
}

dp::PerSampleLayerNorm layer_norm(const VisionConfig& c) {
  return dp::PerSampleLayerNorm(torch::nn::LayerNormOptions({c.width}).eps(c.norm_eps));
}

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads)
      : heads_(heads),
        scale_(1.0 / std::sqrt(static_cast<double>(dim / heads))),
        qkv_(register_module("qkv", linear(dim, 3 * dim))),
        proj_(register_module("proj", linear(dim, dim))) {}

  at::Tensor forward(const at::Tensor& x) {  // [B, N, D] -> [B, N, D]
    const int64_t B = x.size(0), N = x.size(1), D = x.size(2);
    const at::Tensor qkv = qkv_->forward(x).reshape({B, N, 3, heads_, D / heads_}).permute({2, 0, 3, 1, 4});
    const at::Tensor q = qkv[0], k = qkv[1], v = qkv[2];  // [B, H, N, D / H]
    const at::Tensor attn = at::softmax(at::matmul(q * scale_, k.transpose(-2, -1)), -1);
    return proj_->forward(at::matmul(attn, v).transpose(1, 2).reshape({B, N, D}));
  }

 private:
  int64_t heads_;
  double scale_;
  dp::PerSampleLinear qkv_, proj_;
};

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden)
      : fc1_(register_module("fc1", linear(dim, hidden))), fc2_(register_module("fc2", linear(hidden, dim))) {}
  at::Tensor forward(const at::Tensor& x) { return fc2_->forward(at::gelu(fc1_->forward(x))); }

 private:
  dp::PerSampleLinear fc1_, fc2_;
};

const VisionConfig& checked(const VisionConfig& c) {
  c.validate(c.architecture);
  if (c.architecture != "deit_tiny" && c.architecture != "deit_small")
    throw ModelError(fmt::format("Deit builds deit_tiny and deit_small, not {}", c.architecture));
  return c;
}

}  // namespace

class DeitPatchEmbedImpl : public torch::nn::Module {
 public:
  explicit DeitPatchEmbedImpl(const VisionConfig& c)
      : proj_(register_module(
            "proj",
            dp::PerSampleConv2d(
                torch::nn::Conv2dOptions(c.in_channels, c.width, c.patch_size).stride(c.patch_size).bias(true)))) {}
  // [B, C, S, S] -> [B, N, D], patches in row-major order.
  at::Tensor forward(const at::Tensor& x) { return proj_->forward(x).flatten(2).transpose(1, 2); }

 private:
  dp::PerSampleConv2d proj_;
};

class DeitBlockImpl : public torch::nn::Module {
 public:
  explicit DeitBlockImpl(const VisionConfig& c)
      : norm1_(register_module("norm1", layer_norm(c))),
        attn_(register_module("attn", std::make_shared<AttentionImpl>(c.width, c.num_heads))),
        norm2_(register_module("norm2", layer_norm(c))),
        mlp_(register_module("mlp", std::make_shared<MlpImpl>(c.width, c.width * c.mlp_ratio))) {}

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor y = x + attn_->forward(norm1_->forward(x));
    return y + mlp_->forward(norm2_->forward(y));
  }

 private:
  dp::PerSampleLayerNorm norm1_;
  std::shared_ptr<AttentionImpl> attn_;
  dp::PerSampleLayerNorm norm2_;
  std::shared_ptr<MlpImpl> mlp_;
};

Deit::Deit(const VisionConfig& config) : VisionModelBase(checked(config), "head", config.width) {
  const VisionConfig& c = config_;
  const int64_t grid = c.image_size / c.patch_size;
  cls_token_ = register_parameter("cls_token", at::empty({1, 1, c.width}), /*requires_grad=*/false);
  pos_embed_ = register_parameter("pos_embed", at::empty({1, 1 + grid * grid, c.width}), /*requires_grad=*/false);
  trunc_normal_02(cls_token_);
  trunc_normal_02(pos_embed_);
  patch_embed_ = register_module("patch_embed", std::make_shared<DeitPatchEmbedImpl>(c));
  auto blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.depth; ++i) {
    blocks_.push_back(std::make_shared<DeitBlockImpl>(c));
    blocks->push_back(blocks_.back());
  }
  norm_ = register_module("norm", layer_norm(c));
  register_head();
  assign_roles();
}

void Deit::init_head(dp::PerSampleLinearImpl& head) {
  trunc_normal_02(head.weight);
  at::NoGradGuard no_grad;
  head.bias.zero_();
}

at::Tensor Deit::forward(const at::Tensor& images) {
  check_input(images, /*exact_size=*/true);
  const int64_t B = images.size(0);
  at::Tensor x = patch_embed_->forward(images);                      // [B, N, D]
  x = at::cat({cls_token_.expand({B, -1, -1}), x}, 1) + pos_embed_;  // [B, 1 + N, D]
  for (auto& block : blocks_) x = block->forward(x);
  x = norm_->forward(x);
  return head_->forward(x.select(1, 0));  // the class token: [B, D]
}

}  // namespace repro
