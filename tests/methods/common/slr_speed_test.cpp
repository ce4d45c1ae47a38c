// Timings behind methods/README.md's notes on svd = "rank_r" and the fast N:M projection. Hidden
// ([.][slow]): `build/tests/test_methods "[slr_speed]"`.
#include <ATen/ATen.h>

#include <chrono>
#include <iostream>

#include "methods/common/nm_projection.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

namespace {
template <class F>
double seconds(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

TEST_CASE("slr speed: OATS exact vs rank_r on 1024 x 1024; N:M projection", "[.][slow][slr_speed]") {
  auto f = test::make_layer(1024, 1024, 1);
  for (const char* svd : {"rank_r", "exact"}) {
    CompressedLinear c;
    const double s = seconds([&] {
      c = test::compress("oats", {{"pattern", "2:4"}, {"rank", 64}, {"iterations", 80}, {"svd", svd}}, f);
    });
    std::cout << "oats 2:4 r64 80 it 1024x1024 svd=" << svd << ": " << s << " s, rel_error " << test::rel_error(f, c)
              << "\n";
  }
  at::Tensor Z = at::randn({4096, 4096});
  const double fast = seconds([&] { for (int i = 0; i < 5; ++i) nm_abs_mask(Z, {2, 4}, 0); }) / 5;
  const double slow = seconds([&] { for (int i = 0; i < 5; ++i) nm_topk_mask(Z.t().abs(), {2, 4}).t().contiguous(); }) / 5;
  std::cout << "2:4 projection of a 4096x4096 scaled-space matrix: fast " << fast << " s, via transposed topk " << slow
            << " s\n";
}
