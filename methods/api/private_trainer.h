#pragma once
// PrivateTrainer: fine-tunes a pretrained image classifier under (epsilon, delta)-differential
// privacy with DP-SGD, choosing which parameters (and which of their coordinates) train: SPARTA
// (Makni et al., arXiv 2503.12822) and the baselines its tables compare against (full DP
// fine-tuning, last layer, head + norms, DP-BitFit, public magnitude masks). The privacy
// substrate and the loop are training/dp (README.md there); a plugin picks parameters by
// ParamRole and drives dp::DpTrainer, so it works on any VisionModel.

#include "methods/method.h"
#include "models/vision/vision_model.h"
#include "training/dp/dp_trainer_loop.h"

namespace repro {

// The guarantee a row asks for. Every step a method takes is accounted (its selection steps
// included), and sigma is calibrated so that the whole planned run spends at most `epsilon`.
struct PrivacyBudget {
  double epsilon = 8.0;  // > 0
  double delta = 1e-5;   // in (0, 1)
};

class PrivateTrainer : public Method {
 public:
  static constexpr const char* kFamily = "PrivateTrainer";
  // model: pretrained, its head already sized and initialised for the task (the suite calls
  // reset_head, seeding the global generator), parameters on ctx.device(). train / test: images
  // [N, C, H, W] float (normalised as the model expects) and labels [N] int64, on the CPU. Trains
  // `model` in place and returns the run's record (sigma, accountant, randomness, epsilon spent,
  // per-epoch accuracy). Randomness is drawn from ctx's component seeds only. Leaves every
  // parameter's requires_grad as it found it.
  virtual dp::DpTrainRecord train(VisionModel& model, const dp::LabeledImages& train, const dp::LabeledImages& test,
                                  const PrivacyBudget& budget, RunContext& ctx) = 0;
};

}  // namespace repro
