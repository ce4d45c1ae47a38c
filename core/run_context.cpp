#include "core/run_context.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/hash.h"

namespace repro {

c10::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32") return c10::kFloat;
  if (name == "bfloat16" || name == "bf16") return c10::kBFloat16;
  if (name == "float16" || name == "fp16") return c10::kHalf;
  if (name == "float64" || name == "fp64") return c10::kDouble;
  throw ConfigError(fmt::format("unknown dtype '{}' (use float32, bfloat16, float16 or float64)", name));
}

c10::Device parse_device(const std::string& name) {
  c10::Device dev(c10::kCPU);
  try {
    dev = c10::Device(name);
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("unknown device '{}' (use cpu, cuda or cuda:N)", name));
  }
  if (dev.is_cuda() && !at::hasCUDA())
    throw NotSupported(fmt::format("device '{}' requested but this libtorch has no CUDA device available", name));
  return dev;
}

RunContext::RunContext(const RunOptions& options)
    : options_(options),
      device_(parse_device(options.device)),
      dtype_(parse_dtype(options.dtype)),
      timer_([this] { synchronize(); }) {
  if (options_.threads > 0) at::set_num_threads(options_.threads);
  logger_ = spdlog::get("repro");
  if (!logger_) {
    logger_ = spdlog::stderr_color_mt("repro");
    logger_->set_pattern("[%H:%M:%S] %^%l%$ %v");
  }
  logger_->set_level(spdlog::level::from_str(options_.log_level));
}

RunContext::~RunContext() = default;

uint64_t RunContext::component_seed(const std::string& component) const {
  std::string h = sha256_hex(fmt::format("{}/{}", options_.seed, component));
  return std::stoull(h.substr(0, 15), nullptr, 16);
}

at::Generator RunContext::generator(const std::string& component) const {
  return at::make_generator<at::CPUGeneratorImpl>(component_seed(component));
}

spdlog::logger& RunContext::log() const { return *logger_; }

std::unique_ptr<Progress> RunContext::progress(const std::string& label, int64_t total) const {
  return std::make_unique<Progress>(label, total, options_.progress);
}

int64_t RunContext::counter(const std::string& name) const {
  auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

void RunContext::synchronize() const {
  if (device_.is_cuda()) at::detail::getCUDAHooks().deviceSynchronize(device_.index() < 0 ? 0 : device_.index());
}

}  // namespace repro
