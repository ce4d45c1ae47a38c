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

// A second family, for components nested in a FakeMethod (like a pruner's mask solver).
class FakeSolver {
 public:
  static constexpr const char* kFamily = "FakeSolver";
  virtual ~FakeSolver() = default;
};

// Counts rows run; fails rows whose compressor has fail = true.
int& fake_suite_runs();

// Suite "fake_noisy" (no slots): metric "noisy" = base + a standard normal draw from
// ctx.generator("noise"), measured `repeats` times (core/repetitions.h); metric "once" = base. Its
// "work" memory phase holds a `work_mb` MiB buffer (written, so resident). Parameter `fail`:
// "none", "cuda_oom_message" (throws a c10::Error whose message is libtorch's CUDA OOM message),
// "torch_oom" (throws a c10::OutOfMemoryError) or "torch" (another c10::Error).
inline constexpr const char* kFakeNoisySuite = "fake_noisy";

}  // namespace repro::test
