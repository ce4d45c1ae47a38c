#pragma once
// Process-wide settings: libtorch's intra-op thread count and spdlog's global level. A program
// sets them once, explicitly (the repro CLI after parsing its options, a test main); libraries and
// RunContext never touch them.

#include <string>

namespace repro {

struct ProcessOptions {
  int threads = 0;                 // libtorch intra-op threads; 0 leaves libtorch's default
  std::string log_level = "info";  // spdlog's global level (loggers registered with spdlog)
};

// Applies `options`; an unknown log level -> ConfigError, a negative thread count -> ConfigError.
void configure_process(const ProcessOptions& options);

}  // namespace repro
