#pragma once
// A width-4 cnn_gn_small for grayscale images, saved as a model folder (config.json + safetensors),
// for suite tests that load a classifier by path. Weights from the global generator (seed it first).

#include <cstdint>
#include <filesystem>

#include "models/vision/vision_factory.h"

namespace repro::test {

inline void save_tiny_cnn(const std::filesystem::path& dir, int64_t image_size, int64_t classes) {
  VisionConfig cfg = vision_config("cnn_gn_small", classes);
  cfg.in_channels = 1;
  cfg.image_size = image_size;
  cfg.width = 4;
  cfg.norm_groups = 2;
  save_vision_model(*make_vision_model(cfg), dir);
}

}  // namespace repro::test
