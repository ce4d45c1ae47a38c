#pragma once
// The architecture of a vision classifier (models/vision/), as config.json holds it. One flat
// record for all architectures: each reads the fields it needs (see the table in README.md) and
// ignores the others. No libtorch.
//
//   VisionConfig c = vision_config("deit_tiny", 10);      // the named architecture's sizes
//   c.depth = 1; c.width = 32; c.num_heads = 2;           // a tiny variant for a test
//   auto model = make_vision_model(c);                     // models/vision/vision_factory.h

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace repro {

struct VisionConfig {
  std::string architecture;  // cnn_gn_small | resnet18_gn | wrn_28_10_gn | deit_tiny | deit_small
  int64_t num_classes = 10;
  int64_t in_channels = 3;
  int64_t image_size = 32;  // height = width the model is built for (DeiT: fixes pos_embed's length)
  // cnn_gn_small, resnet18_gn: channels of the first stage (stages double it); wrn_28_10_gn: the
  // widen factor k; deit_*: the embedding dimension.
  int64_t width = 0;
  // resnet18_gn: 10, 18 or 34 (BasicBlocks per stage 1-1-1-1, 2-2-2-2, 3-4-6-3); wrn_28_10_gn: the
  // depth 6n + 4; deit_*: the number of transformer blocks; cnn_gn_small: unused (0).
  int64_t depth = 0;
  int64_t num_heads = 0;   // deit_*
  int64_t patch_size = 0;  // deit_*
  int64_t mlp_ratio = 0;   // deit_*: hidden width of the MLP / width
  // GroupNorm groups for C channels: 0 = min(32, C), the group count of Opacus's BatchNorm ->
  // GroupNorm replacement (ModuleValidator.fix), which made SPARTA's ResNet-18-GN and WRN-28-10-GN.
  int64_t norm_groups = 0;
  double norm_eps = 0;  // GroupNorm 1e-5 (PyTorch's default), DeiT LayerNorm 1e-6

  // GroupNorm groups for a layer of `channels` channels.
  int64_t groups_for(int64_t channels) const;

  // ModelError naming `origin` when a size is missing or inconsistent (e.g. width % num_heads).
  void validate(const std::string& origin) const;

  // Parses config.json text (`origin` names it in errors): ReproBench's own fields, or a timm
  // config.json ({"architecture": "deit_tiny_patch16_224", "num_classes": 1000, ...}), whose
  // architecture maps to deit_tiny / deit_small with that architecture's sizes.
  static VisionConfig from_json(std::string_view text, const std::string& origin);
  static VisionConfig load(const std::filesystem::path& config_json);
  nlohmann::json to_json() const;
  // One line, fields sorted: "resnet18_gn(classes=10,depth=18,...)".
  std::string spec() const;
};

// The sizes of a named architecture with `num_classes` outputs. ConfigError for an unknown name
// (listing the known ones, with a did-you-mean).
VisionConfig vision_config(const std::string& architecture, int64_t num_classes);

// cnn_gn_small, resnet18_gn, wrn_28_10_gn, deit_tiny, deit_small.
const std::vector<std::string>& vision_architectures();

}  // namespace repro
