// End-to-end generation speed on CPU: decode (one token at a time at batch 1, with a KV cache) and
// prefill (a 512-token prompt, or the model's context when shorter) of a dense model against the
// same model compressed to 4 bits (RTN, group 128: the low-bit GEMV kernels) and to 2:4 sparsity
// (magnitude: the 2:4 kernels).
// The table version, with perplexity and paired timings: the decode_speed suite
// (paper_configs/kernels/decode_tiny.toml).
// Compressed layers run from their compressed form (models/cpu_kernel_form.h), never a dense copy.
//
//   bench_decode --benchmark_filter=decode/tiny
//   bench_decode --benchmark_filter=llama3_8b     # 4 blocks of Llama-3-8B shapes (about 8 GB of fp32)
//
// zoo:tiny runs whole (random weights of its shape: speed does not depend on the values). The
// 8B-shaped case keeps 4 of the 32 blocks and times them without the embedding and lm_head
// (lm_head alone is 2 GB of fp32 that a 4-block model would over-weight): counters give ms per
// block per token, and `head/llama3_8b` times the dense lm_head GEMV, so a full 32-block model's
// decode speed is 1 / (32 x block + head).

#include <benchmark/benchmark.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <map>
#include <memory>

#include "core/allocator.h"
#include "core/registry.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "models/llama.h"
#include "models/random_checkpoint.h"
#include "suites/engine/layerwise_engine.h"
#include "training/zoo.h"

namespace {

using repro::CausalLM;
using repro::KvCache;

constexpr int64_t kPrompt = 128;        // tokens in the cache before decoding is timed
constexpr int64_t kDecodeSteps = 16;    // tokens decoded per benchmark iteration
constexpr int64_t kPrefill = 512;       // prompt length of the prefill benchmark (at most the model's positions)

repro::LlamaConfig config_of(const std::string& model) {
  if (model == "llama3_8b") {
    repro::LlamaConfig c = repro::model_shape_preset("llama3-8b");
    c.num_hidden_layers = 4;
    return c;
  }
  return repro::zoo_recipe(model).config;
}

// "dense", "rtn4" (RTN 4-bit g128 asymmetric), "sparse24" (magnitude 2:4).
std::unique_ptr<CausalLM> make_model(const std::string& model, const std::string& format) {
  auto m = CausalLM::random(config_of(model), 0);
  if (format == "dense") return m;
  repro::Value::Table params;
  std::string method;
  if (format == "rtn4") {
    method = "rtn";
    params = {{"bits", repro::Value(4)}, {"group_size", repro::Value(128)}};
  } else {
    method = "magnitude";
    params = {{"pattern", repro::Value("2:4")}};
  }
  auto c = repro::Registry<repro::LayerCompressor>::instance().create(method);
  c->configure(repro::Params::validate(repro::Value(params), c->info().params, method));
  repro::RunOptions o;
  o.progress = false;
  o.log_level = "off";
  repro::RunContext ctx(o);
  repro::compress_model_data_free(*m, *c, ctx);
  return m;
}

// Runs the model's blocks (or the whole model) on the tokens with caches.
at::Tensor step(const CausalLM& m, const at::Tensor& tokens, std::vector<KvCache>& caches, bool blocks_only) {
  if (!blocks_only) return m.forward(tokens, caches);
  if (caches.empty()) caches.resize(static_cast<size_t>(m.num_layers()));
  at::Tensor h = m.embed(tokens);
  for (int64_t i = 0; i < m.num_layers(); ++i) h = m.block(i).forward(h, caches[static_cast<size_t>(i)]);
  return h;
}

void decode_bench(benchmark::State& state, const std::string& model, const std::string& format) {
  at::NoGradGuard no_grad;
  auto m = make_model(model, format);
  const bool blocks_only = model == "llama3_8b";
  const int64_t V = m->config().vocab_size;
  at::Tensor prompt = at::randint(0, V, {1, kPrompt}, at::TensorOptions().dtype(at::kLong));
  at::Tensor next = at::randint(0, V, {1, 1}, at::TensorOptions().dtype(at::kLong));
  std::vector<KvCache> caches;
  step(*m, prompt, caches, blocks_only);
  for (int64_t i = 0; i < kDecodeSteps; ++i) step(*m, next, caches, blocks_only);  // warm-up, grows the caches
  for (auto _ : state) {
    for (auto& c : caches) c.length = kPrompt;  // decode the same positions every iteration
    for (int64_t i = 0; i < kDecodeSteps; ++i) benchmark::DoNotOptimize(step(*m, next, caches, blocks_only).data_ptr());
  }
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(kDecodeSteps), benchmark::Counter::kIsIterationInvariantRate);
  if (blocks_only)
    state.counters["ms_per_block_token"] = benchmark::Counter(
        static_cast<double>(kDecodeSteps * m->num_layers()) * 1e-3,
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void prefill_bench(benchmark::State& state, const std::string& model, const std::string& format) {
  at::NoGradGuard no_grad;
  auto m = make_model(model, format);
  const bool blocks_only = model == "llama3_8b";
  const int64_t n = std::min(kPrefill, m->config().max_position_embeddings);
  at::Tensor prompt = at::randint(0, m->config().vocab_size, {1, n}, at::TensorOptions().dtype(at::kLong));
  {
    std::vector<KvCache> warm;
    step(*m, prompt, warm, blocks_only);
  }
  for (auto _ : state) {
    std::vector<KvCache> caches;
    benchmark::DoNotOptimize(step(*m, prompt, caches, blocks_only).data_ptr());
  }
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

// The dense lm_head of Llama-3-8B at one token: [1, 4096] x [128256, 4096]^T.
void head_bench(benchmark::State& state) {
  at::NoGradGuard no_grad;
  at::Tensor w = at::randn({128256, 4096}), x = at::randn({1, 4096});
  for (auto _ : state) benchmark::DoNotOptimize(at::matmul(x, w.t()).data_ptr());
  state.counters["GB_per_s"] = benchmark::Counter(static_cast<double>(w.numel() * 4) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
  repro::keep_freed_memory();
  for (const char* model : {"tiny", "llama3_8b"})
    for (const char* format : {"dense", "rtn4", "sparse24"}) {
      benchmark::RegisterBenchmark((std::string("decode/") + model + "/" + format).c_str(), decode_bench, std::string(model),
                                   std::string(format))
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(1.0);
      benchmark::RegisterBenchmark((std::string("prefill/") + model + "/" + format).c_str(), prefill_bench,
                                   std::string(model), std::string(format))
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(1.0);
    }
  benchmark::RegisterBenchmark("head/llama3_8b", head_bench)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
