#include "models/vision/vision_model.h"

#include <c10/util/StringUtil.h>
#include <fmt/format.h>

#include "core/error.h"
#include "models/vision/detail/vision_model_base.h"

namespace repro {

namespace detail {

VisionModelBase::VisionModelBase(VisionConfig config, std::string head_name, int64_t head_in_features)
    : config_(std::move(config)), head_name_(std::move(head_name)), head_in_features_(head_in_features) {}

void VisionModelBase::register_head() {
  head_ = register_module(head_name_, dp::PerSampleLinear(head_in_features_, config_.num_classes));
  init_head(*head_);
}

void VisionModelBase::reset_head(int64_t classes) {
  if (classes <= 0) throw ConfigError(fmt::format("reset_head: {} classes; expected a positive count", classes));
  const bool trainable = head_->weight.requires_grad();
  dp::PerSampleLinear fresh(head_in_features_, classes);
  init_head(*fresh);
  const at::Device device = head_->weight.device();
  const at::ScalarType dtype = head_->weight.scalar_type();
  fresh->to(device, dtype);
  for (auto& p : fresh->parameters()) p.set_requires_grad(trainable);
  head_ = replace_module(head_name_, fresh);
  config_.num_classes = classes;
}

void VisionModelBase::assign_roles() {
  roles_.clear();
  auto classify = [&](const std::string& prefix, const torch::nn::Module& m) {
    const bool in_head = prefix == head_name_ || prefix.rfind(head_name_ + ".", 0) == 0;
    const bool is_norm = dynamic_cast<const dp::PerSampleGroupNormImpl*>(&m) != nullptr ||
                         dynamic_cast<const dp::PerSampleLayerNormImpl*>(&m) != nullptr;
    const bool is_weighted = dynamic_cast<const dp::PerSampleLinearImpl*>(&m) != nullptr ||
                             dynamic_cast<const dp::PerSampleConv2dImpl*>(&m) != nullptr;
    for (const auto& p : m.named_parameters(/*recurse=*/false)) {
      const std::string full = prefix.empty() ? p.key() : prefix + "." + p.key();
      ParamRole r = ParamRole::Frozen;
      if (in_head)
        r = ParamRole::Head;
      else if (is_norm)
        r = ParamRole::Norm;
      else if (is_weighted)
        r = p.key() == "bias" ? ParamRole::Bias : ParamRole::Maskable;
      // A parameter outside the PerSample layers has no per-example gradient: it must stay frozen.
      REPRO_ASSERT(r != ParamRole::Frozen || !p.value().requires_grad(),
                   "vision model: trainable parameter '" + full + "' outside the PerSample layers");
      roles_[full] = r;
    }
  };
  classify("", *this);
  for (const auto& item : named_modules("", /*include_self=*/false)) classify(item.key(), *item.value());
}

ParamRole VisionModelBase::role(const std::string& param_name) const {
  auto it = roles_.find(param_name);
  if (it == roles_.end())
    throw ConfigError(fmt::format("{}: no parameter named '{}'", config_.architecture, param_name));
  return it->second;
}

void VisionModelBase::check_input(const at::Tensor& images, bool exact_size) const {
  const bool ok = images.dim() == 4 && images.size(1) == config_.in_channels &&
                  (!exact_size || (images.size(2) == config_.image_size && images.size(3) == config_.image_size));
  if (!ok)
    throw ConfigError(fmt::format("{}: images of shape {} do not fit the model: expected [B, {}, {}, {}]{}",
                                  config_.architecture, c10::str(images.sizes()), config_.in_channels,
                                  exact_size ? std::to_string(config_.image_size) : "H",
                                  exact_size ? std::to_string(config_.image_size) : "W",
                                  exact_size ? " (resize the images, e.g. resize_images(x, image_size))" : ""));
}

}  // namespace detail
}  // namespace repro
