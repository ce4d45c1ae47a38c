#include "suites/eval/model_identity.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/paths.h"
#include "datasets/text_datasets.h"

namespace repro {

namespace fs = std::filesystem;

nlohmann::json model_identity(const std::string& spec) {
  fs::path dir = resolve_model_path(spec);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw ModelError(fmt::format("model '{}': folder {} not found{}", spec, dir.string(),
                                 spec.rfind("zoo:", 0) == 0 ? " (train it with `repro train-zoo " + spec.substr(4) + "`)" : ""));
  if (!fs::is_regular_file(dir / "config.json", ec))
    throw ModelError(fmt::format("model '{}': {} has no config.json", spec, dir.string()));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    const auto ext = e.path().extension().string();
    if (name == "config.json" || ext == ".safetensors" || name == "model.safetensors.index.json" ||
        name == "tokenizer.json" || name == "tokenizer.model" || name == "tokenizer_config.json")
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& f : files) {
    h.update(f.filename().string());
    h.update(sha256_file(f));
  }
  return {{"name", spec}, {"path", dir.string()}, {"sha256", h.hex()}};
}

std::string dataset_files_sha256(const std::string& dataset, const fs::path& data_dir, const std::string& split) {
  const auto& info = text_dataset_info(dataset);
  fs::path dir = text_dataset_dir(dataset, data_dir, split);
  Sha256 h;
  std::error_code ec;
  for (const auto& f : info.files)
    if (fs::is_regular_file(dir / f, ec)) {
      h.update(f);
      h.update(sha256_file(dir / f));
    }
  return h.hex();
}

}  // namespace repro
