#pragma once
// A fake suite and a fake method family for core tests (registered in fake_plugins.cpp).

#include "core/registry.h"
#include "core/suite_registry.h"

namespace repro::test {

// A method family of its own, so core tests need no libtorch methods.
class FakeMethod {
 public:
  static constexpr const char* kFamily = "FakeMethod";
  virtual ~FakeMethod() = default;
};

// Counts rows run; fails rows whose compressor has fail = true.
int& fake_suite_runs();

}  // namespace repro::test
