#include "models/vision/resnet_gn.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"

namespace repro {

namespace {

dp::PerSampleConv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return dp::PerSampleConv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

dp::PerSampleGroupNorm group_norm(const VisionConfig& c, int64_t channels) {
  return dp::PerSampleGroupNorm(torch::nn::GroupNormOptions(c.groups_for(channels), channels).eps(c.norm_eps));
}

// The 1x1 projection of a block whose stride or width changes: children "0" (conv) and "1" (norm).
class ShortcutImpl : public torch::nn::Module {
 public:
  ShortcutImpl(const VisionConfig& c, int64_t in, int64_t out, int64_t stride)
      : conv_(register_module("0", conv(in, out, 1, stride, 0))), norm_(register_module("1", group_norm(c, out))) {}
  at::Tensor forward(const at::Tensor& x) { return norm_->forward(conv_->forward(x)); }

 private:
  dp::PerSampleConv2d conv_;
  dp::PerSampleGroupNorm norm_;
};

}  // namespace

// SPARTA's BasicBlock: relu(bn1(conv1 x)) -> bn2(conv2 .) + shortcut(x) -> relu.
class ResNetGnBlockImpl : public torch::nn::Module {
 public:
  ResNetGnBlockImpl(const VisionConfig& c, int64_t in, int64_t out, int64_t stride)
      : conv1_(register_module("conv1", conv(in, out, 3, stride, 1))),
        bn1_(register_module("bn1", group_norm(c, out))),
        conv2_(register_module("conv2", conv(out, out, 3, 1, 1))),
        bn2_(register_module("bn2", group_norm(c, out))) {
    if (stride != 1 || in != out)
      shortcut_ = register_module("shortcut", std::make_shared<ShortcutImpl>(c, in, out, stride));
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor out = at::relu(bn1_->forward(conv1_->forward(x)));
    out = bn2_->forward(conv2_->forward(out));
    return at::relu(out + (shortcut_ ? shortcut_->forward(x) : x));
  }

 private:
  dp::PerSampleConv2d conv1_;
  dp::PerSampleGroupNorm bn1_;
  dp::PerSampleConv2d conv2_;
  dp::PerSampleGroupNorm bn2_;
  std::shared_ptr<ShortcutImpl> shortcut_;
};

namespace {

struct Layout {
  std::vector<int64_t> blocks;   // per stage
  std::vector<int64_t> strides;  // per stage
};

Layout layout_of(const VisionConfig& c) {
  if (c.architecture == "cnn_gn_small") return {{1, 1, 1}, {1, 2, 2}};
  if (c.depth == 10) return {{1, 1, 1, 1}, {1, 2, 2, 2}};
  if (c.depth == 34) return {{3, 4, 6, 3}, {1, 2, 2, 2}};
  return {{2, 2, 2, 2}, {1, 2, 2, 2}};
}

int64_t final_width(const VisionConfig& c) { return c.width << (layout_of(c).blocks.size() - 1); }

const VisionConfig& checked(const VisionConfig& c) {
  c.validate(c.architecture);
  if (c.architecture != "resnet18_gn" && c.architecture != "cnn_gn_small")
    throw ModelError(fmt::format("ResNetGn builds resnet18_gn and cnn_gn_small, not {}", c.architecture));
  return c;
}

}  // namespace

ResNetGn::ResNetGn(const VisionConfig& config) : VisionModelBase(checked(config), "linear", final_width(config)) {
  const VisionConfig& c = config_;
  conv1_ = register_module("conv1", conv(c.in_channels, c.width, 3, 1, 1));
  bn1_ = register_module("bn1", group_norm(c, c.width));
  const Layout lay = layout_of(c);
  int64_t in = c.width;
  for (size_t s = 0; s < lay.blocks.size(); ++s) {
    const int64_t out = c.width << s;
    auto stage = register_module("layer" + std::to_string(s + 1), torch::nn::ModuleList());
    std::vector<std::shared_ptr<ResNetGnBlockImpl>> blocks;
    for (int64_t i = 0; i < lay.blocks[s]; ++i) {
      blocks.push_back(std::make_shared<ResNetGnBlockImpl>(c, in, out, i == 0 ? lay.strides[s] : 1));
      stage->push_back(blocks.back());
      in = out;
    }
    stages_.push_back(std::move(blocks));
  }
  register_head();
  assign_roles();
}

at::Tensor ResNetGn::forward(const at::Tensor& images) {
  check_input(images, /*exact_size=*/false);
  at::Tensor x = at::relu(bn1_->forward(conv1_->forward(images)));
  for (auto& stage : stages_)
    for (auto& block : stage) x = block->forward(x);
  x = x.mean({2, 3});  // global average pool: [B, C]
  return head_->forward(x);
}

}  // namespace repro
