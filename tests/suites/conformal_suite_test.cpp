// The conformal suite through the table driver on a micro table: every row records coverage and
// set size with repetitions, the oracle covers, and `local` (a client alone) builds larger sets.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "datasets/image_formats.h"
#include "tests/suites/tiny_cnn.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

const char* kTable = R"(
[table]
title = "micro conformal"
suite = "conformal"
metrics = ["coverage", "set_size"]

[suite]
num_classes = 5
dim = 4
clients = 4
calibration_per_client = 60
test_per_client = 100
repeats = 5

[[rows]]
label = "Oracle"
method = "central_weighted"

[[rows]]
label = "Local"
method = "local"

[[rows]]
label = "DP-FedCP"
method = { method = "dp_fedcp", rounds = 200 }
alpha = [0.1, 0.2]
)";

}  // namespace

TEST_CASE("conformal suite: a micro table records repeated coverage and set size", "[suites][conformal]") {
  test::TempDir results;
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(kTable, "conformal.toml"), "test/conformal", {});
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  DriverSummary s = driver.run({});
  REQUIRE(s.failed == 0);
  auto recs = store.list("test/conformal");
  REQUIRE(recs.size() == 4);
  std::map<std::string, Record> by;
  for (const auto& r : recs) {
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    REQUIRE(r.repeated("coverage") != nullptr);
    CHECK(r.repeated("coverage")->n() == 5);
    CHECK(r.metrics.at("coverage") > 0.5);
    CHECK(r.metrics.at("set_size") > 0.5);  // empty sets are allowed at large alpha
    by[r.label] = r;
  }
  CHECK(by.at("Oracle").metrics.at("coverage") > 0.85);
  CHECK(by.at("Local").metrics.at("set_size") > by.at("Oracle").metrics.at("set_size"));
  CHECK(by.at("DP-FedCP [alpha=0.2]").metrics.at("set_size") <= by.at("DP-FedCP [alpha=0.1]").metrics.at("set_size"));
  CHECK(by.at("DP-FedCP [alpha=0.2]").metrics.at("alpha") == 0.2);
}

TEST_CASE("conformal suite: the image task scores a frozen classifier's softmax on a test split", "[suites][conformal]") {
  // A Fashion-MNIST-shaped test split the test writes (400 images, 40 per class, class-dependent
  // brightness so that even a random classifier's scores depend on the class) and an untrained
  // width-4 cnn_gn_small: coverage must hold whatever the classifier's quality.
  test::TempDir tmp;
  at::manual_seed(0);
  test::save_tiny_cnn(tmp / "model", 28, 10);
  IdxArray images{{400, 28, 28}, {}}, labels{{400}, {}};
  for (int i = 0; i < 400; ++i) {
    labels.data.push_back(static_cast<uint8_t>(i % 10));
    for (int j = 0; j < 28 * 28; ++j) images.data.push_back(static_cast<uint8_t>((i % 10) * 20 + (j * 7 + i) % 50));
  }
  test::write_text(tmp / "data" / "fashion-mnist" / "t10k-images-idx3-ubyte", encode_idx(images));
  test::write_text(tmp / "data" / "fashion-mnist" / "t10k-labels-idx1-ubyte", encode_idx(labels));

  const std::string table_text = R"(
[table]
title = "micro conformal images"
suite = "conformal"
metrics = ["coverage", "set_size", "epsilon"]

[suite]
task = "image"
model = ")" + (tmp / "model").string() + R"("
dataset = "fashion-mnist"
clients = 4
calibration_per_client = 80
test_per_client = 100
repeats = 4

[[rows]]
label = "Oracle"
method = "central_weighted"

[[rows]]
label = "DP-FedCP"
method = { method = "dp_fedcp", rounds = 200, epsilon = [2.0, 8.0] }
)";
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  o.data_dir = tmp / "data";
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(table_text, "images.toml"), "test/conformal_images", {});
  ResultStore store(tmp / "runs");
  TableDriver driver(table, store, ctx);
  REQUIRE(driver.run({}).failed == 0);
  std::map<std::string, Record> by;
  for (const auto& r : store.list("test/conformal_images")) {
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    CHECK(r.metrics.at("accuracy") >= 0.0);
    CHECK(r.data.at("test_examples") == 400);
    by[r.label] = r;
  }
  REQUIRE(by.size() == 3);
  CHECK(by.at("Oracle").metrics.at("coverage") > 0.85);
  CHECK_FALSE(by.at("Oracle").metrics.count("epsilon"));  // no privacy mechanism, no epsilon
  // The accountant's epsilon for the calibrated z: at most the target, within its tolerance.
  CHECK(by.at("DP-FedCP [epsilon=2]").metrics.at("epsilon") <= 2.0);
  CHECK(by.at("DP-FedCP [epsilon=2]").metrics.at("epsilon") > 1.98);
  CHECK(by.at("DP-FedCP [epsilon=8]").metrics.at("noise_multiplier") <
        by.at("DP-FedCP [epsilon=2]").metrics.at("noise_multiplier"));
}
