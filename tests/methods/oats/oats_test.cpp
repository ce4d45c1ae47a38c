#include <ATen/CPUGeneratorImpl.h>

#include <ATen/ATen.h>

#include "core/error.h"
#include "methods/common/layer_error.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;


TEST_CASE("oats recovers a planted sparse + low-rank matrix", "[methods][oats]") {
  for (uint64_t seed : {1, 2, 3}) {
    test::PlantedSlr p = test::planted_slr(96, 128, 16, 3, seed);  // 87.5% sparse + rank 3
    auto c = compress("oats", {{"sparsity", 0.875}, {"rank", 3}, {"iterations", 80}}, p.f);
    REQUIRE(c.has_sparse());
    REQUIRE(c.has_low_rank());
    CHECK(c.U().size(1) == 3);
    at::Tensor What = c.dense();
    double rel = ((What - p.f.W).norm() / p.f.W.norm()).item<double>();
    INFO("seed " << seed << " relative Frobenius error " << rel);
    CHECK(rel < 1e-3);
    CHECK(at::equal(c.mask(), p.S0.ne(0)));
    CHECK(at::allclose(c.sparse_values(), p.S0, 1e-3, 1e-3));
    CHECK(test::forward_mismatch(c) < 1e-5);
  }
}

TEST_CASE("oats: the input scaling Dw; row budget; N:M; dead inputs", "[methods][oats]") {
  // With a diagonal H the problem is solved on W Dw: scaling H by a constant changes nothing, and
  // the result is planted-exact again when the planted matrix lives in the scaled space.
  test::PlantedSlr p = test::planted_slr(64, 96, 12, 2, 4);
  at::Tensor d = at::linspace(0.5, 2.0, 96);
  p.f.H = at::diag(d.square());
  p.f.W = (p.S0 + p.L0) / d.unsqueeze(0);  // W Dw = S0 + L0
  auto c = compress("oats", {{"sparsity", 0.875}, {"rank", 2}}, p.f);
  CHECK(((c.dense() - p.f.W).norm() / p.f.W.norm()).item<double>() < 1e-3);
  CHECK(c.mask().sum(1).eq(12).all().item<bool>());

  auto f = test::make_layer(48, 64, 5);
  auto n = compress("oats", {{"pattern", "2:4"}, {"rank", 8}, {"iterations", 10}}, f);
  CHECK(satisfies_nm(n.mask(), {2, 4}, true));
  // S + LR beats pure N:M pruning of the same sparse pattern.
  CHECK(test::rel_error(f, n) < test::rel_error(f, compress("wanda", {{"pattern", "2:4"}}, f)));

  test::FixtureOptions fo;
  fo.n_dead = 3;
  auto fd = test::make_layer(32, 64, 6, fo);
  auto cd = compress("oats", {{"sparsity", 0.5}, {"rank", 4}, {"iterations", 5}}, fd);
  at::Tensor dead = fd.H.diagonal().eq(0).nonzero().squeeze(1);
  CHECK(cd.dense().isfinite().all().item<bool>());
  CHECK(cd.dense().index_select(1, dead).abs().max().item<float>() == 0.0f);
  CHECK_THROWS_AS(compress("oats", {{"rank", 65}}, fd), NotSupported);
  CHECK_THROWS_AS(test::make_compressor("oats", {{"rank", 0}}), ConfigError);
}

TEST_CASE("oats with svd = rank_r: the same layer objective within 1% of the exact SVD", "[methods][oats]") {
  // On layers whose scaled weight has a spectral gap at the rank (a planted low-rank part plus a
  // sparse part and noise): without a gap the rank-r term is ill-determined and the two
  // alternating runs drift to different, equally good fixed points (a few % apart either way).
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(64, 128, seed);
    {
      test::PlantedSlr p = test::planted_slr(64, 128, 32, 8, seed);
      at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed + 100);
      f.W = (p.S0 + p.L0 * 10 + 0.01 * at::randn({64, 128}, g, at::kFloat)) / f.H.diagonal().sqrt().unsqueeze(0);
    }
    // OATS's own objective: ||(W - W_hat) Dw||_F^2, Dw = sqrt(diag H).
    at::Tensor dw = f.H.diagonal().sqrt();
    auto objective = [&](const CompressedLinear& c) {
      return ((f.W - c.dense()) * dw.unsqueeze(0)).square().sum().item<double>();
    };
    for (const char* pattern : {"2:4", "unstructured"}) {
      Value::Table p{{"pattern", pattern}, {"rank", 8}, {"iterations", 20}};
      const double ex = objective(compress("oats", p, f));
      p["svd"] = Value("rank_r");
      const double rr = objective(compress("oats", p, f));
      INFO("seed " << seed << " " << pattern << " exact " << ex << " rank_r " << rr);
      CHECK(std::abs(rr - ex) < 0.01 * ex);
    }
  }
  test::PlantedSlr p = test::planted_slr(96, 128, 16, 3, 5);
  auto c = compress("oats", {{"sparsity", 0.875}, {"rank", 3}, {"iterations", 80}, {"svd", "rank_r"}}, p.f);
  CHECK(((c.dense() - p.f.W).norm() / p.f.W.norm()).item<double>() < 1e-3);
}
