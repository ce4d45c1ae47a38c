// The small sweep behind tsenor's defaults (methods/tsenor/README.md): tau x iters on |N(0, 1)| and
// |Student-t(3)| scores at 8:16 and 16:32, reporting the mean per-block gap to the optimum, the
// seconds of the whole solve, the blocks the rounding leaves short and their deficits. Hidden:
// `build/tests/test_methods "[tsenor_sweep]"`.

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "methods/common/transposable.h"
#include "methods/common/transposable_flow.h"
#include "tests/catch.h"

using namespace repro;

namespace {

at::Tensor scores(const std::string& dist, int64_t size, uint64_t seed) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor z = at::randn({size, size}, g, at::kFloat);
  if (dist == "t3") z.div_(at::randn({3, size, size}, g, at::kFloat).square_().sum(0).div_(3).sqrt_());
  return z.abs_();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("tsenor sweep: tau x iters, gap to the optimum and time", "[.][slow][tsenor_sweep]") {
  const int64_t size = 1024;
  for (const char* dist : {"normal", "t3"})
    for (NMPattern p : {NMPattern{8, 16}, NMPattern{16, 32}}) {
      at::Tensor A = to_blocks(scores(dist, size, 7), p.m);
      auto t0 = std::chrono::steady_clock::now();
      at::Tensor opt = block_objective(A, exact_transposable_blocks(A, p.n));
      std::cout << fmt::format("{} {}:{} ({} blocks): exact {:.3f} s\n", dist, p.n, p.m, A.size(0), seconds_since(t0));
      at::Tensor greedy = greedy_round(A, A, p.n);
      at::Tensor greedy_short = (p.n - greedy.sum(2, false, at::kInt)).sum(1);
      finish_transposable(A, greedy, p.n, 100000);
      std::cout << fmt::format("  greedy+repair gap {:.4f}%, short blocks {} (max deficit {})\n",
                               100 * ((opt - block_objective(A, greedy)) / opt).mean().item<double>(),
                               greedy_short.gt(0).sum().item<int64_t>(), greedy_short.max().item<int64_t>());
      for (double tol : {0.0, 1e-3})
        for (double tau : {10.0, 20.0, 40.0, 60.0})
          for (int64_t iters : {50, 100, 300}) {
            DykstraOptions o;
            o.tau = tau;
            o.iters = iters;
            o.tol = tol;
            t0 = std::chrono::steady_clock::now();
            DykstraResult r = dykstra_transposable(A, p.n, o);
            const double t_dykstra = seconds_since(t0);
            at::Tensor mask = greedy_round(r.S, A, p.n);
            const double t_round = seconds_since(t0) - t_dykstra;
            at::Tensor short_rows = (p.n - mask.sum(2, false, at::kInt)).sum(1);  // deficit per block
            const int64_t short_blocks = short_rows.gt(0).sum().item<int64_t>();
            const int64_t max_deficit = short_rows.max().item<int64_t>();
            at::Tensor repaired = mask.clone();
            const int64_t exact = finish_transposable(A, repaired, p.n, 32);
            const double total = seconds_since(t0);
            const double gap = 100 * ((opt - block_objective(A, repaired)) / opt).mean().item<double>();
            std::cout << fmt::format(
                "  tol {:g} tau {:>2g} iters {:>3} ({:>3} run): gap {:.4f}%  {:.3f} s (dykstra {:.3f}, round {:.3f})  "
                "short blocks {} (max deficit {}), exact fallback {}\n",
                tol, tau, iters, r.iterations, gap, total, t_dykstra, t_round, short_blocks, max_deficit, exact);
          }
    }
}
