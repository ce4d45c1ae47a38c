#pragma once
// The main() of the Google Benchmark programs that run on a libtorch device: strips
// `--device=cpu|cuda[:i]` and `--threads=N` (intra-op threads) from the command line, passes the
// rest to Google Benchmark, records both as custom context and runs what `register_all` registers.

#include <benchmark/benchmark.h>
#include <ATen/Parallel.h>
#include <c10/core/Device.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/run_context.h"

namespace repro::bench {

// `device` receives the parsed --device before `register_all` runs. With no --benchmark_filter on
// the command line and a CPU device, `cpu_default_filter` (if given) limits the run to what a CPU
// finishes in reasonable time.
inline int run_main(int argc, char** argv, c10::Device& device, const std::function<void()>& register_all,
                    const char* cpu_default_filter = nullptr) {
  std::vector<char*> args;
  bool has_filter = false;
  int threads = 0;
  std::string device_name = "cpu";
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--device=", 9) == 0) {
      device_name = argv[i] + 9;
    } else if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::atoi(argv[i] + 10);
    } else {
      has_filter = has_filter || std::strncmp(argv[i], "--benchmark_filter=", 19) == 0;
      args.push_back(argv[i]);
    }
  }
  device = parse_device(device_name);
  if (threads > 0) at::set_num_threads(threads);
  std::string filter = std::string("--benchmark_filter=") + (cpu_default_filter ? cpu_default_filter : "");
  if (cpu_default_filter && !has_filter && device.is_cpu()) args.push_back(filter.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::AddCustomContext("device", device.str());
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace repro::bench
