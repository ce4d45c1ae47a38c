// The dp_accuracy suite through the table driver on a micro table (a width-4 cnn_gn_small on 8x8
// synthetic images): every row records repeated accuracy, the epsilon spent stays within the target,
// the record names the accountant, and the same seed gives the same numbers.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "tests/suites/tiny_cnn.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

std::string micro_table(const std::string& model_dir) {
  return R"(
[table]
title = "micro dp_accuracy"
suite = "dp_accuracy"
metrics = ["accuracy", "epsilon"]

[suite]
model = ")" + model_dir + R"("
dataset = "synthetic"
train_examples = 128
test_examples = 64
epochs = 3
lot_size = 32
physical_batch = 16
repeats = 2

[[rows]]
label = "Last layer"
trainer = "dp_last_layer"
epsilon = [2.0, 8.0]

[[rows]]
label = "SPARTA"
trainer = { method = "sparta", selection_epoch = 1, lr = 0.05, head_lr = 0.05 }
epsilon = 8.0
)";
}

std::vector<Record> run_micro_table(const std::filesystem::path& model_dir, const std::filesystem::path& results) {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  o.seed = 3;
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(micro_table(model_dir.string()), "dp.toml"), "test/dp_accuracy", {});
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  DriverSummary s = driver.run({});
  REQUIRE(s.failed == 0);
  return store.list("test/dp_accuracy");
}

}  // namespace

TEST_CASE("dp_accuracy suite: a micro table records accuracy within the privacy budget, reproducibly",
          "[suites][dp_accuracy]") {
  test::TempDir tmp;
  at::manual_seed(0);
  test::save_tiny_cnn(tmp / "model", 8, 4);

  const std::vector<Record> first = run_micro_table(tmp / "model", tmp / "a");
  REQUIRE(first.size() == 3);
  std::map<std::string, Record> by;
  for (const auto& r : first) {
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    REQUIRE(r.repeated("accuracy") != nullptr);
    CHECK(r.repeated("accuracy")->n() == 2);
    for (double eps : r.repeated("epsilon")->values) CHECK(eps <= r.metrics.at("target_epsilon") + 1e-9);
    CHECK(r.metrics.at("accuracy") >= 0.0);
    CHECK(r.metrics.at("accuracy") <= 100.0);
    CHECK(r.metrics.at("sigma") > 0.0);
    CHECK(r.details.at("accountant") == "rdp");
    CHECK(r.details.at("randomness") == "seeded");
    CHECK(r.data.at("train_examples") == 128);
    by[r.label] = r;
  }
  // A larger budget needs less noise; SPARTA trains a fraction of the weights' rows.
  CHECK(by.at("Last layer [epsilon=8]").metrics.at("sigma") < by.at("Last layer [epsilon=2]").metrics.at("sigma"));
  CHECK(by.at("SPARTA").metrics.at("trainable") > by.at("Last layer [epsilon=8]").metrics.at("trainable"));
  CHECK(by.at("SPARTA").metrics.at("trainable_pct") < 100.0);

  // Same seed, same table: the same numbers, bit for bit on the CPU.
  const std::vector<Record> second = run_micro_table(tmp / "model", tmp / "b");
  REQUIRE(second.size() == first.size());
  for (const auto& r : second) {
    INFO(r.label);
    const Record& a = by.at(r.label);
    for (const char* m : {"accuracy", "epsilon", "sigma", "trainable"})
      CHECK(r.repeated(m)->values == a.repeated(m)->values);
  }
}
