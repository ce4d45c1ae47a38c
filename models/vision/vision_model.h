#pragma once
// The image classifiers that private fine-tuning (SPARTA, arXiv 2503.12822, and its DP baselines)
// trains: a common interface so that a PrivateTrainer can pick its trainable parameters by role
// (head, normalisation, bias, maskable weight) without knowing the architecture.
//
// Every layer with parameters is one of the per-example-gradient layers of training/dp
// (PerSampleConv2d, PerSampleLinear, PerSampleGroupNorm, PerSampleLayerNorm), so that
// repro::dp::collect_grad_samples() works on any model: there is no BatchNorm (it mixes examples
// and cannot be trained under DP-SGD).

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <fmt/format.h>

#include "core/error.h"
#include "models/vision/vision_config.h"

namespace repro {

// What a parameter is, for choosing what a private fine-tuning method trains.
enum class ParamRole {
  Head,      // the classifier (re-initialised for the downstream classes): always trainable
  Norm,      // GroupNorm / LayerNorm weight and bias
  Bias,      // bias of a convolution or linear layer
  Maskable,  // weight of a convolution or linear layer outside the head (SPARTA masks its rows)
  Frozen,    // never trained (e.g. DeiT's cls_token and pos_embed)
};

// "head", "norm", "bias", "maskable", "frozen".
inline const char* param_role_name(ParamRole role) {
  switch (role) {
    case ParamRole::Head: return "head";
    case ParamRole::Norm: return "norm";
    case ParamRole::Bias: return "bias";
    case ParamRole::Maskable: return "maskable";
    case ParamRole::Frozen: return "frozen";
  }
  return "unknown";
}

class VisionModel : public torch::nn::Module {
 public:
  // images [B, C, H, W] (normalised as the model expects) -> logits [B, num_classes()].
  virtual at::Tensor forward(const at::Tensor& images) = 0;
  // The role of a parameter, by its name in named_parameters() (recursive, '.'-separated).
  virtual ParamRole role(const std::string& param_name) const = 0;
  // Replaces the classifier with a freshly initialised one for `classes` outputs (seeded by the
  // global generator; callers seed it).
  virtual void reset_head(int64_t classes) = 0;
  virtual int64_t num_classes() const = 0;
  // Input geometry the model was built for (channels, height = width).
  virtual int64_t in_channels() const = 0;
  virtual int64_t image_size() const = 0;
  // The architecture record the model was built from (what save_vision_model writes as
  // config.json). Models outside models/vision/ may lack one: the default throws NotSupported.
  // Every virtual is pure or inline, so the vtable needs no library: code that only implements or
  // uses the interface (training/dp, the private-training plugins) links without repro_vision.
  virtual VisionConfig config() const {
    throw NotSupported(fmt::format("{} has no VisionConfig (only the models of models/vision/ have one)", name()));
  }
};

}  // namespace repro
