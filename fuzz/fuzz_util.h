#pragma once
// What every fuzz target shares: the contract a parser keeps on any input. It returns, or throws a
// repro::Error for bad user input (ConfigError, DataError, ModelError, ...). Anything else is a
// finding: another exception type (std::terminate), an InternalError or NumericalError (a broken
// invariant reached from input), a crash, a leak, undefined behaviour, a hang or a huge allocation
// (the sanitizers and libFuzzer's -timeout / -rss_limit_mb / -malloc_limit_mb catch those).

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/error.h"

namespace repro::fuzz {

// Runs fn(); a user error is the expected outcome for bad input, anything else aborts.
template <class Fn>
void expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    if (!e.user_error() || std::string_view(e.what()).empty()) {
      std::fprintf(stderr, "fuzz: %s on input: %s\n", e.kind(), e.what());
      std::abort();
    }
  }
}

// A property of a parse result failed: print it and abort, so libFuzzer saves the input.
[[noreturn]] inline void property_failed(const char* what) {
  std::fprintf(stderr, "fuzz: property failed: %s\n", what);
  std::abort();
}

}  // namespace repro::fuzz

#define REPRO_FUZZ_CHECK(cond)                                   \
  do {                                                           \
    if (!(cond)) ::repro::fuzz::property_failed(#cond);          \
  } while (0)
