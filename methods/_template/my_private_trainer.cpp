// TEMPLATE (PrivateTrainer) — copy to methods/<your_trainer>/ and follow methods/README.md.
// Compiled as the plugin `_template_private_trainer` so that it never rots.
//
// A PrivateTrainer fine-tunes a VisionModel under (epsilon, delta)-DP. It picks parameters by role
// (ParamRole: Head, Norm, Bias, Maskable; Frozen never trains), optionally with update masks, and
// drives dp::DpTrainer (training/dp/dp_trainer_loop.h), which owns sampling, clipping, noise,
// accounting, the schedule and evaluation. This example trains the head alone for `head_epochs`
// epochs, then the head and the normalisation layers: two phases, one accountant, one sigma.

#include "methods/common/private_training.h"

namespace repro {
namespace {

class TemplatePrivateTrainer final : public PrivateTrainer {
 public:
  static const MethodInfo& static_info() {
    static const MethodInfo info = [] {
      MethodInfo i{"_template_private_trainer",
                   PrivateTrainer::kFamily,
                   "template private trainer: the head alone, then the head and the norms (copy me)",
                   "",
                   "1",
                   private_training_params()};  // epochs, lot_size, lr, ... shared by every private trainer
      i.params.push_back(param_int("head_epochs", 1, "epochs that train the head alone").at_least(0));
      return i;
    }();
    return info;
  }
  const MethodInfo& info() const override { return static_info(); }

  void configure(const Params& params) override {
    options_ = read_private_training(params);
    head_epochs_ = params.get_int("head_epochs");
  }

  dp::DpTrainRecord train(VisionModel& model, const dp::LabeledImages& train, const dp::LabeledImages& test,
                          const PrivacyBudget& budget, RunContext& ctx) override {
    // sigma is calibrated here for every planned step (options_.epochs epochs).
    dp::DpTrainer t(model, train, test, with_budget(options_, budget), ctx);
    for (int64_t e = 0; e < options_.epochs; ++e) {
      if (e == 0) t.set_trainable(dp::params_with_roles(model, {ParamRole::Head}));
      if (e == head_epochs_) t.set_trainable(dp::params_with_roles(model, {ParamRole::Head, ParamRole::Norm}));
      if (!t.end_epoch(t.train_epoch())) break;  // evaluates, queries epsilon, logs
    }
    return t.record();
  }

 private:
  dp::DpTrainOptions options_;
  int64_t head_epochs_ = 1;
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_METHOD(PrivateTrainer, repro::TemplatePrivateTrainer);
