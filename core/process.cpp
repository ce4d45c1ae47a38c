#include "core/process.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/run_context.h"

namespace repro {

void configure_process(const ProcessOptions& options) {
  if (options.threads < 0) throw ConfigError(fmt::format("--threads must be 0 or more, not {}", options.threads));
  check_log_level(options.log_level);
  if (options.threads > 0) at::set_num_threads(options.threads);
  spdlog::set_level(spdlog::level::from_str(options.log_level));
}

}  // namespace repro
