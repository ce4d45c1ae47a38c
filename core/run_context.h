#pragma once
// RunContext: what every row and every method runs with — device, dtype, seeds, logging, progress,
// phase timers, peak memory per phase and a few named counters (observable in tests).
//
// Constructing a context changes no process-wide state: the thread count and the global log level
// are the program's to set, once (configure_process in core/process.h, called by the CLI); the
// context's logger is its own, at options.log_level.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "core/memory.h"
#include "core/progress.h"
#include "core/timing.h"

namespace spdlog {
class logger;
}

namespace repro {

struct RunOptions {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1"
  std::string dtype = "float32";
  uint64_t seed = 0;
  bool progress = true;
  std::string log_level = "info";  // this context's logger: trace, debug, info, warn, error, critical, off
  std::filesystem::path cache_dir;  // Hessian cache etc. ("" disables disk caches)
  std::filesystem::path data_dir;   // --data-dir
};

class RunContext {
 public:
  explicit RunContext(const RunOptions& options = {});
  ~RunContext();

  const RunOptions& options() const { return options_; }
  c10::Device device() const { return device_; }
  c10::ScalarType dtype() const { return dtype_; }
  uint64_t seed() const { return options_.seed; }

  // A CPU generator for one component, seeded from (seed, name): components draw independent
  // streams, and adding a random draw in one does not shift another's.
  at::Generator generator(const std::string& component) const;
  // The derived 64-bit seed itself (for libraries that take an integer).
  uint64_t component_seed(const std::string& component) const;

  // The repetition being run (core/repetitions.h); 0 outside repeated measurements. Component seeds
  // depend on it: each repetition draws fresh streams, and repetition 0 draws what an unrepeated
  // row draws.
  int64_t repetition() const { return repetition_; }
  void set_repetition(int64_t k);

  spdlog::logger& log() const;

  // A progress reporter; silent when progress is disabled.
  std::unique_ptr<Progress> progress(const std::string& label, int64_t total) const;

  PhaseTimer& timer() { return timer_; }
  // Peak memory per phase (see MemoryMeter): auto m = ctx.memory().phase("compress");
  MemoryMeter& memory() { return memory_; }

  // Named counters (cache hits, Cholesky retries, ...), reset per row by the driver.
  void count(const std::string& name, int64_t n = 1) { counters_[name] += n; }
  int64_t counter(const std::string& name) const;
  const std::map<std::string, int64_t>& counters() const { return counters_; }
  void reset_counters() { counters_.clear(); }

  // Blocks until queued device work is done (no-op on CPU).
  void synchronize() const;

 private:
  RunOptions options_;
  c10::Device device_;
  c10::ScalarType dtype_;
  std::shared_ptr<spdlog::logger> logger_;
  PhaseTimer timer_;
  MemoryMeter memory_;
  int64_t repetition_ = 0;
  std::map<std::string, int64_t> counters_;
};

// Parses "float32|fp32|bfloat16|bf16|float16|fp16|float64" -> ScalarType; ConfigError otherwise.
c10::ScalarType parse_dtype(const std::string& name);
// Parses "cpu|cuda|cuda:N"; ConfigError on a bad name, NotSupported when CUDA is unavailable.
c10::Device parse_device(const std::string& name);
// Checks a log level name (trace, debug, info, warn/warning, error/err, critical, off); ConfigError otherwise.
void check_log_level(const std::string& name);

}  // namespace repro
