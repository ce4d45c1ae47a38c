// CPU kernels for compressed inference (kernels/) against dense fp32 OpenBLAS, at Llama-3-8B layer
// shapes (out x in: 4096x4096 q/o, 1024x4096 k/v, 14336x4096 gate/up, 4096x14336 down) and
// batches 1, 4, 16, 64. The timing protocol (rotated weights larger than L3, a correctness check
// before timing, warm-up, candidate and baseline alternating) is kernels/speed/kernel_speed.h.
//
//   bench_kernels [--threads=N] [--benchmark_filter=REGEX] [--reps=N] [--burst=N]
//   repro bench kernels --benchmark_filter='^q4g128/4096x14336/b1/'
//
// Without --threads the kernels use every core, as OpenBLAS does by default (the baseline's own
// thread pool); --threads=N sets both libtorch's and the kernels' count (OpenBLAS keeps its own).
//
// Benchmarks: <format>/<out>x<in>/b<batch> with format fp32 (our dense kernel), q4g128, q3g128,
// q2g128, 2:4, 2:4+lr64. The reported time is the candidate's median; counters: p10_us, p90_us
// (candidate), dense_us (baseline median), GBps (candidate weight bytes / median), bw_pct (GBps
// over the triad bandwidth measured at start-up, in this run), GFLOPs (2 out in batch / median,
// the dense product's work), speedup (median of paired baseline / candidate ratios).

#include <benchmark/benchmark.h>

#include "bench/bench_main.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/speed/kernel_speed.h"

namespace {

namespace ks = repro::kernels::speed;

c10::Device g_device(c10::kCPU);
double g_triad = 0;
int g_reps = 15;
int g_burst = 8;  // back-to-back calls per timed burst (kernels/speed/kernel_speed.h)
int g_threads = 0;  // 0: every core

struct Shape {
  const char* name;
  int64_t out, in;
};
const std::vector<Shape> kShapes = {
    {"q_proj", 4096, 4096}, {"k_proj", 1024, 4096}, {"gate_proj", 14336, 4096}, {"down_proj", 4096, 14336}};
const std::vector<std::string> kFormats = {"q4g128", "q3g128", "q2g128", "2:4", "2:4+lr64", "fp32"};
const std::vector<int64_t> kBatches = {1, 4, 16, 64};

void run(benchmark::State& state, const std::string& format, Shape shape, int64_t batch) {
  ks::CaseSpec spec;
  spec.format = ks::parse_format(format);
  spec.rows = shape.out;
  spec.cols = shape.in;
  spec.batch = batch;
  spec.reps = g_reps;
  spec.burst = g_burst;
  spec.threads = g_threads;
  ks::CaseResult r;
  for (auto _ : state) {
    try {
      r = ks::run_case(spec);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
    state.SetIterationTime(r.candidate.median);
  }
  const double gbps = static_cast<double>(r.candidate_bytes) / r.candidate.median / 1e9;
  state.counters["p10_us"] = r.candidate.p10 * 1e6;
  state.counters["p90_us"] = r.candidate.p90 * 1e6;
  state.counters["dense_us"] = r.baseline.median * 1e6;
  state.counters["GBps"] = gbps;
  state.counters["bw_pct"] = 100.0 * gbps / g_triad;
  state.counters["GFLOPs"] = r.flops / r.candidate.median / 1e9;
  state.counters["speedup"] = r.speedup;
  state.counters["buffers"] = r.buffers;
}

void register_all() {
  g_triad = ks::triad_gbps(g_threads);
  benchmark::AddCustomContext("triad_GBps", fmt::format("{:.2f}", g_triad));
  benchmark::AddCustomContext("kernel_threads", std::to_string(ks::threads_or_all(g_threads)));
  benchmark::AddCustomContext("burst", std::to_string(g_burst));
  for (const std::string& f : kFormats)
    for (const Shape& s : kShapes)
      for (int64_t b : kBatches)
        benchmark::RegisterBenchmark(fmt::format("{}/{}x{}/b{}", f, s.out, s.in, b).c_str(),
                                     [f, s, b](benchmark::State& st) { run(st, f, s, b); })
            ->Iterations(1)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  // --reps=N (timed bursts per side) and --burst=N are ours; the rest goes to run_main / Google Benchmark.
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0) {
      g_reps = std::max(1, std::atoi(argv[i] + 7));
      continue;
    }
    if (std::strncmp(argv[i], "--burst=", 8) == 0) {
      g_burst = std::max(1, std::atoi(argv[i] + 8));
      continue;
    }
    if (std::strncmp(argv[i], "--threads=", 10) == 0) g_threads = std::max(0, std::atoi(argv[i] + 10));
    args.push_back(argv[i]);
  }
  return repro::bench::run_main(static_cast<int>(args.size()), args.data(), g_device, register_all);
}
