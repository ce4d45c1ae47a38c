#pragma once
// Building, loading and saving the vision classifiers of models/vision/ by name.
//
//   auto net = make_vision_model("resnet18_gn", 10);             // random initialisation
//   auto pre = load_vision_model("ckpt/resnet18_cifar100_gn");   // config.json + model.safetensors
//   pre->reset_head(10);                                          // SPARTA's new head for CIFAR-10
//   save_vision_model(*pre, "out/model");
//
// Checkpoints are safetensors with the tensor names of each architecture's header (SPARTA's /
// timm's); pickle files (.pt, .pth, .bin) are refused, with how to convert them (README.md).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "models/vision/vision_config.h"
#include "models/vision/vision_model.h"

namespace repro {

// A randomly initialised model (seeded by the global generator). ModelError when the config is
// inconsistent, ConfigError for an unknown architecture.
std::shared_ptr<VisionModel> make_vision_model(const VisionConfig& config);
std::shared_ptr<VisionModel> make_vision_model(const std::string& architecture, int64_t num_classes);

// Copies the tensors of a checkpoint (a model folder or one .safetensors file, see CheckpointReader)
// into `model`'s parameters, converted to their dtype and device. ModelError naming the tensors
// when any parameter is missing or the checkpoint has tensors the model lacks (up to 10 of each,
// with counts), and naming the tensor, its file and both shapes when a shape differs. Prefixes
// "_module." (an Opacus GradSampleModule's state_dict) and "module." (DataParallel) are ignored.
void load_vision_weights(VisionModel& model, const std::filesystem::path& checkpoint);

// `path`: a folder with config.json (ReproBench's or timm's) and model.safetensors (or shards), or
// a .safetensors file with a config.json beside it or the config in its metadata (key
// "repro_vision_config", written by save_vision_model). ModelError when no config is found.
std::shared_ptr<VisionModel> load_vision_model(const std::filesystem::path& path);

// Writes config.json and model.safetensors (fp32, metadata format=pt and repro_vision_config) into
// `dir`, creating it; both atomically.
void save_vision_model(const VisionModel& model, const std::filesystem::path& dir);

}  // namespace repro
