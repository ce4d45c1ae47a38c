#pragma once
// The private training loop of SPARTA (Makni et al., arXiv 2503.12822) and its DP baselines, with
// the semantics of its official code (mazumder-lab/SPARTA: src/train_cifar.py, src/utils/train_utils.py,
// src/opacus_per_sample/, built on Opacus):
//
//   plan     lots per epoch = ceil(n / lot_size), q = 1 / lots per epoch, L = int(q n) (Opacus)
//   sigma    calibrated once, before training, for the target (epsilon, delta) over ALL planned
//            steps (epochs x lots per epoch: SPARTA's selection epoch included) with the RDP
//            accountant (training/dp/rdp_accountant.h); or given
//   step     a Poisson lot (training/dp/poisson_sampler.h), split into physical micro-batches of at
//            most physical_batch; per-example gradients of the trainable parameters (PerSample
//            layers), flat-clipped to C and summed over the lot; Gaussian noise once per lot;
//            divided by L (training/dp/dp_sgd.h). An empty lot is a noise-only step.
//   update   SGD with momentum, two parameter groups (head at head_lr, everything else at lr) on
//            the OneCycle schedule (training/dp/one_cycle_lr.h), stepped once per lot
//   epoch    test accuracy and the epsilon spent so far, logged; training stops once epsilon
//            exceeds the target (never, when sigma was calibrated for the whole run)
//
// A method decides, phase by phase, which parameters train and which of their coordinates may
// change (an update mask: the W = W0 + m ⊙ D reparametrisation of SPARTA, with the model's weight
// holding W and D's per-example gradients m ⊙ dL/dW). SPARTA's selection epoch is release_epoch():
// the same sampled Gaussian releases, no update.
//
//   DpTrainer t(model, train, test, options, ctx);
//   t.set_trainable(params_with_roles(model, {ParamRole::Head, ParamRole::Norm}));
//   for (int64_t e = 0; e < options.epochs; ++e) if (!t.end_epoch(t.train_epoch())) break;
//   DpTrainRecord r = t.record();

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "models/vision/vision_model.h"
#include "training/dp/momentum_sgd.h"
#include "training/dp/one_cycle_lr.h"
#include "training/dp/poisson_sampler.h"
#include "training/dp/rdp_accountant.h"

namespace repro {
class RunContext;
}

namespace repro::dp {

// A labelled image set, on the CPU (micro-batches move to the model's device).
struct LabeledImages {
  at::Tensor images;  // [N, C, H, W] float, normalised as the model expects
  at::Tensor labels;  // [N] int64 in [0, classes)
  // Per channel, the normalised value of a black pixel, (0 - mean) / std: what augmentation pads
  // with, as torchvision pads the raw image with 0 before normalising. Empty: 0.
  std::vector<double> black;
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

struct DpTrainOptions {
  // Privacy. target_epsilon > 0: sigma is calibrated for it over every planned step; otherwise
  // noise_multiplier (>= 0) is used as given and nothing is enforced.
  double target_epsilon = 0.0;
  double delta = 1e-5;
  double noise_multiplier = -1.0;
  double max_grad_norm = 1.0;  // C; +infinity (with sigma 0) disables clipping
  // Lots (spec §5: L 500, physical batch 100, 50 epochs).
  int64_t lot_size = 500;
  int64_t physical_batch = 100;
  int64_t epochs = 50;
  // Optimisation (spec §5: lr = head lr = 0.01, momentum 0.9, OneCycle with pct_start 0.02).
  double lr = 0.01;
  double head_lr = 0.01;
  double momentum = 0.9;  // used as is when schedule.cycle_momentum is false; OneCycle's cycle replaces it otherwise
  OneCycleOptions schedule = [] {
    OneCycleOptions o;
    o.pct_start = 0.02;
    return o;
  }();
  // OneCycle spans int(epochs x this) epochs of steps; SPARTA's code uses 1.2 so that the lr does
  // not reach its minimum at the end.
  double schedule_stretch = 1.2;
  // Augmentation of training examples (random crop with padding, filled with the set's `black`;
  // horizontal flip), as SPARTA's CIFAR loaders.
  bool augment = true;
  int64_t crop_padding = 4;
  int64_t eval_batch = 500;
  RandomSource randomness = RandomSource::kSeeded;
  bool stop_over_budget = true;
};

// One trainable parameter of a phase: its name in model.named_parameters() and an optional
// update mask (bool, the parameter's shape; undefined: every coordinate trains).
struct TrainableParam {
  std::string name;
  at::Tensor mask;
};

// What the selection epoch releases at each step (SPARTA §4): the absolute value of the clipped
// lot sum, |sum_i g_i| (the official code), or the sum of absolute clipped gradients sum_i |g_i|
// (the paper's text). Both have L2 sensitivity C.
enum class ReleaseKind { kAbsOfSum, kSumOfAbs };

struct EpochRecord {
  int64_t epoch = 0;
  std::string phase;               // "train" or "select"
  int64_t steps = 0;               // lots drawn
  int64_t empty_lots = 0;          // lots with no example (noise-only steps)
  int64_t examples = 0;            // examples seen (sum of lot sizes)
  double train_loss = 0.0;         // mean cross-entropy over the examples seen (before their update)
  double train_accuracy = 0.0;     // fraction of those examples classified correctly
  double test_accuracy = -1.0;     // -1 until end_epoch() evaluates
  double epsilon = 0.0;            // spent after this epoch
  double head_lr = 0.0, lr = 0.0;  // at the epoch's last step (0 for a selection epoch)
  int64_t trainable = 0;           // coordinates that could change in this epoch
  double seconds = 0.0;
};

// Everything a record of one private training run needs to say where its numbers came from.
struct DpTrainRecord {
  std::string accountant;  // "rdp" (Opacus's conversion)
  std::string randomness;  // "seeded" | "secure_seed"
  double noise_multiplier = 0.0, sample_rate = 0.0, expected_lot_size = 0.0;
  double max_grad_norm = 0.0;
  int64_t lots_per_epoch = 0, planned_steps = 0, steps = 0;
  double target_epsilon = 0.0, delta = 0.0, epsilon = 0.0;
  bool stopped_over_budget = false;
  int64_t trainable = 0;        // coordinates that could change in the last epoch
  double test_accuracy = -1.0;  // after the last epoch
  std::vector<EpochRecord> epochs;
};

class DpTrainer {
 public:
  // model: every trainable parameter in a PerSample layer (VisionModel's contract), on any device;
  // num_classes() covers the labels. train/test: LabeledImages on the CPU, images with
  // model.in_channels() channels (the test set may be empty: no evaluation); both are referenced,
  // not copied, and must outlive the trainer. Calibrates sigma (ConfigError when the budget is too low or an
  // option is out of range). All parameters start frozen; set_trainable() chooses.
  DpTrainer(VisionModel& model, const LabeledImages& train, const LabeledImages& test, const DpTrainOptions& options,
            RunContext& ctx);
  // Restores every parameter's requires_grad flag as it was before the trainer.
  ~DpTrainer();
  DpTrainer(const DpTrainer&) = delete;
  DpTrainer& operator=(const DpTrainer&) = delete;

  const DpTrainOptions& options() const { return options_; }
  const LotPlan& plan() const { return plan_; }
  int64_t planned_steps() const { return plan_.lots_per_epoch * options_.epochs; }
  double noise_multiplier() const { return sigma_; }
  int64_t epochs_done() const { return static_cast<int64_t>(record_.epochs.size()); }
  VisionModel& model() { return model_; }

  // Trains exactly `params` from now on (every other parameter gets requires_grad = false). Names
  // must exist and not be Frozen; masks are bool of the parameter's shape. Momentum buffers of
  // parameters that stay trainable are kept (clear_momentum() forgets them).
  void set_trainable(const std::vector<TrainableParam>& params);
  const std::vector<TrainableParam>& trainable() const { return trainable_; }
  int64_t trainable_coordinates() const;

  // One epoch of DP-SGD steps (lots_per_epoch lots) on the trainable parameters; the schedule
  // advances once per step.
  EpochRecord train_epoch();
  // One epoch of releases of the same sampled Gaussian mechanism without any update (lr 0, the
  // schedule does not advance, no momentum): per step the chosen statistic of the clipped
  // per-example gradients of the trainable parameters (masks applied) plus N(0, sigma^2 C^2),
  // divided by L and summed over the epoch's steps. Returns name -> [*param.shape] for every
  // trainable parameter; `record` receives the epoch's statistics.
  std::map<std::string, at::Tensor> release_epoch(ReleaseKind kind, EpochRecord& record);

  void clear_momentum() { sgd_.clear(); }

  // Test accuracy of the model now (eval mode, no grad, batches of eval_batch).
  double evaluate();

  // Closes an epoch: evaluates, queries epsilon, logs one line, appends to the record. Returns false
  // when training must stop (epsilon over a calibrated target with stop_over_budget).
  bool end_epoch(EpochRecord record);

  const DpTrainRecord& record() const { return record_; }
  const RdpAccountant& accountant() const { return accountant_; }

 private:
  enum class StepKind { kUpdate, kRelease };
  struct StepStats {
    int64_t examples = 0, correct = 0, empty_lots = 0;
    double loss_sum = 0.0;
  };
  // One lot: sampling, micro-batches, clipping, noise, accounting. kUpdate applies the SGD step;
  // kRelease returns the noisy release (already divided by L) in named order of trainable_.
  std::vector<at::Tensor> step(StepKind kind, ReleaseKind release, StepStats& stats);
  EpochRecord run_epoch(StepKind kind, ReleaseKind release, std::map<std::string, at::Tensor>* releases);
  at::Tensor& param(const std::string& name);
  size_t group_of(const std::string& name) const;  // 0 head, 1 everything else

  VisionModel& model_;
  const LabeledImages& train_;
  const LabeledImages& test_;
  DpTrainOptions options_;
  RunContext& ctx_;
  LotPlan plan_;
  double sigma_ = 0.0;
  std::map<std::string, at::Tensor> params_;  // every parameter, by name
  std::map<std::string, ParamRole> roles_;
  std::vector<std::pair<std::string, bool>> initial_requires_grad_;
  std::vector<TrainableParam> trainable_;
  PoissonSampler sampler_;
  at::Generator noise_generator_, augment_generator_;
  RdpAccountant accountant_;
  OneCycleSchedule schedule_;
  int64_t schedule_step_ = 0;
  MomentumSgd sgd_;
  DpTrainRecord record_;
};

// The parameters of `model` whose role is one of `roles`, in named_parameters() order, without
// masks. Frozen parameters are never returned.
std::vector<TrainableParam> params_with_roles(const VisionModel& model, const std::vector<ParamRole>& roles);

// A run with one trainable set for every epoch (the DP baselines): DpTrainer, set_trainable(trainable),
// train_epoch() + end_epoch() until the epochs are done or the budget stops it.
DpTrainRecord train_private(VisionModel& model, const LabeledImages& train, const LabeledImages& test,
                            const DpTrainOptions& options, const std::vector<TrainableParam>& trainable,
                            RunContext& ctx);

}  // namespace repro::dp
