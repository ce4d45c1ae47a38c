#include "models/vision/vision_factory.h"

#include <map>
#include <optional>

#include <ATen/ATen.h>
#include <c10/util/StringUtil.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/strings.h"
#include "models/checkpoint.h"
#include "models/safetensors.h"
#include "models/vision/deit.h"
#include "models/vision/resnet_gn.h"
#include "models/vision/wide_resnet_gn.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

constexpr const char* kConfigKey = "repro_vision_config";
constexpr size_t kListedNames = 10;

std::string name_list(const std::vector<std::string>& names) {
  std::vector<std::string> shown(names.begin(),
                                 names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), kListedNames)));
  std::string s = join(shown, ", ");
  if (names.size() > kListedNames) s += fmt::format(", ... and {} more", names.size() - kListedNames);
  return s;
}

// The model's name for a checkpoint tensor name (wrapper prefixes dropped).
std::string strip_wrappers(std::string name) {
  for (const char* prefix : {"_module.", "module."})
    if (starts_with(name, prefix)) name = name.substr(std::string(prefix).size());
  return name;
}

}  // namespace

std::shared_ptr<VisionModel> make_vision_model(const VisionConfig& config) {
  vision_config(config.architecture, config.num_classes);  // ConfigError for an unknown name
  if (config.architecture == "resnet18_gn" || config.architecture == "cnn_gn_small")
    return std::make_shared<ResNetGn>(config);
  if (config.architecture == "wrn_28_10_gn") return std::make_shared<WideResNetGn>(config);
  return std::make_shared<Deit>(config);
}

std::shared_ptr<VisionModel> make_vision_model(const std::string& architecture, int64_t num_classes) {
  return make_vision_model(vision_config(architecture, num_classes));
}

void load_vision_weights(VisionModel& model, const fs::path& checkpoint) {
  refuse_pickle(checkpoint);
  const CheckpointReader reader(checkpoint);
  std::map<std::string, std::string> stored;  // model name -> checkpoint name
  std::vector<std::string> unknown, missing;
  const auto params = model.named_parameters(/*recurse=*/true);
  for (const std::string& name : reader.names()) {
    const std::string ours = strip_wrappers(name);
    if (params.contains(ours) && !stored.count(ours))
      stored[ours] = name;
    else
      unknown.push_back(name);
  }
  for (const auto& p : params)
    if (!stored.count(p.key())) missing.push_back(p.key());
  if (!missing.empty() || !unknown.empty()) {
    std::string msg = fmt::format("{}: the checkpoint does not match the model's parameters:", checkpoint.string());
    if (!missing.empty()) msg += fmt::format(" {} missing tensor(s): {}", missing.size(), name_list(missing));
    if (!missing.empty() && !unknown.empty()) msg += ";";
    if (!unknown.empty()) msg += fmt::format(" {} unknown tensor(s): {}", unknown.size(), name_list(unknown));
    throw ModelError(msg);
  }
  at::NoGradGuard no_grad;
  for (auto& p : params) {
    const std::string& name = stored.at(p.key());
    const safetensors::TensorInfo& info = reader.info(name);
    const std::vector<int64_t> want(p.value().sizes().begin(), p.value().sizes().end());
    if (info.shape != want)
      throw ModelError(fmt::format("{}: tensor '{}' in {} has shape {}, but the model expects {}", checkpoint.string(),
                                   name, reader.file_of(name), c10::str(c10::IntArrayRef(info.shape)),
                                   c10::str(p.value().sizes())));
    if (!c10::isFloatingType(to_scalar_type(info.dtype)))
      throw ModelError(fmt::format("{}: tensor '{}' in {} has dtype {}, expected a floating type", checkpoint.string(),
                                   name, reader.file_of(name), safetensors::dtype_name(info.dtype)));
    p.value().copy_(reader.get(name));
  }
}

std::shared_ptr<VisionModel> load_vision_model(const fs::path& path) {
  refuse_pickle(path);
  std::error_code ec;
  std::optional<VisionConfig> config;
  const fs::path beside = fs::is_directory(path, ec) ? path / "config.json" : path.parent_path() / "config.json";
  if (fs::is_regular_file(beside, ec)) {
    config = VisionConfig::load(beside);
  } else if (!fs::is_directory(path, ec)) {
    const SafetensorsFile file(path);
    auto it = file.metadata().find(kConfigKey);
    if (it != file.metadata().end()) config = VisionConfig::from_json(it->second, path.string() + " (metadata)");
  }
  if (!config)
    throw ModelError(
        fmt::format("{}: no vision model config: expected {} (ReproBench's or timm's config.json) or a "
                    "'{}' entry in the safetensors metadata",
                    path.string(), beside.string(), kConfigKey));
  std::shared_ptr<VisionModel> model = make_vision_model(*config);
  load_vision_weights(*model, path);
  return model;
}

void save_vision_model(const VisionModel& model, const fs::path& dir) {
  const VisionConfig config = model.config();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create the model folder ({})", dir.string(), ec.message()));
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : model.named_parameters(/*recurse=*/true))
    tensors.emplace_back(p.key(), p.value().detach().to(at::kCPU, at::kFloat));
  const std::string json = config.to_json().dump(2) + "\n";
  save_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}, {kConfigKey, config.to_json().dump()}});
  write_file_atomic(dir / "config.json", json);
}

}  // namespace repro
