// CUDA out-of-memory recognition: needs c10, so it lives in repro_core, not in the libtorch-free
// repro_core_io that holds the rest of error handling.
#include <c10/util/Exception.h>

#include "core/error.h"

namespace repro {

bool is_cuda_oom_message(std::string_view what) { return what.find("CUDA out of memory") != std::string_view::npos; }

std::optional<DeviceOutOfMemory> device_out_of_memory(const std::exception& e) {
  const auto* torch = dynamic_cast<const c10::Error*>(&e);
  const std::string message = torch ? torch->what_without_backtrace() : e.what();
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e) || is_cuda_oom_message(message))
    return DeviceOutOfMemory(message);
  return std::nullopt;
}

}  // namespace repro
