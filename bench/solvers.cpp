// Seconds per layer of the layer compressors (methods/), at Llama-3-8B linear shapes, with the
// layer's relative error as a counter.
//
//   bench_solvers [--device=cpu|cuda] [--threads=N] [--benchmark_filter=REGEX] [benchmark flags]
//
// Benchmarks are named <method>/<out>x<in>. Weights are random; H comes from random correlated
// inputs (timing does not depend on the values, but the error counter shows the solver did its
// job). Without --benchmark_filter, a CPU run measures only the reduced shapes (kCpuDefaultFilter):
// the full 8B shapes take minutes per layer there. Pass --benchmark_filter=. for everything.

#include <benchmark/benchmark.h>

#include "bench/bench_main.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/params.h"
#include "core/run_context.h"
#include "core/run_context.h"
#include "methods/api/layer_compressor.h"
#include "methods/common/layer_error.h"

namespace {

using repro::Value;

struct Shape {
  int64_t out, in;
};
// Llama-3-8B: q/o (4096x4096), k/v (1024x4096), gate/up (14336x4096), down (4096x14336).
const std::vector<Shape> kLlamaShapes = {{4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};
const Shape kReduced{1024, 1024};

const char* kCpuDefaultFilter =
    "^(rtn|magnitude|wanda|gptq|sparsegpt|alps|oats)/1024x1024/|^(rtn|magnitude|wanda|gptq|sparsegpt)/4096x4096/";

struct Solver {
  std::string label;   // benchmark name prefix
  std::string method;  // registry name
  Value::Table params;
};
const std::vector<Solver> kSolvers = {
    {"rtn", "rtn", {{"bits", 4}, {"group_size", 128}}},
    {"gptq", "gptq", {{"bits", 4}, {"group_size", 128}}},
    {"magnitude", "magnitude", {{"sparsity", 0.5}}},
    {"wanda", "wanda", {{"sparsity", 0.5}}},
    {"sparsegpt", "sparsegpt", {{"sparsity", 0.5}}},
    {"alps", "alps", {{"sparsity", 0.5}}},
    {"oats", "oats", {{"sparsity", 0.5}, {"rank", 64}}},
};

c10::Device g_device(c10::kCPU);

// W [out, in] and H [in, in] for a shape, built once per shape (building H costs a GEMM of in^2 m).
struct Layer {
  at::Tensor W, H;
};
const Layer& layer(Shape s) {
  static std::map<std::pair<int64_t, int64_t>, Layer> cache;
  auto key = std::make_pair(s.out, s.in);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(uint64_t(s.out * 131 + s.in));
  const int64_t m = std::min<int64_t>(2 * s.in, 4096);  // calibration rows
  const int64_t k = 32;                                  // shared factors: correlated inputs
  at::Tensor scale = at::rand({s.in}, g, at::kFloat).mul_(1.5).add_(0.25);
  scale.narrow(0, 0, 8).fill_(20.0);  // a few outlier channels
  at::Tensor Y = at::randn({m, s.in}, g, at::kFloat).mul_(scale) +
                 at::matmul(at::randn({m, k}, g, at::kFloat), at::randn({k, s.in}, g, at::kFloat));
  Layer l;
  l.H = at::matmul(Y.t(), Y).mul_(2.0 / static_cast<double>(m)).to(g_device);
  l.W = at::randn({s.out, s.in}, g, at::kFloat).mul_(0.02).to(g_device);
  return cache.emplace(key, std::move(l)).first->second;
}

void run_solver(benchmark::State& state, const Solver& solver, Shape shape) {
  const Layer& l = layer(shape);
  repro::RunOptions ro;
  ro.device = g_device.str();
  ro.progress = false;
  ro.log_level = "warn";
  repro::RunContext ctx(ro);
  auto method = repro::Registry<repro::LayerCompressor>::instance().create(solver.method);
  method->configure(repro::Params::validate(Value(solver.params), method->info().params, solver.label));
  repro::LayerProblem p;
  p.name = solver.label;
  p.W = l.W;
  p.H = l.H;
  repro::CompressedLinear result;
  for (auto _ : state) {
    result = method->compress(p, ctx);
    ctx.synchronize();
  }
  // The quality counters cost a GEMM of the layer's size: computed once per benchmark, not per
  // repetition.
  static std::map<std::string, std::pair<double, double>> quality;
  auto key = fmt::format("{}/{}x{}", solver.label, shape.out, shape.in);
  auto q = quality.find(key);
  if (q == quality.end())
    q = quality.emplace(key, std::make_pair(repro::relative_error(l.W, result.dense(), l.H),
                                            result.stats().bits_per_weight())).first;
  state.counters["rel_error"] = q->second.first;
  state.counters["bits_per_weight"] = q->second.second;
  for (const auto& [phase, sec] : ctx.timer().seconds())
    state.counters["s_" + phase] = benchmark::Counter(sec, benchmark::Counter::kAvgIterations);
  for (const auto& [name, n] : ctx.counters())
    state.counters[name] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kAvgIterations);
}

void register_all() {
  std::vector<Shape> shapes = kLlamaShapes;
  shapes.insert(shapes.begin(), kReduced);
  for (const Solver& s : kSolvers)
    for (Shape sh : shapes)
      benchmark::RegisterBenchmark(fmt::format("{}/{}x{}", s.label, sh.out, sh.in).c_str(),
                                   [s, sh](benchmark::State& st) { run_solver(st, s, sh); })
          ->Unit(benchmark::kSecond)
          ->UseRealTime()
          ->MeasureProcessCPUTime();
}

}  // namespace

int main(int argc, char** argv) {
  return repro::bench::run_main(argc, argv, g_device, register_all, kCpuDefaultFilter);
}
