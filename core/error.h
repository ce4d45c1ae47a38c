#pragma once
// The error taxonomy. Two tiers, by who is at fault (see STYLE.md):
//  - bad user input (config, files, shapes a user gave) -> a repro::Error subclass that names the
//    file, key or tensor and says what was expected; the CLI prints one line and exits with code 2;
//  - broken internal invariants -> REPRO_ASSERT (throws InternalError; the CLI exits with code 1).
// An expected outcome (a cache miss, a method that does not apply) is a return value, not an error.

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace repro {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string hint = "")
      : std::runtime_error(message), hint_(std::move(hint)) {}
  // A short type name for records and messages ("ConfigError").
  virtual const char* kind() const noexcept { return "Error"; }
  // True when the user can fix it (bad input); false for internal failures.
  virtual bool user_error() const noexcept { return true; }
  // What the user can change to avoid the error (printed after the message; kept in error
  // records); empty when there is nothing specific to suggest.
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string hint_;
};

#define REPRO_DEFINE_ERROR(Name, Base, is_user)                              \
  class Name : public Base {                                                 \
   public:                                                                   \
    explicit Name(const std::string& message) : Base(message) {}             \
    const char* kind() const noexcept override { return #Name; }            \
    bool user_error() const noexcept override { return is_user; }            \
  };

REPRO_DEFINE_ERROR(ConfigError, Error, true)     // a config file or command-line value is wrong
REPRO_DEFINE_ERROR(DataError, Error, true)       // a data file is missing, malformed or inconsistent
REPRO_DEFINE_ERROR(ModelError, Error, true)      // a checkpoint is missing, malformed or mismatched
REPRO_DEFINE_ERROR(NotSupported, Error, true)    // a valid request this build or method cannot serve
REPRO_DEFINE_ERROR(NumericalError, Error, false) // a solve diverged, a factorization failed for good
REPRO_DEFINE_ERROR(NonFiniteError, Error, false) // NaN/Inf in weights or activations (named by layer)
REPRO_DEFINE_ERROR(IoError, Error, true)         // the file system refused (permissions, disk full)
REPRO_DEFINE_ERROR(InternalError, Error, false)  // a broken invariant: a bug in ReproBench

#undef REPRO_DEFINE_ERROR

// A device (CUDA) allocation failed: the row needs more device memory than is free. Recognised
// from libtorch's exceptions by device_out_of_memory() below; the hint names the knobs to turn.
class DeviceOutOfMemory : public Error {
 public:
  static constexpr const char* kHint =
      "lower the row's batch sizes (perplexity suite: calib_batch, eval_batch), use a smaller model or "
      "dtype, or a device with more free memory";
  explicit DeviceOutOfMemory(const std::string& message, std::string hint = kHint) : Error(message, std::move(hint)) {}
  const char* kind() const noexcept override { return "DeviceOutOfMemory"; }
  bool user_error() const noexcept override { return true; }
};

// True for libtorch's CUDA out-of-memory messages ("CUDA out of memory. Tried to allocate ...").
bool is_cuda_oom_message(std::string_view what);
// A DeviceOutOfMemory for `e` when it is a device out-of-memory failure: a c10::OutOfMemoryError,
// or any exception whose message is a CUDA out-of-memory message; nullopt otherwise. The message
// is the exception's without libtorch's C++ backtrace.
std::optional<DeviceOutOfMemory> device_out_of_memory(const std::exception& e);

namespace detail {
[[noreturn]] void assert_fail(const char* cond, const char* file, int line, const std::string& msg);
}  // namespace detail

}  // namespace repro

// Internal invariant check; active in every build type. The message is optional context.
#define REPRO_ASSERT(cond, ...)                                                          \
  do {                                                                                   \
    if (!(cond)) ::repro::detail::assert_fail(#cond, __FILE__, __LINE__, std::string{__VA_ARGS__}); \
  } while (0)
