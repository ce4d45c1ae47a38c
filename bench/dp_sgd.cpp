// Cost of a DP-SGD step on CPU: examples per second of a small conv net (two Conv2d + GroupNorm +
// a Linear head, 28x28 single-channel inputs, batch 64, the shape of Opacus's MNIST example) for
//   dp_sgd/plain       forward, backward, SGD update (no privacy);
//   dp_sgd/per_sample  the same with per-example gradients from the one batched backward
//                      (training/dp PerSample layers), flat clipping, Gaussian noise, update;
//   dp_sgd/loop        per-example gradients by one backward per example, then the same privatisation.
// The ratio per_sample / plain is the overhead of privacy per step.
//   bench_dp_sgd [--threads=N] [Google Benchmark options]

#include <benchmark/benchmark.h>

#include <ATen/ATen.h>

#include <ATen/Parallel.h>
#include <ATen/core/Reduction.h>
#include <ATen/core/grad_mode.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>

#include "core/allocator.h"
#include "training/dp/dp_sgd.h"
#include "training/dp/per_sample_layers.h"

namespace {

constexpr int64_t kBatch = 64;
constexpr double kLr = 0.05;

torch::nn::Sequential small_conv_net() {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)), nn::GroupNorm(4, 16), nn::ReLU(),
                        nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::GroupNorm(4, 32),
                        nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(32 * 7 * 7, 10));
}

struct Batch {
  at::Tensor x = at::randn({kBatch, 1, 28, 28});
  at::Tensor y = at::randint(0, 10, {kBatch}, at::kLong);
};

at::Tensor loss_sum(const at::Tensor& logits, const at::Tensor& y) {
  return at::cross_entropy_loss(logits, y, {}, at::Reduction::Sum);
}

void sgd_update(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads) {
  at::NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) params[k].sub_(grads[k], kLr);
}

repro::dp::DpSgdOptions dp_options() {
  repro::dp::DpSgdOptions o;
  o.max_grad_norm = 1.0;
  o.noise_multiplier = 1.1;
  o.expected_lot_size = static_cast<double>(kBatch);
  return o;
}

void plain_bench(benchmark::State& state) {
  at::manual_seed(0);
  torch::nn::Sequential net = small_conv_net();
  const std::vector<at::Tensor> params = net->parameters();
  Batch b;
  for (auto _ : state) {
    for (auto& p : params) p.mutable_grad() = at::Tensor();
    at::Tensor loss = loss_sum(net->forward(b.x), b.y) / static_cast<double>(kBatch);
    loss.backward();
    std::vector<at::Tensor> grads;
    for (auto& p : params) grads.push_back(p.grad());
    sgd_update(params, grads);
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void per_sample_bench(benchmark::State& state) {
  at::manual_seed(0);
  torch::nn::Sequential net = repro::dp::with_grad_samples(small_conv_net());
  const std::vector<at::Tensor> params = net->parameters();
  at::Generator gen = repro::dp::make_noise_generator(0);
  Batch b;
  for (auto _ : state) {
    for (auto& p : params) p.mutable_grad() = at::Tensor();
    repro::dp::clear_grad_samples(*net);
    at::Tensor loss = loss_sum(net->forward(b.x), b.y);
    loss.backward();
    std::vector<at::Tensor> samples;
    for (auto& g : repro::dp::collect_grad_samples(*net)) samples.push_back(g.grad_sample);
    sgd_update(params, repro::dp::privatize(samples, dp_options(), gen));
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void loop_bench(benchmark::State& state) {
  at::manual_seed(0);
  torch::nn::Sequential net = small_conv_net();
  const std::vector<at::Tensor> params = net->parameters();
  at::Generator gen = repro::dp::make_noise_generator(0);
  Batch b;
  for (auto _ : state) {
    std::vector<std::vector<at::Tensor>> per(params.size());
    for (int64_t i = 0; i < kBatch; ++i) {
      at::Tensor loss = loss_sum(net->forward(b.x.narrow(0, i, 1)), b.y.narrow(0, i, 1));
      const auto g = torch::autograd::grad({loss}, params);
      for (size_t k = 0; k < params.size(); ++k) per[k].push_back(g[k]);
    }
    std::vector<at::Tensor> samples;
    for (auto& v : per) samples.push_back(at::stack(v));
    sgd_update(params, repro::dp::privatize(samples, dp_options(), gen));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

}  // namespace

BENCHMARK(plain_bench)->Name("dp_sgd/plain")->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(per_sample_bench)->Name("dp_sgd/per_sample")->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(loop_bench)->Name("dp_sgd/loop")->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

int main(int argc, char** argv) {
  repro::keep_freed_memory();
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0)
      at::set_num_threads(std::atoi(argv[i] + 10));
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
