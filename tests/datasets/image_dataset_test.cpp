// datasets/image_*: the IDX and CIFAR readers on tiny files written here, their errors, SPARTA's
// crop + flip augmentation, and the real Fashion-MNIST / mnist10k when `make setup` built them.
#include "tests/catch.h"

#include <ATen/ATen.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "datasets/image_augment.h"
#include "datasets/image_dataset.h"
#include "datasets/image_formats.h"
#include "tests/test_util.h"

using namespace repro;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class E, class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("no exception was thrown");
  return "";
}

void write_bytes(const fs::path& path, const std::string& bytes) { repro::test::write_text(path, bytes); }

IdxArray idx(std::vector<int64_t> dims, uint8_t start = 0) {
  IdxArray a;
  a.dims = std::move(dims);
  size_t n = 1;
  for (int64_t d : a.dims) n *= static_cast<size_t>(d);
  for (size_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>(start + i));
  return a;
}

// One CIFAR record: label byte(s), then pixel (c, y, x) = (label + 7c + 3y + x) mod 256.
std::string cifar_record(const std::vector<uint8_t>& labels) {
  std::string r(labels.begin(), labels.end());
  const int base = labels.back();
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) r.push_back(static_cast<char>((base + 7 * c + 3 * y + x) % 256));
  return r;
}

fs::path data_root() {
  if (const char* env = std::getenv("REPRO_DATA_DIR"); env && *env) return env;
  return repro::test::source_root() / "data";
}

}  // namespace

TEST_CASE("IDX files: encode, parse, load as [N, 1, H, W] in [0, 1]", "[datasets][vision]") {
  repro::test::TempDir dir("idx");
  const IdxArray images = idx({3, 4, 5}, 10);
  IdxArray labels = idx({3});
  labels.data = {2, 0, 1};
  write_bytes(dir / "train-images-idx3-ubyte", encode_idx(images));
  write_bytes(dir / "train-labels-idx1-ubyte", encode_idx(labels));
  const IdxArray back = parse_idx(encode_idx(images), "mem");
  CHECK(back.dims == images.dims);
  CHECK(back.data == images.data);

  const ImageDataset d = load_mnist_folder(dir.path(), "train", 3, "toy:train");
  CHECK(d.images.sizes().vec() == std::vector<int64_t>{3, 1, 4, 5});
  CHECK(d.images.scalar_type() == at::kFloat);
  CHECK(d.labels.scalar_type() == at::kLong);
  CHECK(d.labels.sizes().vec() == std::vector<int64_t>{3});
  CHECK(d.labels[0].item<int64_t>() == 2);
  CHECK(d.images[1][0][2][3].item<float>() == Approx((10 + 20 + 2 * 5 + 3) / 255.0));
  CHECK(d.num_classes == 3);
  CHECK(d.size() == 3);

  const ImageDataset sub = d.subset(at::tensor(std::vector<int64_t>{2, 0}), "toy:sub");
  CHECK(sub.size() == 2);
  CHECK(sub.labels[0].item<int64_t>() == 1);
  CHECK(at::equal(sub.images[1], d.images[0]));

  // The gzip'd file is read when the plain one is absent (as MNIST is distributed).
  fs::remove(dir / "train-labels-idx1-ubyte");
  const std::string raw = encode_idx(labels);
  gzFile gz = gzopen((dir / "train-labels-idx1-ubyte.gz").c_str(), "wb");
  REQUIRE(gz != nullptr);
  gzwrite(gz, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(gz);
  CHECK(at::equal(load_mnist_folder(dir.path(), "train", 3, "toy").labels, d.labels));
}

TEST_CASE("IDX files: errors name the file and what was expected", "[datasets][vision]") {
  repro::test::TempDir dir("idx-err");
  const std::string images = encode_idx(idx({2, 3, 3}));
  IdxArray labels = idx({2});
  labels.data = {0, 1};

  write_bytes(dir / "t10k-images-idx3-ubyte", images.substr(0, images.size() - 1));
  write_bytes(dir / "t10k-labels-idx1-ubyte", encode_idx(labels));
  std::string msg = error_of<DataError>([&] { load_mnist_folder(dir.path(), "test", 10, "x"); });
  CHECK(contains(msg, "t10k-images-idx3-ubyte"));
  CHECK(contains(msg, "2 x 3 x 3"));

  write_bytes(dir / "t10k-images-idx3-ubyte", images);
  fs::remove(dir / "t10k-labels-idx1-ubyte");
  msg = error_of<DataError>([&] { load_mnist_folder(dir.path(), "test", 10, "x"); });
  CHECK(contains(msg, "t10k-labels-idx1-ubyte: no such file"));

  labels.data = {0, 7};
  write_bytes(dir / "t10k-labels-idx1-ubyte", encode_idx(labels));
  CHECK(contains(error_of<DataError>([&] { load_mnist_folder(dir.path(), "test", 5, "x"); }), "label 7"));

  write_bytes(dir / "t10k-labels-idx1-ubyte", encode_idx(idx({3})));
  CHECK(contains(error_of<DataError>([&] { load_mnist_folder(dir.path(), "test", 10, "x"); }), "3 labels"));

  CHECK(contains(error_of<DataError>([] { parse_idx(std::string("\x00\x00\x0d\x01", 4), "f.idx"); }), "0x0d"));
  CHECK_THROWS_AS(parse_idx("PK\x03\x04", "zip"), DataError);
  CHECK_THROWS_AS(load_mnist_folder(dir.path(), "valid", 10, "x"), ConfigError);
}

TEST_CASE("CIFAR-10 binary: batches, channel planes, errors", "[datasets][vision]") {
  repro::test::TempDir dir("cifar10");
  const fs::path d = dir / "cifar-10-batches-bin";  // as cifar-10-binary.tar.gz unpacks
  fs::create_directories(d);
  for (int b = 1; b <= 5; ++b)
    write_bytes(d / ("data_batch_" + std::to_string(b) + ".bin"),
                cifar_record({static_cast<uint8_t>(b)}) + cifar_record({9}));
  write_bytes(d / "test_batch.bin", cifar_record({4}));

  const ImageDataset train = load_image_dataset("cifar10", dir.path(), "train");
  CHECK(train.name == "cifar10:train");
  CHECK(train.images.sizes().vec() == std::vector<int64_t>{10, 3, 32, 32});
  CHECK(train.num_classes == 10);
  CHECK(train.labels[2].item<int64_t>() == 2);  // data_batch_2's first record
  CHECK(train.labels[3].item<int64_t>() == 9);
  // Pixel (c, y, x) of record 2 (label 2): (2 + 7c + 3y + x) / 255 - the red plane comes first.
  CHECK(train.images[2][1][5][6].item<float>() == Approx((2 + 7 + 15 + 6) / 255.0));
  CHECK(train.images[2][2][0][0].item<float>() == Approx((2 + 14) / 255.0));
  const ImageDataset test = load_image_dataset("cifar10", dir.path(), "test");
  CHECK(test.size() == 1);

  write_bytes(d / "data_batch_3.bin", cifar_record({1}).substr(0, 3000));
  std::string msg = error_of<DataError>([&] { load_image_dataset("cifar10", dir.path(), "train"); });
  CHECK(contains(msg, "data_batch_3.bin"));
  CHECK(contains(msg, "3073"));
  fs::remove(d / "data_batch_3.bin");
  CHECK(contains(error_of<DataError>([&] { load_image_dataset("cifar10", dir.path(), "train"); }),
                 "data_batch_3.bin: no such file"));
  write_bytes(d / "data_batch_3.bin", cifar_record({12}));
  CHECK(contains(error_of<DataError>([&] { load_image_dataset("cifar10", dir.path(), "train"); }), "label 12"));

  repro::test::TempDir empty("cifar-none");
  msg = error_of<DataError>([&] { load_image_dataset("cifar10", empty.path(), "test"); });
  CHECK(contains(msg, "test_batch.bin"));
  CHECK(contains(msg, "cifar-10-batches-bin"));
}

TEST_CASE("CIFAR-100 binary: coarse and fine labels", "[datasets][vision]") {
  repro::test::TempDir dir("cifar100");
  write_bytes(dir / "train.bin", cifar_record({3, 57}) + cifar_record({19, 99}));
  write_bytes(dir / "test.bin", cifar_record({0, 1}));
  const ImageDataset fine = load_image_dataset("cifar100", dir.path(), "train");  // the folder itself
  CHECK(fine.num_classes == 100);
  CHECK(fine.labels[0].item<int64_t>() == 57);
  CHECK(fine.labels[1].item<int64_t>() == 99);
  CHECK(fine.images[1][0][0][1].item<float>() == Approx((99 + 1) / 255.0));
  const ImageDataset coarse = load_image_dataset("cifar100-coarse", dir.path(), "train");
  CHECK(coarse.num_classes == 20);
  CHECK(coarse.labels[1].item<int64_t>() == 19);
  write_bytes(dir / "test.bin", cifar_record({0, 1}).substr(1));  // a CIFAR-10-sized record
  CHECK(contains(error_of<DataError>([&] { load_image_dataset("cifar100", dir.path(), "test"); }), "3074"));
  CHECK(contains(error_of<ConfigError>([&] { load_image_dataset("cifar-10", dir.path(), "test"); }), "cifar10"));
  CHECK(image_dataset_info("cifar100").mean.size() == 3);
}

TEST_CASE("normalize_images and resize_images", "[datasets][vision]") {
  const at::Tensor x = at::full({2, 3, 4, 4}, 0.5);
  const at::Tensor n = normalize_images(x, {0.5, 0.25, 0.0}, {1.0, 0.5, 2.0});
  CHECK(n[1][0].abs().max().item<float>() == Approx(0.0));
  CHECK(n[0][1][3][3].item<float>() == Approx(0.5));
  CHECK(n[0][2][0][0].item<float>() == Approx(0.25));
  CHECK_THROWS_AS(normalize_images(x, {0.5}, {1.0}), ConfigError);
  const at::Tensor r = resize_images(x, 224);
  CHECK(r.sizes().vec() == std::vector<int64_t>{2, 3, 224, 224});
  CHECK((r - 0.5).abs().max().item<float>() < 1e-6);
}

TEST_CASE("the embedded image sets built by make setup", "[datasets][vision]") {
  const fs::path data = data_root();
  if (!fs::exists(data / "fashion-mnist" / "train-images-idx3-ubyte")) {
    WARN("no " << (data / "fashion-mnist").string() << ": run scripts/build-image-data.sh (make setup)");
  } else {
    const ImageDataset train = load_image_dataset("fashion-mnist", data, "train");
    const ImageDataset test = load_image_dataset("fashion-mnist", data, "test");
    CHECK(train.images.sizes().vec() == std::vector<int64_t>{60000, 1, 28, 28});
    CHECK(test.size() == 10000);
    CHECK(at::bincount(train.labels).eq(6000).all().item<bool>());
    const ImageDatasetInfo& info = image_dataset_info("fashion-mnist");
    CHECK(train.images.mean().item<double>() == Approx(info.mean[0]).margin(1e-4));
    CHECK(train.images.std().item<double>() == Approx(info.std[0]).margin(1e-4));
    CHECK(train.labels[0].item<int64_t>() == 9);
  }
  if (!fs::exists(data / "mnist10k" / "train-images-idx3-ubyte")) {
    WARN("no " << (data / "mnist10k").string() << ": run scripts/build-image-data.sh (make setup)");
  } else {
    const ImageDataset train = load_image_dataset("mnist10k", data, "train");
    const ImageDataset test = load_image_dataset("mnist10k", data, "test");
    CHECK(train.size() == 8000);
    CHECK(test.size() == 2000);
    CHECK(at::bincount(at::cat({train.labels, test.labels})).sum().item<int64_t>() == 10000);
    CHECK(at::bincount(test.labels, {}, 10).min().item<int64_t>() > 100);  // the shuffle mixed the classes
  }
}
