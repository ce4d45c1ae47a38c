// [cuda] The batched Dykstra kernel on a GPU against its host emulation (= the CPU Dykstra of
// methods/common/transposable.h bit for bit): S within 1e-4 (the device expf may differ from
// the host's by an ulp), the same iteration counts, and the same greedy-rounded masks on almost
// every tile.
#if defined(REPRO_HAVE_CUDA_KERNELS) && defined(REPRO_KERNEL_TESTS_HAVE_METHODS)

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>

#include "kernels/cuda/dykstra_cuda.h"
#include "methods/common/transposable.h"
#include "tests/kernels/cuda/gpu_test_util.h"

using namespace repro;
using namespace repro::kernels::gpu;

TEST_CASE("dykstra_gpu equals its emulation and gives the same masks", "[kernels][cuda]") {
  REPRO_REQUIRE_CUDA_DEVICE();
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(29);
  for (int m : {4, 8, 16, 32})
    for (double tol : {0.0, 1e-3}) {
      const int n = m / 2;
      const int64_t B = m == 32 ? 64 : 1000;
      INFO(fmt::format("m {} n {} tol {}", m, n, tol));
      at::Tensor A = at::randn({B, m, m}, g).abs_();
      A[0].fill_(0.25f);
      DykstraGpuOptions o;
      o.tol = tol;
      at::Tensor Se = at::empty_like(A);
      at::Tensor ie = at::empty({B}, at::kInt);
      dykstra_gpu_emulate(A.data_ptr<float>(), B, m, n, o, Se.data_ptr<float>(), ie.data_ptr<int32_t>());
      DeviceBuffer<float> dA(A.data_ptr<float>(), A.numel()), dS(A.numel());
      DeviceBuffer<int32_t> dit(B);
      dykstra_gpu(dA.get(), B, m, n, o, dS.get(), dit.get(), nullptr);
      check_cuda(cudaDeviceSynchronize(), "dykstra_gpu");
      at::Tensor Sg = at::empty_like(A);
      const std::vector<float> s = dS.download();
      std::copy(s.begin(), s.end(), Sg.data_ptr<float>());
      const std::vector<int32_t> it = dit.download();
      at::Tensor ig = at::empty({B}, at::kInt);
      std::copy(it.begin(), it.end(), ig.data_ptr<int32_t>());
      CHECK((Sg - Se).abs().max().item<float>() < 1e-4f);
      const double same_iters = ig.eq(ie).to(at::kDouble).mean().item<double>();
      CHECK(same_iters >= 0.99);
      const at::Tensor mg = greedy_round(Sg, A, n), me = greedy_round(Se, A, n);
      const double same_masks = mg.eq(me).flatten(1).all(1).to(at::kDouble).mean().item<double>();
      UNSCOPED_INFO("identical masks on " << 100 * same_masks << "% of tiles");
      CHECK(same_masks >= 0.99);
    }
}

#endif  // REPRO_HAVE_CUDA_KERNELS && REPRO_KERNEL_TESTS_HAVE_METHODS
