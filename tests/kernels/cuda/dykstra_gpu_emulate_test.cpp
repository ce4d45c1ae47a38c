// The GPU Dykstra kernel's host emulation against the CPU path of dykstra_transposable
// (methods/common/transposable.h) on random score tiles, m = 4, 8, 16, 32 with n = m / 2: the
// same S bit for bit, the same iteration counts, and so the same greedy-rounded masks. Edge
// tiles: constant scores, ties, one huge outlier. No GPU needed.

#if defined(REPRO_KERNEL_TESTS_HAVE_METHODS)  // the CPU Dykstra lives in repro_methods

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/cuda/dykstra_gpu.h"
#include "methods/common/transposable.h"
#include "tests/catch.h"

using namespace repro;
using namespace repro::kernels::gpu;

namespace {

struct Emulated {
  at::Tensor S;           // [B, m, m] fp32
  at::Tensor iterations;  // [B] int32
};

Emulated emulate(const at::Tensor& A, int n, const DykstraGpuOptions& o) {
  const int64_t B = A.size(0);
  const int m = static_cast<int>(A.size(1));
  Emulated e{at::empty_like(A), at::empty({B}, at::kInt)};
  at::Tensor Ac = A.contiguous();
  dykstra_gpu_emulate(Ac.data_ptr<float>(), B, m, n, o, e.S.data_ptr<float>(), e.iterations.data_ptr<int32_t>());
  return e;
}

}  // namespace

TEST_CASE("GPU Dykstra emulation equals the CPU Dykstra bit for bit, and the masks agree", "[kernels][cuda_host]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(17);
  for (int m : {4, 8, 16, 32})
    for (double tol : {0.0, 1e-3}) {
      const int n = m / 2;
      const int64_t B = m == 32 ? 24 : 200;
      INFO(fmt::format("m {} n {} tol {}", m, n, tol));
      at::Tensor A = at::randn({B, m, m}, g).abs_();
      A[0].fill_(0.5f);                                    // constant tile: exp(0) everywhere
      A[1] = at::randint(0, 3, {m, m}, g, at::kFloat);     // many ties
      A[2][0][0] = 1e4f;                                   // one outlier
      DykstraGpuOptions o;
      o.tol = tol;
      const Emulated e = emulate(A, n, o);
      repro::DykstraOptions co;
      co.tau = o.tau;
      co.iters = o.iters;
      co.tol = tol;
      co.check_every = o.check_every;
      const repro::DykstraResult c = repro::dykstra_transposable(A, n, co);
      CHECK(at::equal(e.S, c.S));
      CHECK(e.iterations.max().item<int32_t>() == c.iterations);
      CHECK(e.iterations.to(at::kDouble).mean().item<double>() == Approx(c.mean_iterations));
      if (tol == 0.0) CHECK(e.iterations.min().item<int32_t>() == o.iters);
      // Entries in [0, 1].
      CHECK(e.S.min().item<float>() >= 0.0f);
      CHECK(e.S.max().item<float>() <= 1.0f);
      // Each tile keeps n m of mass in total, up to the last capacity step (feasible to within 10%).
      CHECK(((e.S.sum({1, 2}) - n * m).abs() <= 0.1 * n * m).all().item<bool>());
      const at::Tensor me = repro::greedy_round(e.S, A, n), mc = repro::greedy_round(c.S, A, n);
      CHECK(at::equal(me, mc));
    }
}

TEST_CASE("GPU Dykstra: early stop is per tile", "[kernels][cuda_host]") {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(19);
  at::Tensor A = at::randn({64, 8, 8}, g).abs_();
  A[3].fill_(1.0f);  // a constant tile is feasible at once: stops at the first check
  DykstraGpuOptions o;
  o.tol = 1e-3;
  o.iters = 300;
  const Emulated e = emulate(A, 4, o);
  CHECK(e.iterations[3].item<int32_t>() == o.check_every);
  CHECK(e.iterations.max().item<int32_t>() > o.check_every);
  CHECK(e.iterations.min().item<int32_t>() % o.check_every == 0);
}

TEST_CASE("GPU Dykstra refuses tiles and options it cannot run", "[kernels][cuda_host]") {
  at::Tensor A = at::ones({2, 6, 6});
  at::Tensor S = at::empty_like(A);
  at::Tensor it = at::empty({2}, at::kInt);
  CHECK_THROWS_AS(dykstra_gpu_emulate(A.data_ptr<float>(), 2, 6, 3, {}, S.data_ptr<float>(), it.data_ptr<int32_t>()),
                  NotSupported);
  at::Tensor A4 = at::ones({2, 4, 4});
  CHECK_THROWS_AS(dykstra_gpu_emulate(A4.data_ptr<float>(), 2, 4, 0, {}, S.data_ptr<float>(), it.data_ptr<int32_t>()),
                  ConfigError);
  DykstraGpuOptions bad;
  bad.tau = 100.0f;
  CHECK_THROWS_AS(dykstra_gpu_emulate(A4.data_ptr<float>(), 2, 4, 2, bad, S.data_ptr<float>(), it.data_ptr<int32_t>()),
                  ConfigError);
}

#endif  // REPRO_KERNEL_TESTS_HAVE_METHODS
