#include "core/error.h"

namespace repro::detail {

void assert_fail(const char* cond, const char* file, int line, const std::string& msg) {
  std::string text = std::string("internal error: assertion '") + cond + "' failed at " + file + ":" +
                     std::to_string(line);
  if (!msg.empty()) text += ": " + msg;
  throw InternalError(text);
}

}  // namespace repro::detail
