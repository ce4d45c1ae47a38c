// Seconds per 4096 x 4096 score matrix of the transposable N:M mask solvers (methods/tsenor,
// greedy_transposable, exact_transposable), with each one's gap to the optimum as a counter.
//
//   bench_transposable_masks [--device=cpu|cuda] [--threads=N] [--benchmark_filter=REGEX]
//
// Benchmarks: <solver>/<N>_<M>/4096x4096 on |Student-t(3)| scores (heavy-tailed, like weight
// magnitudes), and tsenor_phases/<N>_<M>/4096x4096, which times tsenor's steps one by one
// (counters s_<step>: wall seconds; cpu_<step>: process CPU seconds, all threads). Counters: gap = (opt - obj) / opt
// over the whole matrix, block_gap = the mean of the per-block relative gaps, exact_blocks = blocks tsenor or greedy
// handed to the exact solver.

#include <benchmark/benchmark.h>

#include "bench/bench_main.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "core/params.h"
#include "core/run_context.h"
#include "methods/api/mask_solver.h"
#include "methods/common/mask_solver.h"
#include "methods/common/transposable.h"
#include "methods/common/transposable_flow.h"

namespace {

using repro::NMPattern;
using repro::Value;

constexpr int64_t kSize = 4096;
const std::vector<NMPattern> kPatterns = {{8, 16}, {16, 32}};
const std::vector<std::string> kSolvers = {"exact_transposable", "tsenor", "greedy_transposable"};

c10::Device g_device(c10::kCPU);

// |Student-t(3)| scores [kSize, kSize] on the bench device, built once.
const at::Tensor& scores() {
  static const at::Tensor s = [] {
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(2505);
    at::Tensor z = at::randn({kSize, kSize}, g, at::kFloat);
    at::Tensor chi2 = at::randn({3, kSize, kSize}, g, at::kFloat).square_().sum(0);
    return z.div_(chi2.div_(3).sqrt_()).abs_().to(g_device);
  }();
  return s;
}

// The optimal objective of every block, computed once per pattern (by the exact_transposable
// benchmark when it runs first).
std::map<int64_t, at::Tensor>& optimum_cache() {
  static std::map<int64_t, at::Tensor> cache;
  return cache;
}
const at::Tensor& optimum(NMPattern p) {
  auto& cache = optimum_cache();
  auto it = cache.find(p.m);
  if (it == cache.end()) {
    at::Tensor A = repro::to_blocks(scores(), p.m);
    it = cache.emplace(p.m, repro::block_objective(A, repro::exact_transposable_blocks(A, p.n))).first;
  }
  return it->second;
}

void set_gap_counters(benchmark::State& state, NMPattern p, const at::Tensor& mask) {
  at::Tensor obj = repro::block_objective(repro::to_blocks(scores(), p.m), repro::to_blocks(mask, p.m));
  const at::Tensor& opt = optimum(p);
  state.counters["gap"] = ((opt.sum() - obj.sum()) / opt.sum()).item<double>();
  state.counters["block_gap"] = ((opt - obj) / opt).mean().item<double>();
}

void run_solver(benchmark::State& state, const std::string& name, NMPattern p) {
  repro::RunOptions ro;
  ro.device = g_device.str();
  ro.progress = false;
  ro.log_level = "warn";
  repro::RunContext ctx(ro);
  auto solver = repro::Registry<repro::MaskSolver>::instance().create(name);
  solver->configure(repro::Params::validate(Value(Value::Table{}), solver->info().params, name));
  const at::Tensor& s = scores();
  at::Tensor mask;
  for (auto _ : state) {
    mask = repro::solve_mask(*solver, s, p, ctx);
    ctx.synchronize();
  }
  if (name == "exact_transposable" && !optimum_cache().count(p.m))
    optimum_cache().emplace(p.m, repro::block_objective(repro::to_blocks(s, p.m), repro::to_blocks(mask, p.m)));
  set_gap_counters(state, p, mask);
  int64_t exact = 0;
  for (const auto& [counter, v] : ctx.counters())
    if (counter.find("exact_fallback_blocks") != std::string::npos) exact += v;
  state.counters["exact_blocks"] = benchmark::Counter(static_cast<double>(exact), benchmark::Counter::kAvgIterations);
}

// tsenor's steps with its default options, timed one by one.
void run_tsenor_phases(benchmark::State& state, NMPattern p) {
  repro::RunContext ctx;
  auto solver = repro::Registry<repro::MaskSolver>::instance().create("tsenor");
  const auto params = repro::Params::validate(Value(Value::Table{}), solver->info().params, "tsenor");
  repro::DykstraOptions o;
  o.tau = params.get_float("tau");
  o.iters = params.get_int("iters");
  o.tol = params.get_float("tol");
  const int64_t steps = params.get_int("local_search");
  // Wall seconds and process CPU seconds (all threads) of each step: on a busy host the CPU time
  // shows the work, the wall time what a user waits.
  struct Stamp {
    std::chrono::steady_clock::time_point wall;
    std::clock_t cpu;
  };
  auto now = [&] {
    ctx.synchronize();
    return Stamp{std::chrono::steady_clock::now(), std::clock()};
  };
  const char* kSteps[] = {"blocks", "dykstra", "round", "repair"};
  double wall[4] = {0, 0, 0, 0}, cpu[4] = {0, 0, 0, 0};
  auto add = [&](int k, const Stamp& a, const Stamp& b) {
    wall[k] += std::chrono::duration<double>(b.wall - a.wall).count();
    cpu[k] += static_cast<double>(b.cpu - a.cpu) / CLOCKS_PER_SEC;
  };
  double iterations = 0, mean_iterations = 0;
  const at::Tensor& s = scores();  // built outside the timed loop
  at::Tensor mask;
  for (auto _ : state) {
    Stamp t0 = now();
    at::Tensor A = repro::to_blocks(s, p.m);
    Stamp t1 = now();
    repro::DykstraResult r = repro::dykstra_transposable(A, p.n, o);
    Stamp t2 = now();
    mask = repro::greedy_round(r.S, A, p.n);
    Stamp t3 = now();
    repro::finish_transposable(A, mask, p.n, steps);
    Stamp t4 = now();
    add(0, t0, t1);
    add(1, t1, t2);
    add(2, t2, t3);
    add(3, t3, t4);
    iterations += static_cast<double>(r.iterations);
    mean_iterations += r.mean_iterations;
  }
  const double k = static_cast<double>(state.iterations());
  for (int i = 0; i < 4; ++i) {
    state.counters[std::string("s_") + kSteps[i]] = wall[i] / k;
    state.counters[std::string("cpu_") + kSteps[i]] = cpu[i] / k;
  }
  state.counters["dykstra_iters_max"] = iterations / k;
  state.counters["dykstra_iters_mean"] = mean_iterations / k;
  set_gap_counters(state, p, repro::from_blocks(mask, kSize, kSize));
}

void register_all() {
  for (NMPattern p : kPatterns) {
    for (const std::string& name : kSolvers)
      benchmark::RegisterBenchmark(fmt::format("{}/{}_{}/{}x{}", name, p.n, p.m, kSize, kSize).c_str(),
                                   [name, p](benchmark::State& st) { run_solver(st, name, p); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MeasureProcessCPUTime();
    benchmark::RegisterBenchmark(fmt::format("tsenor_phases/{}_{}/{}x{}", p.n, p.m, kSize, kSize).c_str(),
                                 [p](benchmark::State& st) { run_tsenor_phases(st, p); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  return repro::bench::run_main(argc, argv, g_device, register_all);
}
