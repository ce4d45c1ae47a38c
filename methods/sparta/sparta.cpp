// sparta: differentially private sparse fine-tuning with a mask chosen from private gradients
// (Makni, Behdin, Afriat, Xu, Vassilvitskii, Ponomareva, Hazimeh, Mazumder, "SPARTA: An Optimization
// Framework for Differentially Private Sparse Fine-Tuning", arXiv 2503.12822), following its
// official code mazumder-lab/SPARTA (src/train_cifar.py, method "row_pruning_noisy_grads" with
// --use_last_layer_only_init and --use_fixed_w_mask_finding, src/opacus_per_sample/optimizer_per_sample.py).
//
// Maskable weights are W = W0 + m ⊙ D (the model's weight holds W; D's per-example gradient is
// m ⊙ dL/dW). Epochs [0, E_sel): m = 0, DP-SGD trains the head (and norms and biases). Epoch E_sel:
// m = 1, lr 0, every step releases |sum_i clipped g_i| + N(0, sigma^2 C^2) (or sum_i |clipped g_i|),
// accumulated over the epoch as S += release / L; each weight keeps the rows with the largest
// max(0, sum_c S[r, c]), int(out (1 - density)) rows removed. Fold W0 <- W0 + m ⊙ D (nothing to do
// here: W is stored), clear momentum, then masked DP-SGD to the last epoch. One accountant, one
// sigma for all E epochs. See README.md in this folder.

#include <spdlog/spdlog.h>

#include "core/run_context.h"
#include "methods/common/private_training.h"
#include "training/dp/sparse_masks.h"

namespace repro {
namespace {

class Sparta final : public PrivateTrainer {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i{"sparta",
                   PrivateTrainer::kFamily,
                   "DP sparse fine-tuning: rows of each weight chosen from private gradients, then masked DP-SGD",
                   "Makni et al. 2025, arXiv 2503.12822",
                   "1",
                   private_training_params()};
      i.params.push_back(
          param_int("selection_epoch", 10,
                    "E_sel: epochs of head-only DP-SGD before the selection epoch (which is epoch E_sel)")
              .at_least(0));
      i.params.push_back(
          param_float("density", 0.2, "fraction of each weight's rows that train after selection").range(0, 1));
      i.params.push_back(param_string("score", "abs_sum",
                                      "the per-step release: abs_sum = |sum_i clipped g_i| (the official code); "
                                      "sum_abs = sum_i |clipped g_i| (the paper's text)",
                                      {"abs_sum", "sum_abs"}));
      i.params.push_back(param_bool("train_norm_bias", true,
                                    "norms and biases train fully in every epoch besides the head (the official "
                                    "code); false: only the head, then the head and the mask"));
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    options_ = read_private_training(params);
    selection_epoch_ = params.get_int("selection_epoch");
    density_ = params.get_float("density");
    release_ = params.get_string("score") == "abs_sum" ? dp::ReleaseKind::kAbsOfSum : dp::ReleaseKind::kSumOfAbs;
    train_norm_bias_ = params.get_bool("train_norm_bias");
    if (selection_epoch_ >= options_.epochs)
      params.fail("selection_epoch", "must be below epochs (" + std::to_string(options_.epochs) +
                                         "): the selection epoch is one of the run's epochs");
  }

  dp::DpTrainRecord train(VisionModel& model, const dp::LabeledImages& train, const dp::LabeledImages& test,
                          const PrivacyBudget& budget, RunContext& ctx) override {
    dp::DpTrainer t(model, train, test, with_budget(options_, budget), ctx);
    std::vector<ParamRole> roles{ParamRole::Head};
    if (train_norm_bias_) roles.insert(roles.end(), {ParamRole::Norm, ParamRole::Bias});
    const std::vector<dp::TrainableParam> others = dp::params_with_roles(model, roles);
    const std::vector<dp::TrainableParam> maskable = dp::params_with_roles(model, {ParamRole::Maskable});

    t.set_trainable(others);  // m = 0
    for (int64_t e = 0; e < options_.epochs; ++e) {
      dp::EpochRecord r;
      if (e == selection_epoch_) {
        std::vector<dp::TrainableParam> all = others;
        all.insert(all.end(), maskable.begin(), maskable.end());  // m = 1, D = 0
        t.set_trainable(all);
        const std::map<std::string, at::Tensor> S = t.release_epoch(release_, r);
        t.set_trainable(with_row_masks(others, maskable, S, model, ctx));
        t.clear_momentum();
      } else {
        r = t.train_epoch();
      }
      if (!t.end_epoch(std::move(r))) break;
    }
    return t.record();
  }

 private:
  // others + every maskable weight with its row mask from the accumulated releases S.
  std::vector<dp::TrainableParam> with_row_masks(const std::vector<dp::TrainableParam>& others,
                                                 const std::vector<dp::TrainableParam>& maskable,
                                                 const std::map<std::string, at::Tensor>& S, const VisionModel& model,
                                                 RunContext& ctx) const {
    std::vector<dp::TrainableParam> out = others;
    const auto params = model.named_parameters(/*recurse=*/true);
    int64_t kept = 0, rows = 0;
    for (dp::TrainableParam t : maskable) {
      const at::Tensor& W = params[t.name];
      // The code masks tensors with dim > 1 only (get_optimization_method_mask); others train fully.
      if (W.dim() > 1) {
        const at::Tensor keep = dp::keep_top_rows(dp::sparta_row_scores(S.at(t.name)), density_);
        t.mask = dp::expand_row_mask(keep, W.sizes());
        const int64_t k = keep.sum().item<int64_t>();
        kept += k;
        rows += W.size(0);
        ctx.log().debug("sparta: {} keeps {} of {} rows", t.name, k, W.size(0));
      }
      out.push_back(std::move(t));
    }
    ctx.log().info("sparta: selection kept {} of {} rows of the maskable weights (density {})", kept, rows, density_);
    return out;
  }

  dp::DpTrainOptions options_;
  int64_t selection_epoch_ = 10;
  double density_ = 0.2;
  dp::ReleaseKind release_ = dp::ReleaseKind::kAbsOfSum;
  bool train_norm_bias_ = true;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(PrivateTrainer, repro::Sparta);
