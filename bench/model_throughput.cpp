// Evaluation and training throughput of the LLaMA-family model: tokens per second of a forward
// pass (perplexity evaluation) and of a training step (forward + backward), for the zoo shapes
// on CPU and, where a GPU is available, an 8B-shaped model (random weights: the timing does not
// depend on the values).
//   bench_model_throughput --benchmark_filter=eval/tiny
//   bench_model_throughput --benchmark_filter=eval/llama3_8b   (needs CUDA; skipped otherwise)

#include <benchmark/benchmark.h>

#include <ATen/ATen.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include "core/allocator.h"
#include "models/llama.h"
#include "training/zoo.h"

namespace {

using repro::CausalLM;
using repro::LlamaConfig;

LlamaConfig llama3_8b() {
  LlamaConfig c;
  c.vocab_size = 128256;
  c.hidden_size = 4096;
  c.intermediate_size = 14336;
  c.num_hidden_layers = 32;
  c.num_attention_heads = 32;
  c.num_key_value_heads = 8;
  c.head_dim = 128;
  c.rope_theta = 500000.0;
  c.max_position_embeddings = 8192;
  return c;
}

struct Case {
  LlamaConfig config;
  int64_t batch, seqlen;
  c10::Device device;
  c10::ScalarType dtype;
};

Case make_case(const std::string& name) {
  if (name == "llama3_8b")
    return {llama3_8b(), 1, 2048, c10::Device(c10::kCUDA), at::kBFloat16};
  const auto& r = repro::zoo_recipe(name);
  LlamaConfig c = r.config;
  return {c, 8, r.train.seqlen, c10::Device(c10::kCPU), at::kFloat};
}

void eval_bench(benchmark::State& state, const std::string& name) {
  Case cs = make_case(name);
  if (cs.device.is_cuda() && !at::hasCUDA()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  auto model = CausalLM::random(cs.config, 0, cs.dtype, cs.device);
  at::Tensor tokens = at::randint(0, cs.config.vocab_size, {cs.batch, cs.seqlen},
                                  at::TensorOptions().dtype(at::kLong).device(cs.device));
  at::NoGradGuard no_grad;
  model->forward(tokens);  // warm-up
  for (auto _ : state) {
    at::Tensor logits = model->forward(tokens);
    benchmark::DoNotOptimize(logits.sum().item<float>());  // .item() synchronizes the device
  }
  state.counters["tokens_per_s"] =
      benchmark::Counter(static_cast<double>(cs.batch * cs.seqlen), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["params_M"] = static_cast<double>(model->num_parameters()) / 1e6;
}

void train_bench(benchmark::State& state, const std::string& name) {
  Case cs = make_case(name);
  auto model = CausalLM::random(cs.config, 0, cs.dtype, cs.device);
  for (auto& np : model->named_parameters())
    if (np.tensor && np.tensor->defined()) np.tensor->set_requires_grad(true);
  const auto& r = repro::zoo_recipe(name);
  at::Tensor tokens = at::randint(0, cs.config.vocab_size, {r.train.batch_size, r.train.seqlen + 1},
                                  at::TensorOptions().dtype(at::kLong));
  at::Tensor in = tokens.slice(1, 0, r.train.seqlen), target = tokens.slice(1, 1);
  for (auto _ : state) {
    at::Tensor logits = model->forward(in);
    at::Tensor loss = at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), target.reshape({-1}));
    loss.backward();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(r.train.batch_size * r.train.seqlen),
                                                      benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(eval_bench, micro, std::string("micro"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(eval_bench, tiny, std::string("tiny"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(eval_bench, llama3_8b, std::string("llama3_8b"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(train_bench, micro, std::string("micro"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(train_bench, tiny, std::string("tiny"))->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

int main(int argc, char** argv) {
  repro::keep_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
