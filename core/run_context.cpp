#include "core/run_context.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
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

void check_log_level(const std::string& name) {
  static const char* const kLevels[] = {"trace", "debug", "info", "warn", "warning", "error", "err", "critical", "off"};
  for (const char* l : kLevels)
    if (name == l) return;
  throw ConfigError(fmt::format("unknown log level '{}' (use trace, debug, info, warn, error, critical or off)", name));
}

namespace {
// One stderr sink shared by every context's logger (its mutex keeps lines whole); the loggers
// themselves are not registered with spdlog, so each context has its own level.
std::shared_ptr<spdlog::sinks::sink> stderr_sink() {
  static const std::shared_ptr<spdlog::sinks::sink> sink = [] {
    auto s = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    s->set_pattern("[%H:%M:%S] %^%l%$ %v");
    return s;
  }();
  return sink;
}
}  // namespace

RunContext::RunContext(const RunOptions& options)
    : options_(options),
      device_(parse_device(options.device)),
      dtype_(parse_dtype(options.dtype)),
      timer_([this] { synchronize(); }),
      memory_(device_) {
  check_log_level(options_.log_level);
  logger_ = std::make_shared<spdlog::logger>("repro", stderr_sink());
  logger_->set_level(spdlog::level::from_str(options_.log_level));
}

RunContext::~RunContext() = default;

uint64_t RunContext::component_seed(const std::string& component) const {
  std::string text = repetition_ == 0 ? fmt::format("{}/{}", options_.seed, component)
                                      : fmt::format("{}/{}/repetition={}", options_.seed, component, repetition_);
  std::string h = sha256_hex(text);
  return std::stoull(h.substr(0, 15), nullptr, 16);
}

void RunContext::set_repetition(int64_t k) {
  if (k < 0) throw InternalError(fmt::format("repetition {} is negative", k));
  repetition_ = k;
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
