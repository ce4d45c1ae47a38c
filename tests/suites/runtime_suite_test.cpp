// The runtime suite through the table driver on tiny shapes (Llama-3-8B / 128: 32x32 ... 112x32):
// every row records a time per block and its extrapolation, and the slow iterative method is
// slower than the one-shot one on the same layers.
#include "tests/catch.h"

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

const char* kTable = R"(
[table]
title = "micro runtime"
suite = "runtime"
metrics = ["block_s", "model_h"]

[suite]
shape_scale = 128
blocks = 32

[[rows]]
label = "SparseGPT"
compressor = { method = "sparsegpt", pattern = "2:4" }

[[rows]]
label = "HASSLE-free"
compressor = { method = "hassle_free", pattern = "2:4", rank = 2, iterations = 20 }

[[claims]]
kind = "ratio_below"
metric = "block_s"
a = "SparseGPT"
b = "HASSLE-free"
threshold = 1.0
)";

}  // namespace

TEST_CASE("runtime suite on tiny Llama-3-8B shapes: times, extrapolation, shared shapes timed once",
          "[suites][runtime]") {
  test::TempDir results;
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(kTable, "runtime.toml"), "test/runtime", {});
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  DriverSummary s = driver.run({});
  REQUIRE(s.failed == 0);
  auto recs = store.list("test/runtime");
  REQUIRE(recs.size() == 2);
  for (const auto& r : recs) {
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    CHECK(r.metrics.at("block_s") > 0.0);
    CHECK(r.metrics.at("model_h") == Approx(r.metrics.at("block_s") * 32 / 3600.0));
    CHECK(r.metrics.at("rel_error") < 1.0);
    // q/o, k/v and gate/up share shapes: four solves stand for seven linears.
    const auto& layers = r.details.at("layers");
    REQUIRE(layers.size() == 4);
    CHECK(layers[0].at("linears").size() == 2);
    CHECK(layers[3].at("shape")[0].get<int64_t>() == 4096 / 128);
    CHECK(layers[3].at("shape")[1].get<int64_t>() == 14336 / 128);
  }
  auto metric = [&](const std::string& label) {
    for (const auto& r : recs)
      if (r.label == label) return r.metrics.at("block_s");
    FAIL("no row " << label);
    return 0.0;
  };
  // 20 pruner passes + 20 low-rank fits vs one pruner pass.
  CHECK(metric("SparseGPT") < metric("HASSLE-free"));
}

TEST_CASE("runtime suite: a shape scale that breaks N:M groups is a config error", "[suites][runtime]") {
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  RunContext ctx(o);
  std::string text = std::string(kTable);
  text.replace(text.find("shape_scale = 128"), 17, "shape_scale = 3");
  auto table = TableSpec::parse(parse_toml(text, "runtime.toml"), "test/runtime", {});
  test::TempDir results;
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  DriverSummary s = driver.run({});
  CHECK(s.failed == 2);
}
