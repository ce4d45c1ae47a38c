#pragma once
// What every CPU kernel in kernels/ takes besides its buffers: which instruction set to run
// (the best the CPU has, or a forced one, so tests and benches can compare paths) and how many
// threads to use. Kernels know only buffers (pointers, shapes, strides): no model, no tensor.

namespace repro::kernels {

enum class Isa {
  kAuto,    // AVX2 + FMA when the CPU has them, else scalar
  kScalar,  // portable C++ (also what kAuto picks on a CPU without AVX2)
  kAvx2,    // AVX2 + FMA; InternalError when the CPU lacks them
};

struct KernelOptions {
  Isa isa = Isa::kAuto;
  int threads = 0;  // 0: OpenMP's default (omp_get_max_threads(), which at::set_num_threads also sets)
};

// True when the CPU executes AVX2 and FMA (checked once, with __builtin_cpu_supports).
bool cpu_has_avx2_fma();
// kAuto -> the best available; kAvx2 on a CPU without it -> InternalError.
Isa resolve_isa(Isa isa);
// "auto", "scalar", "avx2".
const char* isa_name(Isa isa);
// The thread count a kernel with these options runs on (>= 1).
int resolve_threads(const KernelOptions& options);

}  // namespace repro::kernels
