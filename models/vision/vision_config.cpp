#include "models/vision/vision_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/strings.h"

namespace repro {

namespace {

// timm's names of the architectures (its config.json "architecture" field) -> ours.
struct TimmAlias {
  const char* timm;
  const char* ours;
};
constexpr TimmAlias kTimmAliases[] = {
    {"deit_tiny_patch16_224", "deit_tiny"},
    {"deit_small_patch16_224", "deit_small"},
};

bool is_deit(const std::string& a) { return a == "deit_tiny" || a == "deit_small"; }

int64_t get_int(const nlohmann::json& j, const char* key, int64_t fallback, const std::string& origin) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    throw ModelError(fmt::format("{}: field '{}' must be an integer, got {}", origin, key, it->dump()));
  return it->get<int64_t>();
}

}  // namespace

const std::vector<std::string>& vision_architectures() {
  static const std::vector<std::string> names = {"cnn_gn_small", "resnet18_gn", "wrn_28_10_gn", "deit_tiny",
                                                 "deit_small"};
  return names;
}

VisionConfig vision_config(const std::string& architecture, int64_t num_classes) {
  VisionConfig c;
  c.architecture = architecture;
  c.num_classes = num_classes;
  if (architecture == "cnn_gn_small") {
    c.in_channels = 1, c.image_size = 28, c.width = 16, c.norm_groups = 8, c.norm_eps = 1e-5;
  } else if (architecture == "resnet18_gn") {
    c.in_channels = 3, c.image_size = 32, c.width = 64, c.depth = 18, c.norm_eps = 1e-5;
  } else if (architecture == "wrn_28_10_gn") {
    c.in_channels = 3, c.image_size = 32, c.width = 10, c.depth = 28, c.norm_eps = 1e-5;
  } else if (is_deit(architecture)) {
    // DeiT (Touvron et al., arXiv 2012.12877, Table 1): patch 16, MLP ratio 4, LayerNorm eps 1e-6.
    const bool tiny = architecture == "deit_tiny";
    c.in_channels = 3, c.image_size = 224, c.patch_size = 16, c.mlp_ratio = 4, c.norm_eps = 1e-6;
    c.width = tiny ? 192 : 384;
    c.num_heads = tiny ? 3 : 6;
    c.depth = 12;
  } else {
    const auto& names = vision_architectures();
    throw ConfigError(fmt::format("unknown vision architecture '{}'{} (known: {})", architecture,
                                  did_you_mean(architecture, names), join(names, ", ")));
  }
  return c;
}

int64_t VisionConfig::groups_for(int64_t channels) const {
  return norm_groups > 0 ? norm_groups : std::min<int64_t>(32, channels);
}

void VisionConfig::validate(const std::string& origin) const {
  const auto& names = vision_architectures();
  if (std::find(names.begin(), names.end(), architecture) == names.end())
    throw ModelError(
        fmt::format("{}: unknown vision architecture '{}' (known: {})", origin, architecture, join(names, ", ")));
  auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) throw ModelError(fmt::format("{}: {} needs a positive '{}', got {}", origin, architecture, key, v));
  };
  positive("num_classes", num_classes);
  positive("in_channels", in_channels);
  positive("image_size", image_size);
  positive("width", width);
  if (!(norm_eps > 0)) throw ModelError(fmt::format("{}: norm_eps must be positive, got {}", origin, norm_eps));
  if (norm_groups < 0) throw ModelError(fmt::format("{}: norm_groups must be >= 0, got {}", origin, norm_groups));
  // Every normalised width must split into the groups.
  std::vector<int64_t> channels;
  if (architecture == "cnn_gn_small" || architecture == "resnet18_gn") {
    if (architecture == "resnet18_gn" && depth != 10 && depth != 18 && depth != 34)
      throw ModelError(fmt::format("{}: resnet18_gn depth must be 10, 18 or 34, got {}", origin, depth));
    const int stages = architecture == "cnn_gn_small" ? 3 : 4;
    for (int s = 0; s < stages; ++s) channels.push_back(width << s);
  } else if (architecture == "wrn_28_10_gn") {
    if (depth < 10 || (depth - 4) % 6 != 0)
      throw ModelError(fmt::format("{}: wrn_28_10_gn depth must be 6n + 4 with n >= 1, got {}", origin, depth));
    channels = {16, 16 * width, 32 * width, 64 * width};
  } else {
    positive("depth", depth);
    positive("num_heads", num_heads);
    positive("patch_size", patch_size);
    positive("mlp_ratio", mlp_ratio);
    if (width % num_heads != 0)
      throw ModelError(fmt::format("{}: width {} is not divisible by num_heads {}", origin, width, num_heads));
    if (image_size % patch_size != 0)
      throw ModelError(
          fmt::format("{}: image_size {} is not divisible by patch_size {}", origin, image_size, patch_size));
  }
  for (int64_t c : channels)
    if (c % groups_for(c) != 0)
      throw ModelError(fmt::format("{}: {} channels do not split into {} GroupNorm groups (norm_groups = {})", origin,
                                   c, groups_for(c), norm_groups));
}

nlohmann::json VisionConfig::to_json() const {
  return {{"architecture", architecture},
          {"num_classes", num_classes},
          {"in_channels", in_channels},
          {"image_size", image_size},
          {"width", width},
          {"depth", depth},
          {"num_heads", num_heads},
          {"patch_size", patch_size},
          {"mlp_ratio", mlp_ratio},
          {"norm_groups", norm_groups},
          {"norm_eps", norm_eps}};
}

std::string VisionConfig::spec() const {
  // nlohmann's object keeps its keys sorted.
  const nlohmann::json j = to_json();
  std::vector<std::string> parts;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "architecture") parts.push_back(it.key() + "=" + it.value().dump());
  return architecture + "(" + join(parts, ",") + ")";
}

VisionConfig VisionConfig::from_json(std::string_view text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(fmt::format("{}: not valid JSON ({})", origin, e.what()));
  }
  if (!j.is_object()) throw ModelError(fmt::format("{}: expected a JSON object", origin));
  auto it = j.find("architecture");
  if (it == j.end() || !it->is_string())
    throw ModelError(
        fmt::format("{}: no string field 'architecture' (one of {}, or a timm name such as "
                    "deit_tiny_patch16_224)",
                    origin, join(vision_architectures(), ", ")));
  std::string arch = it->get<std::string>();
  for (const TimmAlias& a : kTimmAliases)
    if (arch == a.timm) arch = a.ours;
  const auto& names = vision_architectures();
  if (std::find(names.begin(), names.end(), arch) == names.end())
    throw ModelError(fmt::format("{}: architecture '{}' is not supported (supported: {}, and timm's {} / {})", origin,
                                 arch, join(names, ", "), kTimmAliases[0].timm, kTimmAliases[1].timm));
  VisionConfig c = vision_config(arch, get_int(j, "num_classes", 0, origin));
  // timm: pretrained_cfg.input_size = [C, H, W].
  if (auto pc = j.find("pretrained_cfg"); pc != j.end() && pc->is_object()) {
    auto in = pc->find("input_size");
    if (in != pc->end() && in->is_array() && in->size() == 3 && (*in)[0].is_number_integer() &&
        (*in)[1].is_number_integer()) {
      c.in_channels = (*in)[0].get<int64_t>();
      c.image_size = (*in)[1].get<int64_t>();
    }
  }
  c.in_channels = get_int(j, "in_channels", c.in_channels, origin);
  c.image_size = get_int(j, "image_size", c.image_size, origin);
  c.width = get_int(j, "width", c.width, origin);
  c.depth = get_int(j, "depth", c.depth, origin);
  c.num_heads = get_int(j, "num_heads", c.num_heads, origin);
  c.patch_size = get_int(j, "patch_size", c.patch_size, origin);
  c.mlp_ratio = get_int(j, "mlp_ratio", c.mlp_ratio, origin);
  c.norm_groups = get_int(j, "norm_groups", c.norm_groups, origin);
  if (auto e = j.find("norm_eps"); e != j.end()) {
    if (!e->is_number()) throw ModelError(fmt::format("{}: field 'norm_eps' must be a number", origin));
    c.norm_eps = e->get<double>();
  }
  c.validate(origin);
  return c;
}

VisionConfig VisionConfig::load(const std::filesystem::path& config_json) {
  std::ifstream in(config_json);
  if (!in) throw ModelError(fmt::format("{}: cannot open", config_json.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), config_json.string());
}

}  // namespace repro
