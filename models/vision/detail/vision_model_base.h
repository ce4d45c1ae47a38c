#pragma once
// What the classifiers of models/vision/ share: the config, a PerSampleLinear head registered
// under one name, and parameter roles derived from the layer that owns each parameter.

#include <cstdint>
#include <map>
#include <string>

#include "models/vision/vision_model.h"
#include "training/dp/per_sample_layers.h"

namespace repro::detail {

class VisionModelBase : public VisionModel {
 public:
  ParamRole role(const std::string& param_name) const override;
  void reset_head(int64_t classes) override;
  int64_t num_classes() const override { return config_.num_classes; }
  int64_t in_channels() const override { return config_.in_channels; }
  int64_t image_size() const override { return config_.image_size; }
  VisionConfig config() const override { return config_; }

 protected:
  // `config` must be validated by the caller.
  VisionModelBase(VisionConfig config, std::string head_name, int64_t head_in_features);
  // Registers the head (call where the architecture defines it, for named_parameters() order).
  void register_head();
  // Called after every layer is registered: records the role of each parameter by its layer.
  void assign_roles();
  // Initialises a freshly built head (default: torch::nn::Linear's initialisation, kept as is).
  virtual void init_head(dp::PerSampleLinearImpl& /*head*/) {}
  // ConfigError unless images is [B, in_channels, H, W] with H = W = image_size when `exact_size`
  // (DeiT: pos_embed fixes the token count; the convolutional models pool globally).
  void check_input(const at::Tensor& images, bool exact_size) const;

  VisionConfig config_;
  std::string head_name_;
  int64_t head_in_features_;
  dp::PerSampleLinear head_{nullptr};

 private:
  std::map<std::string, ParamRole> roles_;
};

}  // namespace repro::detail
