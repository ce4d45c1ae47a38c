#pragma once
// The error taxonomy. Two tiers, by who is at fault (see STYLE.md):
//  - bad user input (config, files, shapes a user gave) -> a repro::Error subclass that names the
//    file, key or tensor and says what was expected; the CLI prints one line and exits with code 2;
//  - broken internal invariants -> REPRO_ASSERT (throws InternalError; the CLI exits with code 1).
// An expected outcome (a cache miss, a method that does not apply) is a return value, not an error.

#include <stdexcept>
#include <string>

namespace repro {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  // A short type name for records and messages ("ConfigError").
  virtual const char* kind() const noexcept { return "Error"; }
  // True when the user can fix it (bad input); false for internal failures.
  virtual bool user_error() const noexcept { return true; }
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
REPRO_DEFINE_ERROR(IoError, Error, true)         // the file system refused (permissions, disk full)
REPRO_DEFINE_ERROR(InternalError, Error, false)  // a broken invariant: a bug in ReproBench

#undef REPRO_DEFINE_ERROR

namespace detail {
[[noreturn]] void assert_fail(const char* cond, const char* file, int line, const std::string& msg);
}  // namespace detail

}  // namespace repro

// Internal invariant check; active in every build type. The message is optional context.
#define REPRO_ASSERT(cond, ...)                                                          \
  do {                                                                                   \
    if (!(cond)) ::repro::detail::assert_fail(#cond, __FILE__, __LINE__, std::string{__VA_ARGS__}); \
  } while (0)
