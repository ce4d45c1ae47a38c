#pragma once
// Plain (non-private) supervised training of a VisionModel: the "pretrain on one dataset" half of
// the private fine-tuning protocol of SPARTA (Makni et al., arXiv 2503.12822, Sec. 5: models
// pretrained non-privately, then fine-tuned with DP-SGD on another dataset). It makes the embedded
// zoo image models (`repro train-zoo cnn_fmnist`); the paper's own checkpoints are loaded instead.
//
//   VisionPretrainResult r = pretrain_classifier(*model, train, test, options, ctx);
//
// Adam on the mean cross-entropy, examples reshuffled every epoch from a seeded generator, no
// augmentation. The PerSample layers' per-example hooks are off during training (GradSampleHooksOff).

#include <cstdint>
#include <vector>

#include "models/vision/vision_model.h"
#include "training/dp/dp_trainer_loop.h"

namespace repro {

class RunContext;

struct VisionPretrainOptions {
  int64_t epochs = 2;
  int64_t batch_size = 128;
  double lr = 2e-3;            // Adam (0.9, 0.999), constant
  double weight_decay = 0.0;   // Adam's L2 term
  int64_t train_examples = 0;  // the first this many of a seeded permutation (0: all)
  int64_t eval_batch = 500;
};

struct VisionPretrainEpoch {
  int64_t epoch = 0;
  double train_loss = 0.0, train_accuracy = 0.0;  // over the epoch's batches, before their update
  double test_accuracy = -1.0;                    // after the epoch; -1 without a test set
  double seconds = 0.0;                           // training + evaluation
};

struct VisionPretrainResult {
  std::vector<VisionPretrainEpoch> epochs;
  int64_t train_examples = 0;
  double test_accuracy = -1.0;  // after the last epoch
  double seconds = 0.0;
};

// model: on ctx.device(), num_classes() covering the labels. train / test: on the CPU (test may be
// empty). Randomness: ctx.generator("pretrain.shuffle") only. Trains every parameter that requires
// grad, in place.
VisionPretrainResult pretrain_classifier(VisionModel& model, const dp::LabeledImages& train,
                                         const dp::LabeledImages& test, const VisionPretrainOptions& options,
                                         RunContext& ctx);

// Fraction of `data` classified correctly (eval mode, no grad, batches of `batch`; train mode is
// restored). data on the CPU; batches move to the model's device.
double classifier_accuracy(VisionModel& model, const dp::LabeledImages& data, int64_t batch = 500);

}  // namespace repro
