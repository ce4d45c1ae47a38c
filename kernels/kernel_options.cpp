#include "kernels/kernel_options.h"

#include <omp.h>

#include "core/error.h"

namespace repro::kernels {

bool cpu_has_avx2_fma() {
  static const bool has = [] {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
  }();
  return has;
}

Isa resolve_isa(Isa isa) {
  if (isa == Isa::kAuto) return cpu_has_avx2_fma() ? Isa::kAvx2 : Isa::kScalar;
  REPRO_ASSERT(isa != Isa::kAvx2 || cpu_has_avx2_fma(), "AVX2 kernels requested on a CPU without AVX2 + FMA");
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return "auto";
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
  }
  return "?";
}

int resolve_threads(const KernelOptions& options) {
  const int n = options.threads > 0 ? options.threads : omp_get_max_threads();
  return n > 0 ? n : 1;
}

}  // namespace repro::kernels
