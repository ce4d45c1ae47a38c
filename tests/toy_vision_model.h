#pragma once
// A tiny VisionModel for the private-training tests (training/dp, methods/api/private_trainer.h),
// built from the PerSample layers like the real image models:
//   x + offset (Frozen, [1, C, 1, 1])
//   conv1 3x3 C -> 8 (padding 1, bias: Maskable + Bias) -> gn GroupNorm(2, 8) (Norm) -> ReLU
//   conv2 3x3 8 -> 6 (stride 2, padding 1, no bias: Maskable) -> ReLU -> mean over H, W
//   head Linear 6 -> classes (Head)
// and a labelled toy set: class k is a fixed random pattern scaled by 1.5 plus unit noise.

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>
#include <string>

#include "models/vision/vision_model.h"
#include "training/dp/dp_trainer_loop.h"
#include "training/dp/per_sample_layers.h"

namespace repro::test {

class ToyVisionModel : public VisionModel {
 public:
  explicit ToyVisionModel(int64_t classes, int64_t channels = 3, int64_t size = 8) : channels_(channels), size_(size) {
    conv1 = register_module("conv1", dp::PerSampleConv2d(torch::nn::Conv2dOptions(channels, 8, 3).padding(1)));
    gn = register_module("gn", dp::PerSampleGroupNorm(2, 8));
    conv2 = register_module("conv2",
                            dp::PerSampleConv2d(torch::nn::Conv2dOptions(8, 6, 3).stride(2).padding(1).bias(false)));
    head = register_module("head", dp::PerSampleLinear(6, classes));
    offset = register_parameter("offset", at::randn({1, channels, 1, 1}) * 0.1);
    // A pretrained model's norms are not the identity: make their gradients and updates visible.
    at::NoGradGuard g;
    gn->weight.add_(at::randn_like(gn->weight) * 0.1);
    gn->bias.add_(at::randn_like(gn->bias) * 0.1);
  }

  at::Tensor forward(const at::Tensor& images) override {
    at::Tensor h = gn->forward(conv1->forward(images + offset)).relu();
    h = conv2->forward(h).relu().mean({2, 3});
    return head->forward(h);
  }

  ParamRole role(const std::string& name) const override {
    if (name.rfind("head.", 0) == 0) return ParamRole::Head;
    if (name.rfind("gn.", 0) == 0) return ParamRole::Norm;
    if (name == "offset") return ParamRole::Frozen;
    if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0) return ParamRole::Bias;
    return ParamRole::Maskable;
  }

  void reset_head(int64_t classes) override { head = replace_module("head", dp::PerSampleLinear(6, classes)); }
  int64_t num_classes() const override { return head->weight.size(0); }
  int64_t in_channels() const override { return channels_; }
  int64_t image_size() const override { return size_; }

  dp::PerSampleConv2d conv1{nullptr}, conv2{nullptr};
  dp::PerSampleGroupNorm gn{nullptr};
  dp::PerSampleLinear head{nullptr};
  at::Tensor offset;

 private:
  int64_t channels_, size_;
};

// n examples of `classes` classes (labels cycle 0, 1, ..., classes - 1), C x size x size; the class
// patterns come from `seed`, the noise from `seed` + 1.
inline dp::LabeledImages toy_images(int64_t n, int64_t classes, uint64_t seed, int64_t channels = 3, int64_t size = 8) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor patterns = at::randn({classes, channels, size, size}, g) * 1.5;
  at::Generator noise = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  dp::LabeledImages d;
  d.labels = at::arange(n, at::TensorOptions().dtype(at::kLong)).remainder(classes);
  d.images = patterns.index_select(0, d.labels) + at::randn({n, channels, size, size}, noise);
  return d;
}

}  // namespace repro::test
