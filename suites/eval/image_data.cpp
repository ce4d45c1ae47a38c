#include "suites/eval/image_data.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/paths.h"
#include "datasets/image_augment.h"

namespace repro {

namespace fs = std::filesystem;

fs::path image_data_dir(const RunContext& ctx) {
  return ctx.options().data_dir.empty() ? project_root() / "data" : ctx.options().data_dir;
}

dp::LabeledImages normalised_images(const ImageDataset& d, const ImageDatasetInfo& info, int64_t image_size) {
  at::Tensor x = d.images;
  if (x.size(-1) != image_size) x = resize_images(x, image_size);  // e.g. DeiT's 224 (SPARTA resizes CIFAR)
  dp::LabeledImages out{normalize_images(x, info.mean, info.std), d.labels, {}};
  for (size_t c = 0; c < info.mean.size(); ++c) out.black.push_back(-info.mean[c] / info.std[c]);
  return out;
}

nlohmann::json image_data_identity(const std::string& name, const fs::path& data_dir) {
  if (name == "synthetic") return {{"name", "synthetic"}};
  for (const fs::path& dir : {data_dir / name, data_dir / "cifar-10-batches-bin", data_dir / "cifar-100-binary"}) {
    if (!fs::is_directory(dir)) continue;
    if (fs::exists(dir / "MANIFEST")) return {{"name", name}, {"manifest_sha256", sha256_file(dir / "MANIFEST")}};
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) entries.push_back(fmt::format("{}:{}", e.path().filename().string(), e.file_size()));
    std::sort(entries.begin(), entries.end());
    std::string all;
    for (const auto& s : entries) all += s + "\n";
    return {{"name", name}, {"files_sha256", sha256_hex(all)}};
  }
  return {{"name", name}, {"files", "not found"}};  // run_row reports the missing files
}

}  // namespace repro
