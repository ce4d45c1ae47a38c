#include "training/vision_pretrain.h"

#include <chrono>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/optim/adam.h>

#include "core/error.h"
#include "core/run_context.h"
#include "training/dp/per_sample_layers.h"

namespace repro {

namespace {

c10::Device device_of(VisionModel& model) {
  for (const auto& p : model.parameters()) return p.device();
  return c10::Device(c10::kCPU);
}

}  // namespace

double classifier_accuracy(VisionModel& model, const dp::LabeledImages& data, int64_t batch) {
  if (data.size() == 0) return -1.0;
  REPRO_ASSERT(batch > 0, "classifier_accuracy: batch must be positive");
  const bool was_training = model.is_training();
  model.eval();
  at::NoGradGuard no_grad;
  const c10::Device dev = device_of(model);
  int64_t correct = 0;
  for (int64_t i = 0; i < data.size(); i += batch) {
    const int64_t j = std::min(data.size(), i + batch);
    at::Tensor logits = model.forward(data.images.slice(0, i, j).to(dev));
    correct += logits.argmax(1).cpu().eq(data.labels.slice(0, i, j)).sum().item<int64_t>();
  }
  model.train(was_training);
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

VisionPretrainResult pretrain_classifier(VisionModel& model, const dp::LabeledImages& train,
                                         const dp::LabeledImages& test, const VisionPretrainOptions& options,
                                         RunContext& ctx) {
  if (options.epochs < 1 || options.batch_size < 1 || options.lr <= 0 || options.train_examples < 0)
    throw ConfigError(fmt::format("pretraining: epochs ({}) and batch ({}) must be >= 1, lr ({}) > 0, "
                                  "train_examples ({}) >= 0",
                                  options.epochs, options.batch_size, options.lr, options.train_examples));
  if (train.size() == 0) throw ConfigError("pretraining: the training set is empty");
  at::Generator gen = ctx.generator("pretrain.shuffle");
  at::Tensor pool = at::randperm(train.size(), gen, at::kLong);
  if (options.train_examples > 0 && options.train_examples < train.size())
    pool = pool.slice(0, 0, options.train_examples);
  const int64_t n = pool.size(0);
  const c10::Device dev = device_of(model);

  std::vector<at::Tensor> params;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(options.lr).weight_decay(options.weight_decay));

  dp::GradSampleHooksOff plain;  // no per-example gradients: this training is not private
  VisionPretrainResult result;
  result.train_examples = n;
  const auto t_start = std::chrono::steady_clock::now();
  for (int64_t e = 0; e < options.epochs; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    model.train();
    at::Tensor order = pool.index_select(0, at::randperm(n, gen, at::kLong));
    double loss_sum = 0.0;
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i += options.batch_size) {
      at::Tensor idx = order.slice(0, i, std::min(n, i + options.batch_size));
      at::Tensor x = train.images.index_select(0, idx).to(dev);
      at::Tensor y = train.labels.index_select(0, idx).to(dev);
      opt.zero_grad();
      at::Tensor logits = model.forward(x);
      at::Tensor loss = at::cross_entropy_loss(logits, y);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * static_cast<double>(idx.size(0));
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    VisionPretrainEpoch r;
    r.epoch = e;
    r.train_loss = loss_sum / static_cast<double>(n);
    r.train_accuracy = static_cast<double>(correct) / static_cast<double>(n);
    r.test_accuracy = classifier_accuracy(model, test, options.eval_batch);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ctx.log().info("pretrain epoch {}/{}: loss {:.4f}, train acc {:.2f}%, test acc {:.2f}% ({:.1f} s)", e + 1,
                   options.epochs, r.train_loss, 100 * r.train_accuracy, 100 * r.test_accuracy, r.seconds);
    result.epochs.push_back(r);
  }
  result.test_accuracy = result.epochs.back().test_accuracy;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return result;
}

}  // namespace repro
