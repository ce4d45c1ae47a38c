// The dp_accuracy suite: private fine-tuning of a pretrained image classifier, the protocol of SPARTA
// (Makni et al., arXiv 2503.12822, Sec. 5; official code mazumder-lab/SPARTA src/train_cifar.py):
// load the pretrained model, re-initialise its head for the downstream classes, fine-tune it on the
// downstream training set with the row's PrivateTrainer at the row's (epsilon, delta), report test
// accuracy. Each repetition draws its own head, lots, noise and augmentation from the row's seed
// (mean +- std over `repeats`); the train/test subsets are fixed by `subset_seed`, the same for
// every row and repetition.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/paths.h"
#include "core/repetitions.h"
#include "core/run_context.h"
#include "core/suite_registry.h"
#include "core/table_spec.h"
#include "datasets/image_augment.h"
#include "datasets/image_dataset.h"
#include "methods/api/private_trainer.h"
#include "models/vision/vision_factory.h"
#include "suites/eval/image_data.h"
#include "suites/eval/model_identity.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSynthetic = "synthetic";

// The downstream data, normalised as the model expects, on the CPU.
struct Downstream {
  dp::LabeledImages train, test;
  int64_t num_classes = 0;
  std::string name;
};

// A class-patterned toy set for tests and smoke runs: class k is a fixed random pattern (from
// `seed`) scaled by 1.5 plus unit Gaussian noise; 10 classes, `n_train` + `n_test` images of the
// model's geometry.
Downstream synthetic_set(int64_t channels, int64_t size, int64_t n_train, int64_t n_test, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const int64_t k = 10;
  at::Tensor patterns = at::randn({k, channels, size, size}, gen);
  auto draw = [&](int64_t n) {
    at::Tensor labels = at::randint(k, {n}, gen, at::kLong);
    at::Tensor images = patterns.index_select(0, labels) * 1.5 + at::randn({n, channels, size, size}, gen);
    return dp::LabeledImages{images, labels, std::vector<double>(channels, 0.0)};
  };
  Downstream d;
  d.train = draw(n_train);
  d.test = draw(n_test);
  d.num_classes = k;
  d.name = kSynthetic;
  return d;
}

dp::LabeledImages take_subset(const dp::LabeledImages& all, int64_t n, uint64_t seed) {
  if (n <= 0 || n >= all.size()) return all;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor idx = at::randperm(all.size(), gen, at::kLong).slice(0, 0, n);
  return {all.images.index_select(0, idx), all.labels.index_select(0, idx), all.black};
}

class DpAccuracySuite : public Suite {
 public:
  static const SuiteInfo& static_info() {
    static const SuiteInfo info = [] {
      SuiteInfo i;
      i.name = "dp_accuracy";
      i.family = Suite::kFamily;
      i.summary = "private fine-tuning of a pretrained image classifier: test accuracy at a target (epsilon, delta)";
      i.version = "1";
      i.params = {
          param_string("model", "zoo:cnn_fmnist", "pretrained classifier: zoo:<name> or a folder (config.json + safetensors)"),
          param_string("dataset", "mnist10k",
                       "downstream image set (datasets/image_dataset.h names, from --data-dir), or `synthetic` "
                       "(class patterns + noise, 10 classes; for tests)"),
          param_float("epsilon", 8.0, "target epsilon; sigma is calibrated so that the whole run spends at most it")
              .above(0),
          param_float("delta", 1e-5, "delta of the (epsilon, delta) guarantee").above(0).below(1),
          param_int("train_examples", 0, "fine-tune on this many training examples (a fixed random subset; 0: all)")
              .at_least(0),
          param_int("test_examples", 0, "evaluate on this many test examples (a fixed random subset; 0: all)")
              .at_least(0),
          param_int("subset_seed", 0, "seed of the train/test subsets (and of the synthetic set), shared by all rows")
              .at_least(0),
          param_int("epochs", 0, "override the trainer's epochs (0: the trainer's own)").at_least(0),
          param_int("lot_size", 0, "override the trainer's expected lot size (0: the trainer's own)").at_least(0),
          param_int("physical_batch", 0, "override the trainer's physical batch (0: the trainer's own)").at_least(0),
          repeats_param(1),
      };
      i.slots = {{"trainer", PrivateTrainer::kFamily, false, "the private fine-tuning method"}};
      i.metrics = {
          {"accuracy", Better::Higher, "test accuracy (%) after the last epoch", 4},
          {"target_epsilon", Better::None, "the row's target epsilon", 3},
          {"epsilon", Better::Lower, "epsilon spent (RDP accountant, Opacus's conversion)", 4},
          {"sigma", Better::None, "noise multiplier calibrated for the target", 4},
          {"train_s", Better::Lower, "seconds in the trainer (per-epoch evaluation included)", 3},
          {"trainable", Better::None, "coordinates that could change in the last epoch", 4},
          {"trainable_pct", Better::None, "trainable / all parameters (%)", 3},
      };
      return i;
    }();
    return info;
  }
  const SuiteInfo& info() const override { return static_info(); }

  nlohmann::json fingerprint(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    return {{"model", model_identity(p.get_string("model"))},
            {"data", image_data_identity(p.get_string("dataset"), image_data_dir(ctx))}};
  }

  Record run_row(const RowSpec& row, RunContext& ctx) override {
    const Params& p = row.suite_params;
    const Component* c = row.first("trainer");
    if (!c) throw ConfigError(fmt::format("row '{}': the dp_accuracy suite needs `trainer = ...`", row.display));
    Params tp = c->params;  // the suite's overrides of the trainer's schedule
    for (const char* key : {"epochs", "lot_size", "physical_batch"})
      if (p.get_int(key) > 0) tp.set(key, Value(p.get_int(key)));
    auto trainer = Registry<PrivateTrainer>::instance().create(c->method);
    trainer->configure(tp);
    const PrivacyBudget budget{p.get_float("epsilon"), p.get_float("delta")};

    Record rec;
    nlohmann::json model_id = model_identity(p.get_string("model"));
    rec.model = model_id;
    const fs::path model_dir = model_id["path"].get<std::string>();
    Downstream data;
    {
      auto t = ctx.timer().scope("load");
      auto probe = load_vision_model(model_dir);
      data = load_downstream(p, probe->in_channels(), probe->image_size(), ctx);
    }
    rec.data = image_data_identity(data.name, image_data_dir(ctx));
    rec.data["train_examples"] = data.train.size();
    rec.data["test_examples"] = data.test.size();

    nlohmann::json runs = nlohmann::json::array();
    repeat_metrics(repeats_of(p), ctx, rec, [&](int64_t) {
      auto model = load_vision_model(model_dir);
      at::manual_seed(ctx.component_seed("dp_accuracy.head"));  // reset_head draws from the global generator
      model->reset_head(data.num_classes);
      model->to(ctx.device());
      int64_t total = 0;
      for (const auto& q : model->parameters()) total += q.numel();
      const auto t0 = std::chrono::steady_clock::now();
      const dp::DpTrainRecord r = trainer->train(*model, data.train, data.test, budget, ctx);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      runs.push_back(summary(r, seconds));
      return std::map<std::string, double>{
          {"accuracy", 100.0 * r.test_accuracy},
          {"epsilon", r.epsilon},
          {"sigma", r.noise_multiplier},
          {"train_s", seconds},
          {"trainable", static_cast<double>(r.trainable)},
          {"trainable_pct", 100.0 * static_cast<double>(r.trainable) / static_cast<double>(total)},
      };
    });
    rec.metrics["target_epsilon"] = budget.epsilon;
    rec.details["accountant"] = runs.empty() ? "" : runs[0]["accountant"];
    rec.details["randomness"] = runs.empty() ? "" : runs[0]["randomness"];
    rec.details["delta"] = budget.delta;
    rec.details["trainer"] = tp.canonical();
    rec.details["runs"] = runs;
    return rec;
  }

 private:
  static Downstream load_downstream(const Params& p, int64_t channels, int64_t image_size, RunContext& ctx) {
    const std::string name = p.get_string("dataset");
    const uint64_t subset_seed = static_cast<uint64_t>(p.get_int("subset_seed"));
    Downstream d;
    if (name == kSynthetic) {
      d = synthetic_set(channels, image_size, 512, 256, subset_seed);
    } else {
      const ImageDatasetInfo& info = image_dataset_info(name);
      if (info.channels != channels)
        p.fail("dataset", fmt::format("'{}' has {} channel(s), the model takes {}", name, info.channels, channels));
      const fs::path dd = image_data_dir(ctx);
      d.train = normalised_images(load_image_dataset(name, dd, "train"), info, image_size);
      d.test = normalised_images(load_image_dataset(name, dd, "test"), info, image_size);
      d.num_classes = info.num_classes;
      d.name = name;
    }
    d.train = take_subset(d.train, p.get_int("train_examples"), subset_seed);
    d.test = take_subset(d.test, p.get_int("test_examples"), subset_seed + 1);
    return d;
  }

  // What a record keeps of one run: the privacy accounting and the per-epoch curve.
  static nlohmann::json summary(const dp::DpTrainRecord& r, double seconds) {
    nlohmann::json epochs = nlohmann::json::array();
    for (const auto& e : r.epochs)
      epochs.push_back({{"epoch", e.epoch},
                        {"phase", e.phase},
                        {"train_loss", e.train_loss},
                        {"test_accuracy", e.test_accuracy},
                        {"epsilon", e.epsilon},
                        {"trainable", e.trainable},
                        {"seconds", e.seconds}});
    return {{"accountant", r.accountant},
            {"randomness", r.randomness},
            {"noise_multiplier", r.noise_multiplier},
            {"sample_rate", r.sample_rate},
            {"expected_lot_size", r.expected_lot_size},
            {"max_grad_norm", r.max_grad_norm},
            {"lots_per_epoch", r.lots_per_epoch},
            {"planned_steps", r.planned_steps},
            {"steps", r.steps},
            {"target_epsilon", r.target_epsilon},
            {"delta", r.delta},
            {"epsilon", r.epsilon},
            {"stopped_over_budget", r.stopped_over_budget},
            {"trainable", r.trainable},
            {"test_accuracy", r.test_accuracy},
            {"seconds", seconds},
            {"epochs", epochs}};
  }
};

}  // namespace
}  // namespace repro

REPRO_REGISTER_SUITE(repro::DpAccuracySuite);
