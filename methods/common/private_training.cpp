#include "methods/common/private_training.h"

#include "core/error.h"
#include "core/run_context.h"

namespace repro {

std::vector<ParamSpec> private_training_params() {
  return {
      param_int("epochs", 50, "training epochs, every one accounted (SPARTA's selection epoch included)").at_least(1),
      param_int("lot_size", 500,
                "expected lot size: ceil(n / lot_size) Poisson lots per epoch at rate q = 1 / that (Opacus)")
          .at_least(1),
      param_int("physical_batch", 100, "examples per forward/backward pass; a lot is split into such micro-batches")
          .at_least(1),
      param_float("max_grad_norm", 1.0, "C: per-example gradients are clipped to this joint L2 norm").above(0),
      param_float("lr", 0.01, "peak OneCycle learning rate of every trainable parameter but the head").at_least(0),
      param_float("head_lr", 0.01, "peak OneCycle learning rate of the classifier head").at_least(0),
      param_float("momentum", 0.9, "SGD momentum, used when cycle_momentum is false").at_least(0).below(1),
      param_float("pct_start", 0.02, "OneCycle: fraction of the schedule spent warming the lr up").range(0, 1),
      param_float("schedule_stretch", 1.2,
                  "OneCycle spans int(epochs * this) epochs of steps (the official code: 1.2, so the lr does not "
                  "reach its minimum)")
          .at_least(1),
      param_bool("cycle_momentum", true,
                 "OneCycleLR's default: momentum cycles 0.95 -> 0.85 -> 0.95 against the lr (replacing `momentum`)"),
      param_bool("augment", true, "random crop (padding 4, black fill) and horizontal flip of training examples"),
      param_float(
          "noise_multiplier", -1.0,
          "-1: sigma calibrated for the row's epsilon over all steps; >= 0: this sigma, the budget not enforced")
          .at_least(0)
          .or_value(-1),
      param_int("eval_batch", 500, "examples per forward pass when measuring test accuracy").at_least(1),
      param_string("randomness", "seeded",
                   "seeded: sampling and noise from the run's seed (reproducible); secure_seed: their generators "
                   "seeded from the OS CSPRNG, unrecorded (for releasing a model)",
                   {"seeded", "secure_seed"}),
  };
}

dp::DpTrainOptions read_private_training(const Params& params) {
  dp::DpTrainOptions o;
  o.epochs = params.get_int("epochs");
  o.lot_size = params.get_int("lot_size");
  o.physical_batch = params.get_int("physical_batch");
  o.max_grad_norm = params.get_float("max_grad_norm");
  o.lr = params.get_float("lr");
  o.head_lr = params.get_float("head_lr");
  o.momentum = params.get_float("momentum");
  o.schedule.pct_start = params.get_float("pct_start");
  o.schedule_stretch = params.get_float("schedule_stretch");
  o.schedule.cycle_momentum = params.get_bool("cycle_momentum");
  o.augment = params.get_bool("augment");
  o.noise_multiplier = params.get_float("noise_multiplier");
  o.eval_batch = params.get_int("eval_batch");
  o.randomness = dp::random_source_from_name(params.get_string("randomness"));
  return o;
}

dp::DpTrainOptions with_budget(dp::DpTrainOptions o, const PrivacyBudget& budget) {
  if (!(budget.epsilon > 0.0)) throw ConfigError("private training: the budget's epsilon must be > 0");
  if (!(budget.delta > 0.0 && budget.delta < 1.0)) throw ConfigError("private training: delta must be in (0, 1)");
  o.delta = budget.delta;
  o.target_epsilon = o.noise_multiplier >= 0.0 ? 0.0 : budget.epsilon;
  return o;
}

dp::DpTrainRecord RolePrivateTrainer::train(VisionModel& model, const dp::LabeledImages& train,
                                            const dp::LabeledImages& test, const PrivacyBudget& budget,
                                            RunContext& ctx) {
  return dp::train_private(model, train, test, with_budget(options_, budget), dp::params_with_roles(model, roles_),
                           ctx);
}

}  // namespace repro
