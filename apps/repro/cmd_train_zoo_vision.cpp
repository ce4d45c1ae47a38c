// repro train-zoo <image recipe>: pretrains a zoo image classifier (training/vision_zoo.h) on an
// embedded image set, writes models/zoo/<name>/ (config.json, model.safetensors, log.csv,
// TRAINING.md) and reports the reloaded checkpoint's test accuracy.

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "apps/repro/cli.h"
#include "core/environment.h"
#include "core/hash.h"
#include "core/store.h"
#include "datasets/image_dataset.h"
#include "models/vision/vision_factory.h"
#include "training/vision_zoo.h"

namespace repro::cli {

namespace fs = std::filesystem;

dp::LabeledImages normalized_split(const std::string& dataset, const fs::path& data_dir, const std::string& split) {
  const ImageDataset d = load_image_dataset(dataset, data_dir, split);
  const ImageDatasetInfo& info = image_dataset_info(dataset);
  dp::LabeledImages out{normalize_images(d.images, info.mean, info.std), d.labels, {}};
  for (size_t c = 0; c < info.mean.size(); ++c) out.black.push_back(-info.mean[c] / info.std[c]);
  return out;
}

int train_vision_zoo(const VisionZooRecipe& recipe, const fs::path& out, const CommonOptions& common) {
  const fs::path data_dir = common.data_dir.empty() ? project_root() / "data" : fs::path(common.data_dir);
  RunOptions ro = make_run_options(common);
  ro.seed = recipe.seed;
  RunContext ctx(ro);
  const auto t0 = std::chrono::steady_clock::now();
  const dp::LabeledImages train = normalized_split(recipe.dataset, data_dir, "train");
  const dp::LabeledImages test = normalized_split(recipe.dataset, data_dir, "test");
  const ImageDatasetInfo& info = image_dataset_info(recipe.dataset);

  at::manual_seed(recipe.seed);  // make_vision_model initialises from the global generator
  VisionConfig config = vision_config(recipe.architecture, info.num_classes);
  config.in_channels = info.channels;
  config.image_size = info.image_size;
  auto model = make_vision_model(config);
  model->to(ctx.device());
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  ctx.log().info("zoo:{}: {} ({} parameters) on {} ({} train / {} test images), {} epochs", recipe.name,
                 recipe.architecture, params, recipe.dataset, train.size(), test.size(), recipe.train.epochs);
  const VisionPretrainResult r = pretrain_classifier(*model, train, test, recipe.train, ctx);

  // Save, then measure the checkpoint as the suites will load it.
  fs::create_directories(out);
  model->to(at::kCPU);
  save_vision_model(*model, out);
  auto reloaded = load_vision_model(out);
  const double test_acc = classifier_accuracy(*reloaded, test);
  const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 60.0;

  std::string csv = "epoch,train_loss,train_accuracy,test_accuracy,seconds\n";
  std::string rows;
  for (const auto& e : r.epochs) {
    csv += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.2f}\n", e.epoch + 1, e.train_loss, e.train_accuracy,
                       e.test_accuracy, e.seconds);
    rows += fmt::format("| {} | {:.4f} | {:.2f} | {:.2f} | {:.0f} |\n", e.epoch + 1, e.train_loss,
                        100 * e.train_accuracy, 100 * e.test_accuracy, e.seconds);
  }
  write_file_atomic(out / "log.csv", csv);
  const nlohmann::json env = capture_environment();
  const std::string md = fmt::format(
      "# zoo:{name}\n\n{purpose}.\n\n"
      "An image classifier pretrained by ReproBench without privacy, the upstream half of the protocol of\n"
      "SPARTA (Makni et al., arXiv 2503.12822): pretrain non-privately on one dataset, fine-tune with DP-SGD\n"
      "on another (the `dp_accuracy` suite re-initialises the head for the downstream classes). Its numbers\n"
      "are not comparable to the paper's ImageNet / CIFAR-100 models, only the orderings between methods are.\n\n"
      "## Reproduce\n\n```sh\nmake images\nbuild/apps/repro/repro train-zoo {name}\n```\n\n"
      "## Model\n\n| | |\n|---|---|\n| architecture | `{arch}` (models/vision/README.md) |\n"
      "| parameters | {params} |\n| input | {ch}x{hw}x{hw}, normalised with mean {mean} / std {std} |\n"
      "| classes | {classes} |\n| stored as | float32 safetensors ({kb} KB) |\n\n"
      "## Training\n\n| | |\n|---|---|\n| data | `{dataset}` train split, {n} images, no augmentation |\n"
      "| seed | {seed} (initialisation: the global generator; shuffling: `pretrain.shuffle`) |\n"
      "| epochs | {epochs} |\n| batch | {batch} |\n| optimizer | Adam (0.9, 0.999), lr {lr} constant, weight decay {wd} |\n"
      "| wall time | {minutes:.1f} min (loading, training, evaluation) on the machine below |\n\n"
      "| epoch | train loss | train acc (%) | test acc (%) | seconds |\n|---|---|---|---|---|\n{rows}\n"
      "## Result\n\nTest accuracy of the saved checkpoint on the `{dataset}` test split ({tn} images): **{acc:.2f}%**.\n\n"
      "(`log.csv` holds the per-epoch numbers.)\n\n"
      "Machine: {cpu}, {cores} cores, libtorch {torch}, BLAS {blas}.\n",
      fmt::arg("name", recipe.name), fmt::arg("purpose", recipe.purpose), fmt::arg("arch", recipe.architecture),
      fmt::arg("params", params), fmt::arg("ch", info.channels), fmt::arg("hw", info.image_size),
      fmt::arg("mean", fmt::join(info.mean, ", ")), fmt::arg("std", fmt::join(info.std, ", ")),
      fmt::arg("classes", info.num_classes),
      fmt::arg("kb", fs::file_size(out / "model.safetensors") / 1024), fmt::arg("dataset", recipe.dataset),
      fmt::arg("n", r.train_examples), fmt::arg("seed", recipe.seed), fmt::arg("epochs", recipe.train.epochs),
      fmt::arg("batch", recipe.train.batch_size), fmt::arg("lr", recipe.train.lr),
      fmt::arg("wd", recipe.train.weight_decay), fmt::arg("minutes", minutes), fmt::arg("rows", rows),
      fmt::arg("tn", test.size()), fmt::arg("acc", 100 * test_acc), fmt::arg("cpu", env["cpu"].get<std::string>()),
      fmt::arg("cores", std::thread::hardware_concurrency()), fmt::arg("torch", env["libtorch"].get<std::string>()),
      fmt::arg("blas", env["blas"].get<std::string>()));
  write_file_atomic(out / "TRAINING.md", md);
  fmt::print("zoo:{}: test accuracy {:.2f}% ({} images), {:.1f} min; wrote {}\n", recipe.name, 100 * test_acc,
             test.size(), minutes, out.string());
  return 0;
}

}  // namespace repro::cli
