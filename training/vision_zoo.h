#pragma once
// The image-model zoo: small classifiers that ReproBench pretrains itself (non-privately) on an
// embedded image set, so that the private fine-tuning tables (SPARTA, arXiv 2503.12822: pretrain on
// one dataset, fine-tune privately on another) run without downloading weights. Each recipe fixes
// the architecture, the dataset, the schedule and the seed; `repro train-zoo <name>` follows it and
// writes models/zoo/<name>/ (config.json, model.safetensors, TRAINING.md).

#include <cstdint>
#include <string>
#include <vector>

#include "training/vision_pretrain.h"

namespace repro {

struct VisionZooRecipe {
  std::string name;
  std::string purpose;       // one line
  std::string architecture;  // models/vision: vision_config(architecture, classes)
  std::string dataset;       // datasets/image_dataset.h name; train split to train, test split to report
  uint64_t seed = 1;
  VisionPretrainOptions train;
};

// nullptr when `name` is not an image recipe (it may be a language one, training/zoo.h).
const VisionZooRecipe* find_vision_zoo_recipe(const std::string& name);
std::vector<std::string> vision_zoo_names();

}  // namespace repro
