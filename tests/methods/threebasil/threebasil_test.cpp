#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ATen.h>

#include "core/error.h"
#include "methods/common/hessian.h"
#include "methods/common/layer_error.h"
#include "methods/common/topk.h"
#include "methods/threebasil/threebasil.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

namespace {
SparsitySpec spec_of(const std::string& pattern, double sparsity = 0.5) {
  SparsitySpec s;
  s.sparsity = sparsity;
  s.pattern = SparsityPattern::parse(pattern);
  return s;
}
at::Tensor damped(const at::Tensor& H) { return H + at::eye(H.size(0)) * 0.01 * H.diagonal().mean(); }
}  // namespace

TEST_CASE("threebasil: the objective and the constraint violation fall over the iterations", "[methods][threebasil]") {
  for (uint64_t seed : {1, 2, 3}) {
    for (const char* pattern : {"2:4", "unstructured"}) {
      auto f = test::make_layer(64, 128, seed);
      at::Tensor H = damped(f.H);
      ThreeBasilOptions o;
      o.rank = 8;
      o.rho = threebasil_schedule();
      o.trace = true;
      ThreeBasilResult r = threebasil_admm(f.W, H, spec_of(pattern), o, test::quiet_context());
      INFO("seed " << seed << " " << pattern << " iterations " << r.iterations << " objective "
                   << r.objective.front() << " -> " << r.objective.back() << " violation " << r.violation.front()
                   << " -> " << r.violation.back());
      REQUIRE(r.objective.size() >= 3);
      CHECK(r.objective.back() < 0.5 * r.objective.front());
      CHECK(r.violation.back() < 0.1 * r.violation.front());
      CHECK(r.iterations < o.max_iter);  // the support froze and it stopped
      // The returned point: feasible, and no worse than the last traced feasible iterate by much.
      at::Tensor What = r.S + r.L.product();
      CHECK(0.5 * layer_loss(f.W, What, H) < 0.5 * r.objective.front());
    }
  }
}


TEST_CASE("threebasil recovers a planted sparse + low-rank matrix", "[methods][threebasil]") {
  for (uint64_t seed : {1, 2, 3}) {
    test::PlantedSlr p = test::planted_slr(64, 128, 16, 3, seed);  // 87.5% sparse + rank 3
    auto c = compress("threebasil", {{"sparsity", 0.875}, {"rank", 3}, {"percdamp", 0.0}}, p.f);
    at::Tensor magnitude = topk_project(p.f.W, 64 * 16);
    REQUIRE(c.has_low_rank());
    const double rel = ((c.dense() - p.f.W).norm() / p.f.W.norm()).item<double>();
    INFO("seed " << seed << " relative Frobenius error " << rel);
    // The support is found exactly; the values carry the ADMM's early stop (the low-rank part is
    // not refit to the final support and there is no back-solve, as in the reference code).
    CHECK(at::equal(c.mask(), p.S0.ne(0)));
    CHECK(rel < 0.05);
    CHECK(rel < 0.2 * ((magnitude - p.f.W).norm() / p.f.W.norm()).item<double>());
    CHECK(test::forward_mismatch(c) < 1e-5);
  }
}

TEST_CASE("threebasil: N:M valid, beats ALPS alone, rank_r within 2% of the exact SVD; params", "[methods][threebasil]") {
  for (uint64_t seed : {4, 5}) {
    auto f = test::make_layer(64, 128, seed);
    auto c = compress("threebasil", {{"pattern", "2:4"}, {"rank", 8}}, f);
    CHECK(satisfies_nm(c.mask(), {2, 4}, true));
    CHECK(c.stats().low_rank_params == 8 * (64 + 128));
    CHECK(test::forward_mismatch(c) < 1e-5);
    const double e3 = test::rel_error(f, c);
    CHECK(e3 < test::rel_error(f, compress("alps", {{"pattern", "2:4"}}, f)));
    const double ee = test::rel_error(f, compress("threebasil", {{"pattern", "2:4"}, {"rank", 8}, {"svd", "exact"}}, f));
    INFO("rank_r " << e3 << " exact " << ee);
    CHECK(e3 < 1.02 * ee);
  }
  auto f = test::make_layer(32, 64, 6);
  CHECK_THROWS_AS(compress("threebasil", {{"rank", 65}}, f), NotSupported);
  CHECK_THROWS_AS(test::make_compressor("threebasil", {{"rank", 0}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("threebasil", {{"svd", "full"}}), ConfigError);
}
