#pragma once
// What the PrivateTrainer plugins share: their common parameters (defaults from SPARTA's launch
// script, mazumder-lab/SPARTA src/scripts/launch_experiments.sbatch: lot 500, physical batch 100,
// C 1, lr = head lr = 0.01, momentum 0.9, OneCycle with warm-up 0.02, 50 epochs), reading them into
// dp::DpTrainOptions, and RolePrivateTrainer, the base of the baselines that train a fixed set of
// parameter roles for the whole run.

#include <string>
#include <vector>

#include "core/params.h"
#include "methods/api/private_trainer.h"

namespace repro {

// epochs, lot_size, physical_batch, max_grad_norm, lr, head_lr, momentum, pct_start,
// schedule_stretch, cycle_momentum, augment, noise_multiplier, eval_batch.
std::vector<ParamSpec> private_training_params();

// The options those parameters give (the budget is not known yet: target_epsilon stays 0).
dp::DpTrainOptions read_private_training(const Params& params);

// `options` with the row's budget: sigma calibrated for budget.epsilon over the planned steps, or,
// when the noise_multiplier parameter is set (>= 0), that sigma with the budget recorded but not
// enforced. Throws ConfigError for a budget out of range.
dp::DpTrainOptions with_budget(dp::DpTrainOptions options, const PrivacyBudget& budget);

// A trainer of the parameters with fixed roles, every epoch (dp_full, dp_last_layer, dp_head_norm,
// dp_bitfit). Subclasses give the roles and their MethodInfo (parameters: private_training_params()).
class RolePrivateTrainer : public PrivateTrainer {
 public:
  void configure(const Params& params) override { options_ = read_private_training(params); }
  dp::DpTrainRecord train(VisionModel& model, const dp::LabeledImages& train, const dp::LabeledImages& test,
                          const PrivacyBudget& budget, RunContext& ctx) override;

 protected:
  explicit RolePrivateTrainer(std::vector<ParamRole> roles) : roles_(std::move(roles)) {}

 private:
  std::vector<ParamRole> roles_;
  dp::DpTrainOptions options_;
};

}  // namespace repro
