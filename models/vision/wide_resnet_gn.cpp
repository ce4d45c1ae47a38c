#include "models/vision/wide_resnet_gn.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"

#include <torch/nn/modules/container/modulelist.h>

namespace repro {

namespace {

dp::PerSampleConv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return dp::PerSampleConv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(true));
}

dp::PerSampleGroupNorm group_norm(const VisionConfig& c, int64_t channels) {
  return dp::PerSampleGroupNorm(torch::nn::GroupNormOptions(c.groups_for(channels), channels).eps(c.norm_eps));
}

// Child "0": the 1x1 projection (no normalisation in this architecture).
class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(int64_t in, int64_t out, int64_t stride) : conv_(register_module("0", conv(in, out, 1, stride, 0))) {}
  at::Tensor forward(const at::Tensor& x) { return conv_->forward(x); }

 private:
  dp::PerSampleConv2d conv_;
};

const VisionConfig& checked(const VisionConfig& c) {
  c.validate(c.architecture);
  if (c.architecture != "wrn_28_10_gn")
    throw ModelError(fmt::format("WideResNetGn builds wrn_28_10_gn, not {}", c.architecture));
  return c;
}

}  // namespace

class WideResNetGnBlockImpl : public torch::nn::Module {
 public:
  WideResNetGnBlockImpl(const VisionConfig& c, int64_t in, int64_t out, int64_t stride)
      : bn1_(register_module("bn1", group_norm(c, in))),
        conv1_(register_module("conv1", conv(in, out, 3, 1, 1))),
        bn2_(register_module("bn2", group_norm(c, out))),
        conv2_(register_module("conv2", conv(out, out, 3, stride, 1))) {
    if (stride != 1 || in != out)
      shortcut_ = register_module("shortcut", std::make_shared<ProjectionImpl>(in, out, stride));
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor out = conv1_->forward(at::relu(bn1_->forward(x)));
    out = conv2_->forward(at::relu(bn2_->forward(out)));
    return out + (shortcut_ ? shortcut_->forward(x) : x);
  }

 private:
  dp::PerSampleGroupNorm bn1_;
  dp::PerSampleConv2d conv1_;
  dp::PerSampleGroupNorm bn2_;
  dp::PerSampleConv2d conv2_;
  std::shared_ptr<ProjectionImpl> shortcut_;
};

WideResNetGn::WideResNetGn(const VisionConfig& config) : VisionModelBase(checked(config), "linear", 64 * config.width) {
  const VisionConfig& c = config_;
  const int64_t n = (c.depth - 4) / 6;
  conv1_ = register_module("conv1", conv(c.in_channels, 16, 3, 1, 1));
  int64_t in = 16;
  const int64_t widths[] = {16 * c.width, 32 * c.width, 64 * c.width};
  const int64_t strides[] = {1, 2, 2};
  for (int s = 0; s < 3; ++s) {
    auto stage = register_module("layer" + std::to_string(s + 1), torch::nn::ModuleList());
    for (int64_t i = 0; i < n; ++i) {
      blocks_.push_back(std::make_shared<WideResNetGnBlockImpl>(c, in, widths[s], i == 0 ? strides[s] : 1));
      stage->push_back(blocks_.back());
      in = widths[s];
    }
  }
  bn1_ = register_module("bn1", group_norm(c, in));
  register_head();
  assign_roles();
}

at::Tensor WideResNetGn::forward(const at::Tensor& images) {
  check_input(images, /*exact_size=*/false);
  at::Tensor x = conv1_->forward(images);
  for (auto& block : blocks_) x = block->forward(x);
  x = at::relu(bn1_->forward(x)).mean({2, 3});  // global average pool: [B, C]
  return head_->forward(x);
}

}  // namespace repro
