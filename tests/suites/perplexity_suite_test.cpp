// End to end on zoo:micro: the perplexity suite through the table driver, on a small excerpt of
// the embedded corpus that the test writes as a data folder.
#include "tests/catch.h"

#include <cmath>

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

const char* kTable = R"(
[table]
title = "micro pruning and quantization"
suite = "perplexity"
metrics = ["ppl", "bits_per_weight"]

[suite]
model = "zoo:micro"
datasets = ["embedded"]
seqlen = 128
eval_windows = 24
nsamples = 16
calib_batch = 8

[[rows]]
label = "Dense"

[[rows]]
label = "Magnitude"
compressor = { method = "magnitude", sparsity = 0.6 }

[[rows]]
label = "Wanda"
compressor = { method = "wanda", sparsity = 0.6 }

[[rows]]
label = "SparseGPT"
compressor = { method = "sparsegpt", sparsity = 0.6 }

[[rows]]
label = "ALPS"
compressor = { method = "alps", sparsity = 0.6, max_iter = 60 }

[[rows]]
label = "RTN"
compressor = { method = "rtn", bits = 3, group_size = 128 }

[[rows]]
label = "GPTQ"
compressor = { method = "gptq", bits = 3, group_size = 128 }
)";

}  // namespace

TEST_CASE("perplexity suite on zoo:micro: compression orderings hold and the Hessian cache is reused",
          "[suites][perplexity]") {
  test::TempDir data, results;
  // The excerpt (public-domain text from the embedded corpus's test split) as all three splits.
  std::string text = test::read_text(test::source_root() / "tests" / "fixtures" / "embedded_excerpt.txt");
  REQUIRE(text.size() > 50000);
  for (const char* split : {"train", "valid", "test"}) test::write_text(data / (std::string("embedded/") + split + ".txt"), text);

  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  o.data_dir = data.path();
  o.cache_dir = results / "cache";
  RunContext ctx(o);
  auto table = TableSpec::parse(parse_toml(kTable, "micro.toml"), "test/micro", {});
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  DriverSummary s = driver.run({});
  auto recs = store.list("test/micro");
  REQUIRE(recs.size() == 7);
  for (const auto& r : recs) {
    INFO(r.label << ": " << r.error_message);
    CHECK(r.ok());
  }
  REQUIRE(s.failed == 0);
  auto ppl = [&](const std::string& label) {
    for (const auto& r : recs)
      if (r.label == label) return r.metrics.at("ppl");
    FAIL("no row " << label);
    return 0.0;
  };
  const double dense = ppl("Dense");
  INFO("dense " << dense << " magnitude " << ppl("Magnitude") << " wanda " << ppl("Wanda") << " sparsegpt "
                << ppl("SparseGPT") << " alps " << ppl("ALPS") << " rtn " << ppl("RTN") << " gptq " << ppl("GPTQ"));
  CHECK(std::isfinite(dense));
  CHECK(dense > 1.0);
  CHECK(dense < ppl("SparseGPT"));
  CHECK(ppl("SparseGPT") < ppl("Wanda"));
  CHECK(ppl("SparseGPT") < ppl("Magnitude"));
  // Wanda vs magnitude is not asserted here: a 128-wide model has none of the outlier features
  // that make Wanda's activation weighting pay off, and on zoo:micro the two are within 2% (either
  // order). The layer-level ordering is pinned in tests/methods/wanda.
  CHECK(ppl("ALPS") <= ppl("SparseGPT") * 1.02);
  CHECK(ppl("GPTQ") < ppl("RTN"));
  CHECK(dense < ppl("GPTQ"));

  // Rows run in order: Wanda is the first row that calibrates, so SparseGPT (the second) finds
  // block 0's Hessians in the cache; its block 1 depends on how block 0 was compressed.
  for (const auto& r : recs) {
    if (r.label == "Wanda") CHECK(r.counters.count("hessian_cache_hits") == 0);
    if (r.label == "SparseGPT") CHECK(r.counters.at("hessian_cache_hits") == 1);
  }
  // Storage accounting: 3-bit g128 asymmetric = 3 + (16 + 3) / 128 bits per weight.
  for (const auto& r : recs)
    if (r.label == "GPTQ") CHECK(r.metrics.at("bits_per_weight") == Approx(3.0 + 19.0 / 128.0));

  // Memory: a compressed row records what the compression added beyond the loaded model, which
  // the engine keeps to one block, its calibration activations and the solver's workspace.
  for (const auto& r : recs) {
    if (r.label == "Dense") continue;
    const auto& m = r.details.at("memory");
    INFO(r.label << " memory " << m.dump() << " peaks " << nlohmann::json(r.peak_mem_mb).dump());
    REQUIRE(m.contains("compress_overhead_mb"));
    // The suite's measurement is the driver's "compress" phase (one definition of peak memory).
    REQUIRE(r.peak_mem_mb.count("compress.host"));
    CHECK(r.peak_mem_mb.at("compress.host") == m.at("peak_compress_mb").get<double>());
    CHECK(m.at("compress_overhead_mb").get<double>() ==
          Approx(m.at("peak_compress_mb").get<double>() - m.at("rss_before_compress_mb").get<double>()));
    CHECK(r.peak_mem_mb.at("host") >= r.peak_mem_mb.at("compress.host"));
    CHECK(r.peak_mem_mb.count("eval.host"));
    CHECK(m.at("max_block_mb").get<double>() > 0.0);
    CHECK(m.at("compress_overhead_mb").get<double>() <
          48.0 + 4.0 * (m.at("max_block_mb").get<double>() + m.at("activations_mb").get<double>()));
  }

  // Running the table again computes nothing.
  DriverSummary again = driver.run({});
  CHECK(again.cached == 7);
  CHECK(again.ran == 0);
}
