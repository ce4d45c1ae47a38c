// dp_magnitude_mask: DP-SGD on the head and on a public magnitude mask of the Maskable weights,
// chosen from the pretrained weights before training (no privacy spent on the choice): the
// "mp_weights" baseline of SPARTA (Makni et al., arXiv 2503.12822; official code
// mazumder-lab/SPARTA, src/train_cifar.py with mask_type "magnitude_pruning",
// src/utils/train_utils.py: layerwise_magnitude_pruning). See README.md in this folder.

#include <spdlog/spdlog.h>

#include "core/run_context.h"
#include "methods/common/private_training.h"
#include "training/dp/sparse_masks.h"

namespace repro {
namespace {

class DpMagnitudeMask final : public PrivateTrainer {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i{"dp_magnitude_mask",
                   PrivateTrainer::kFamily,
                   "DP-SGD on the head and a public magnitude mask of the weights (SPARTA's mp_weights baseline)",
                   "Makni et al. 2025 (SPARTA baseline), arXiv 2503.12822",
                   "1",
                   private_training_params()};
      i.params.push_back(
          param_float("density", 0.2, "fraction of each weight's rows (or entries) that train").range(0, 1));
      i.params.push_back(param_string("granularity", "rows",
                                      "rows: the rows with the largest L2 norm; elements: the entries with the largest "
                                      "|W| per layer (the official code's mp_weights)",
                                      {"rows", "elements"}));
      i.params.push_back(param_bool("train_norm_bias", true,
                                    "norms and biases train fully besides the mask (the official code); false: only "
                                    "the head and the mask"));
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    options_ = read_private_training(params);
    density_ = params.get_float("density");
    granularity_ =
        params.get_string("granularity") == "rows" ? dp::MaskGranularity::kRows : dp::MaskGranularity::kElements;
    train_norm_bias_ = params.get_bool("train_norm_bias");
  }

  dp::DpTrainRecord train(VisionModel& model, const dp::LabeledImages& train, const dp::LabeledImages& test,
                          const PrivacyBudget& budget, RunContext& ctx) override {
    std::vector<ParamRole> roles{ParamRole::Head};
    if (train_norm_bias_) roles.insert(roles.end(), {ParamRole::Norm, ParamRole::Bias});
    std::vector<dp::TrainableParam> trainable = dp::params_with_roles(model, roles);
    const auto params = model.named_parameters(/*recurse=*/true);
    for (dp::TrainableParam& t : dp::params_with_roles(model, {ParamRole::Maskable})) {
      const at::Tensor& W = params[t.name];
      // Like the code, only weights with dim > 1 get masks; a 1-D Maskable tensor trains fully.
      if (W.dim() > 1) t.mask = dp::magnitude_mask(W.detach(), density_, granularity_);
      ctx.log().debug("dp_magnitude_mask: {} keeps {} of {}", t.name,
                      t.mask.defined() ? t.mask.sum().item<int64_t>() : W.numel(), W.numel());
      trainable.push_back(std::move(t));
    }
    return dp::train_private(model, train, test, with_budget(options_, budget), trainable, ctx);
  }

 private:
  dp::DpTrainOptions options_;
  double density_ = 0.2;
  dp::MaskGranularity granularity_ = dp::MaskGranularity::kRows;
  bool train_norm_bias_ = true;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(PrivateTrainer, repro::DpMagnitudeMask);
