// End to end on zoo:micro: the perplexity suite through the table driver, on a small excerpt of
// the embedded corpus that the test writes as a data folder.
#include "tests/catch.h"

#include <cmath>

#include "core/config.h"
#include "core/params.h"
#include "core/registry.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "methods/api/layer_compressor.h"
#include "models/random_checkpoint.h"
#include "suites/perplexity/run_estimate.h"
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

// The excerpt (public-domain text from the embedded corpus's test split) as all three splits of
// the embedded dataset under `data`.
void write_excerpt_corpus(const test::TempDir& data) {
  std::string text = test::read_text(test::source_root() / "tests" / "fixtures" / "embedded_excerpt.txt");
  REQUIRE(text.size() > 50000);
  for (const char* split : {"train", "valid", "test"}) test::write_text(data / (std::string("embedded/") + split + ".txt"), text);
}

}  // namespace

TEST_CASE("perplexity suite on zoo:micro: compression orderings hold and the Hessian cache is reused",
          "[suites][perplexity]") {
  test::TempDir data, results;
  write_excerpt_corpus(data);

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

TEST_CASE("streamed rows give the in-memory perplexity to the last bit, with memory and time beside their estimate",
          "[suites][perplexity][streaming]") {
  test::TempDir data, results;
  write_excerpt_corpus(data);
  RunOptions o;
  o.progress = false;
  o.log_level = "off";
  o.data_dir = data.path();
  o.cache_dir = results / "cache";
  RunContext ctx(o);
  const char* toml = R"(
[table]
title = "streamed"
suite = "perplexity"
metrics = ["ppl"]
[suite]
model = "zoo:micro"
datasets = ["embedded"]
seqlen = 64
eval_windows = 12
nsamples = 8
[[rows]]
label = "Dense"
streaming = ["off", "on"]
[[rows]]
label = "GPTQ"
compressor = { method = "gptq", bits = 3, group_size = 64 }
streaming = ["off", "on"]
[[rows]]
label = "RTN"
compressor = { method = "rtn", bits = 3 }
streaming = ["off", "on"]
)";
  auto table = TableSpec::parse(parse_toml(toml, "streamed.toml"), "test/streamed", {});
  ResultStore store(results / "runs");
  TableDriver driver(table, store, ctx);
  // --dry-run's estimate, before anything runs.
  const nlohmann::json est = driver.estimate(table.rows[3]);
  REQUIRE(est.is_object());
  CHECK(est["summary"].get<std::string>().find("streamed") != std::string::npos);
  CHECK(est["peak_mb"].get<double>() > 0);
  REQUIRE(driver.run({}).failed == 0);
  auto recs = store.list("test/streamed");
  REQUIRE(recs.size() == 6);
  auto find = [&](const std::string& label) -> const Record& {
    for (const auto& r : recs)
      if (r.label == label) return r;
    FAIL("no row " << label);
    return recs.front();
  };
  for (const char* m : {"Dense", "GPTQ", "RTN"}) {
    const Record& off = find(std::string(m) + " [streaming=off]");
    const Record& on = find(std::string(m) + " [streaming=on]");
    INFO(m << ": " << off.metrics.at("ppl") << " vs streamed " << on.metrics.at("ppl"));
    CHECK(off.metrics.at("ppl") == on.metrics.at("ppl"));
    CHECK(off.metrics.at("bits_per_weight") == on.metrics.at("bits_per_weight"));
    CHECK(on.details.at("streamed").get<bool>());
    CHECK(on.metrics.at("peak_host_mb") > 0);
    CHECK(on.metrics.at("est_peak_host_mb") > 0);
    CHECK(on.metrics.count("est_run_s") == 1);
  }
  CHECK(find("GPTQ [streaming=on]").metrics.at("ppl") > find("Dense [streaming=on]").metrics.at("ppl"));
}

TEST_CASE("the run estimate: an 8B model streams in a few GiB, its Hessians and solve cost in closed form",
          "[suites][perplexity][streaming]") {
  auto gptq = Registry<LayerCompressor>::instance().create("gptq");
  gptq->configure(Params::validate(Value(Value::Table{}), gptq->info().params, "gptq"));
  RunPlan p;
  p.config = model_shape_preset("llama3-8b");
  p.dtype = at::kFloat;
  p.stored_itemsize = 2;
  p.compressor = gptq.get();
  p.needs_calibration = true;
  p.calib_samples = 8;
  p.calib_seqlen = 256;
  p.eval_windows = 4;
  p.seqlen = 256;
  const RunEstimate streamed = estimate_run(p, 300, 100);
  p.streamed = false;
  const RunEstimate in_memory = estimate_run(p, 300, 100);
  const double mib = 1024.0 * 1024.0;
  // Parallel order: all four groups' fp32 Hessians at once: 3 x 4096^2 + 14336^2.
  CHECK(streamed.parts["memory_mb"]["hessians"].get<double>() ==
        Approx(4.0 * (3.0 * 4096 * 4096 + 14336.0 * 14336) / mib));
  CHECK(in_memory.peak_mb > 8.03e9 * 4 / mib);  // the fp32 model itself
  CHECK(streamed.peak_mb < in_memory.peak_mb / 4);
  CHECK(streamed.peak_mb > 218112000.0 * 4 / mib);  // at least one fp32 block
  // GPTQ's cost model over 32 blocks: sum of in^3/3 + out*in^2 per linear.
  double f = 0;
  for (auto [o, i] : std::vector<std::pair<double, double>>{
           {4096, 4096}, {1024, 4096}, {1024, 4096}, {4096, 4096}, {14336, 4096}, {14336, 4096}, {4096, 14336}})
    f += i * i * i / 3 + o * i * i;
  CHECK(streamed.parts["gflop"]["solve"].get<double>() == Approx(32 * f / 1e9));
  CHECK(streamed.solve_time_known);
}

TEST_CASE("a 70B run is planned from its config.json alone, streamed, within the machine's reach",
          "[suites][perplexity][streaming]") {
  test::TempDir dir, data;
  write_excerpt_corpus(data);
  RandomCheckpointOptions o;
  o.config_only = true;
  write_random_checkpoint(model_shape_preset("llama3-70b"), dir.path(), o);
  RunOptions ro;
  ro.progress = false;
  ro.log_level = "off";
  ro.data_dir = data.path();
  RunContext ctx(ro);
  const std::string toml = R"(
[table]
title = "plan"
suite = "perplexity"
metrics = ["ppl"]
[suite]
model = ")" + dir.path().string() + R"("
datasets = ["embedded"]
seqlen = 256
eval_windows = 4
nsamples = 4
[[rows]]
label = "GPTQ"
compressor = { method = "gptq", bits = 4, group_size = 128 }
)";
  auto table = TableSpec::parse(parse_toml(toml, "plan.toml"), "test/plan", {});
  ResultStore store(dir / "runs");
  TableDriver driver(table, store, ctx);
  const nlohmann::json e = driver.estimate(table.rows[0]);
  INFO(e.dump());
  REQUIRE(e.contains("peak_mb"));
  // auto streams (141 GB of fp32 weights), and one block of 70B shapes with its Hessians stays far below the model.
  CHECK(e["summary"].get<std::string>().rfind("streamed", 0) == 0);
  CHECK(e["peak_mb"].get<double>() < 70.55e9 * 4 / (1 << 20) / 5);
  CHECK(e["parts"]["memory_mb"]["hessians"].get<double>() == Approx(4.0 * (3.0 * 8192 * 8192 + 28672.0 * 28672) / (1 << 20)));
}
