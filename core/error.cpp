#include "core/error.h"

#include <c10/util/Exception.h>

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

namespace repro::detail {

void assert_fail(const char* cond, const char* file, int line, const std::string& msg) {
  std::string text = std::string("internal error: assertion '") + cond + "' failed at " + file + ":" +
                     std::to_string(line);
  if (!msg.empty()) text += ": " + msg;
  throw InternalError(text);
}

}  // namespace repro::detail
