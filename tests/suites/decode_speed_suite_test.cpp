// The decode_speed suite through the table driver on zoo:micro: the perplexity it reports is the
// perplexity suite's for the same model and settings, compressed rows run their linears through the
// CPU kernels, the speeds are consistent with the recorded times, and bad rows fail before any work.
#include "tests/catch.h"

#include <cmath>

#include "core/config.h"
#include "core/driver.h"
#include "core/table_spec.h"
#include "tests/test_util.h"

using namespace repro;

namespace {

const char* kSettings = R"(
[suite]
model = "zoo:micro"
seqlen = 64
eval_windows = 8
nsamples = 8
calib_seqlen = 64
)";

std::string decode_table() {
  return std::string(R"(
[table]
title = "micro decode"
suite = "decode_speed"
metrics = ["ppl", "decode_speedup"]
)") + kSettings +
         R"(
dataset = "embedded"
prompt = 16
decode_tokens = 4
prefill = 32
reps = 2
pause_ms = 0

[[rows]]
label = "Dense"

[[rows]]
label = "RTN"
compressor = { method = "rtn", bits = 4, group_size = 64 }

[[rows]]
label = "SparseGPT 2:4"
compressor = { method = "sparsegpt", pattern = "2:4" }

[[rows]]
label = "Unstructured"
compressor = { method = "magnitude", sparsity = 0.5 }
)";
}

std::string perplexity_table() {
  return std::string(R"(
[table]
title = "micro perplexity"
suite = "perplexity"
metrics = ["ppl"]
)") + kSettings +
         R"(
datasets = ["embedded"]

[[rows]]
label = "Dense"

[[rows]]
label = "RTN"
compressor = { method = "rtn", bits = 4, group_size = 64 }
)";
}

void write_excerpt_corpus(const test::TempDir& data) {
  std::string text = test::read_text(test::source_root() / "tests" / "fixtures" / "embedded_excerpt.txt");
  for (const char* split : {"train", "valid", "test"})
    test::write_text(data / (std::string("embedded/") + split + ".txt"), text);
}

struct Fixture {
  test::TempDir data, results;
  RunOptions options;
  Fixture() {
    write_excerpt_corpus(data);
    options.progress = false;
    options.log_level = "off";
    options.data_dir = data.path();
    options.cache_dir = results / "cache";
  }
  std::vector<Record> run(const std::string& toml, const std::string& id) {
    RunContext ctx(options);
    auto table = TableSpec::parse(parse_toml(toml, "t.toml"), id, {});
    ResultStore store(results / "runs");
    TableDriver driver(table, store, ctx);
    driver.run({});
    return store.list(id);
  }
};

}  // namespace

TEST_CASE("decode_speed suite on zoo:micro: perplexity, kernels and speeds", "[suites][decode_speed]") {
  Fixture f;
  auto recs = f.run(decode_table(), "test/decode");
  REQUIRE(recs.size() == 4);
  for (const auto& r : recs) {
    INFO(r.label << ": " << r.error_message);
    REQUIRE(r.ok());
    for (const char* m : {"decode_tok_s", "dense_decode_tok_s", "prefill_tok_s", "dense_prefill_tok_s"})
      CHECK(r.metrics.at(m) > 0.0);
    // The speed-up is the median of paired ratios: within the range the two medians allow.
    const auto& d = r.details.at("decode");
    const double lo = d.at("dense").at("p10_s").get<double>() / d.at("compressed").at("p90_s").get<double>();
    const double hi = d.at("dense").at("p90_s").get<double>() / d.at("compressed").at("p10_s").get<double>();
    CHECK(r.metrics.at("decode_speedup") >= lo * 0.999);
    CHECK(r.metrics.at("decode_speedup") <= hi * 1.001);
  }
  // Every linear of the 4-bit and 2:4 rows runs through the kernels; unstructured sparsity does not.
  CHECK(test::record_labelled(recs, "RTN").details.at("kernel_linears").get<int64_t>() == 14);
  CHECK(test::record_labelled(recs, "SparseGPT 2:4").details.at("kernel_linears").get<int64_t>() == 14);
  CHECK(test::record_labelled(recs, "Unstructured").details.at("compressed_linears").get<int64_t>() == 14);
  CHECK(test::record_labelled(recs, "Unstructured").details.at("kernel_linears").get<int64_t>() == 0);
  CHECK(test::record_labelled(recs, "Dense").details.at("compressed_linears").get<int64_t>() == 0);
  CHECK(test::record_labelled(recs, "RTN").metrics.at("bits_per_weight") < 5.0);

  // The same pipeline as the perplexity suite: the same perplexity, to the last bit.
  auto ppl_recs = f.run(perplexity_table(), "test/ppl");
  REQUIRE(ppl_recs.size() == 2);
  for (const char* label : {"Dense", "RTN"}) {
    INFO(label);
    REQUIRE(test::record_labelled(ppl_recs, label).ok());
    CHECK(test::record_labelled(recs, label).metrics.at("ppl") ==
          test::record_labelled(ppl_recs, label).metrics.at("ppl"));
  }
  CHECK(test::record_labelled(recs, "Dense").metrics.at("ppl") <
        test::record_labelled(recs, "SparseGPT 2:4").metrics.at("ppl"));
}

TEST_CASE("decode_speed suite: rows that cannot run fail before loading anything", "[suites][decode_speed]") {
  Fixture f;
  auto recs = f.run(R"(
[table]
title = "bad rows"
suite = "decode_speed"
metrics = ["decode_speedup"]

[suite]
model = "zoo:micro"
dataset = "none"

[[rows]]
label = "Too long"
prompt = 250
decode_tokens = 16

[[rows]]
label = "Random shape, calibrated method"
model = "shape:llama3-8b"
layers = 1
compressor = { method = "gptq", bits = 4 }

[[rows]]
label = "Unknown shape"
model = "shape:gpt5"

[[rows]]
label = "Too big"
model = "shape:llama3-70b"
compressor = { method = "rtn", bits = 4 }
)",
                    "test/bad");
  REQUIRE(recs.size() == 4);
  const Record& too_long = test::record_labelled(recs, "Too long");
  CHECK_FALSE(too_long.ok());
  CHECK(too_long.error_message.find("positions") != std::string::npos);
  const Record& calibrated = test::record_labelled(recs, "Random shape, calibrated method");
  CHECK_FALSE(calibrated.ok());
  CHECK(calibrated.error_message.find("data-free") != std::string::npos);
  const Record& unknown = test::record_labelled(recs, "Unknown shape");
  CHECK_FALSE(unknown.ok());
  CHECK(unknown.error_message.find("llama3-8b") != std::string::npos);  // lists the known shapes
  // 80 blocks of Llama-3-70B twice in fp32 (about 525 GiB) is refused before anything is built.
  const Record& big = test::record_labelled(recs, "Too big");
  CHECK_FALSE(big.ok());
  CHECK(big.error_message.find("lower `layers`") != std::string::npos);
}
