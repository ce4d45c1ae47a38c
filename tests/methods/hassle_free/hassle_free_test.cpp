#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ATen.h>

#include "core/error.h"
#include "methods/common/layer_error.h"
#include "methods/common/low_rank.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

namespace {
at::Tensor damped(const at::Tensor& H, double percdamp = 0.01) {
  return H + at::eye(H.size(0)) * percdamp * H.diagonal().mean();
}
}  // namespace

TEST_CASE("the closed-form low-rank step is optimal: no random rank-r perturbation lowers the weighted loss",
          "[methods][hassle_free]") {
  for (uint64_t seed : {1, 2, 3, 4}) {
    auto f = test::make_layer(48, 96, seed);
    at::Tensor H = damped(f.H);
    // The residual of a 2:4 pruning, as the L step sees it.
    at::Tensor R = f.W - nm_project(f.W, {2, 4});
    const int64_t r = 6;
    LowRankFactors L = weighted_low_rank(R, hessian_eigen(H), r);
    const double best = layer_loss(R, L.product(), H);
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
    for (double eps : {1e-3, 1e-2, 1e-1}) {
      for (int k = 0; k < 10; ++k) {
        at::Tensor B = L.B + eps * L.B.norm() * at::randn(L.B.sizes(), g, at::kFloat) / std::sqrt(L.B.numel());
        at::Tensor A = L.A + eps * L.A.norm() * at::randn(L.A.sizes(), g, at::kFloat) / std::sqrt(L.A.numel());
        const double other = layer_loss(R, at::matmul(B, A), H);
        INFO("seed " << seed << " eps " << eps << " optimum " << best << " perturbed " << other);
        CHECK(other >= best * (1 - 1e-5));
      }
    }
    // And a random rank-r matrix of the same size does far worse.
    at::Tensor Lr = at::matmul(at::randn({48, r}, g, at::kFloat), at::randn({r, 96}, g, at::kFloat));
    Lr = Lr * (L.product().norm() / Lr.norm());
    CHECK(layer_loss(R, Lr, H) > best);
  }
}

TEST_CASE("hassle_free: below SparseGPT and EoRA, N:M valid, its L optimal for its S", "[methods][hassle_free]") {
  for (uint64_t seed : {1, 2}) {
    for (const char* pattern : {"2:4", "unstructured"}) {
      auto f = test::make_layer(64, 128, seed);
      Value::Table p{{"pattern", pattern}, {"rank", 8}, {"iterations", 5}, {"svd", "exact"}};
      auto c = compress("hassle_free", p, f);
      REQUIRE(c.has_low_rank());
      CHECK(c.U().size(1) == 8);
      if (std::string(pattern) == "2:4") CHECK(satisfies_nm(c.mask(), {2, 4}, true));
      CHECK(test::forward_mismatch(c) < 1e-5);
      const double e_hf = test::rel_error(f, c);
      const double e_sgpt = test::rel_error(f, compress("sparsegpt", {{"pattern", pattern}}, f));
      const double e_eora = test::rel_error(f, compress("eora", {{"pattern", pattern}, {"rank", 8}}, f));
      INFO("seed " << seed << " " << pattern << " hassle_free " << e_hf << " eora " << e_eora << " sparsegpt "
                   << e_sgpt);
      CHECK(e_hf < e_sgpt);
      // Iteration 0 with L = 0 is EoRA itself, and the best iterate is kept.
      CHECK(e_hf <= e_eora * (1 + 1e-4));
      // The returned L is the closed-form fit of W - S (same damping as the plugin's default).
      at::Tensor H = damped(f.H);
      LowRankFactors L = weighted_low_rank(f.W - c.sparse_values(), hessian_eigen(H), 8);
      CHECK(layer_loss(f.W, c.dense(), H) <= layer_loss(f.W, c.sparse_values() + L.product(), H) * (1 + 1e-3));
    }
  }
}

TEST_CASE("hassle_free: the Adam low-rank step, ALPS as the pruner, rank_r, parameters", "[methods][hassle_free]") {
  auto f = test::make_layer(64, 128, 7);
  const double e_sgpt = test::rel_error(f, compress("sparsegpt", {{"pattern", "2:4"}}, f));
  auto gd = compress("hassle_free", {{"pattern", "2:4"}, {"rank", 8}, {"iterations", 4}, {"lowrank_step", "gd"}}, f);
  CHECK(satisfies_nm(gd.mask(), {2, 4}, true));
  CHECK(test::rel_error(f, gd) < e_sgpt);
  auto alps = compress("hassle_free",
                       {{"pattern", "2:4"}, {"rank", 8}, {"iterations", 3}, {"pruner", "alps"}, {"alps_max_iter", 30}}, f);
  CHECK(satisfies_nm(alps.mask(), {2, 4}, true));
  CHECK(test::rel_error(f, alps) < test::rel_error(f, compress("alps", {{"pattern", "2:4"}, {"max_iter", 30}}, f)));
  // The mask solver component is forwarded to the pruner (a table, as a row would write it).
  Value::Table solver{{"method", "topk"}};
  auto ms = compress("hassle_free", {{"pattern", "2:4"}, {"rank", 8}, {"iterations", 2}, {"mask_solver", solver}}, f);
  CHECK(satisfies_nm(ms.mask(), {2, 4}, true));
  auto rr = compress("hassle_free", {{"pattern", "2:4"}, {"rank", 8}, {"iterations", 5}}, f);  // svd = rank_r
  auto ex = compress("hassle_free", {{"pattern", "2:4"}, {"rank", 8}, {"iterations", 5}, {"svd", "exact"}}, f);
  // Different SVDs send the alternation (a fresh SparseGPT mask each iteration) down different
  // paths: the results agree to a few %, not to the SVD's accuracy.
  CHECK(test::rel_error(f, rr) < 1.03 * test::rel_error(f, ex));
  CHECK_THROWS_AS(compress("hassle_free", {{"rank", 129}}, f), NotSupported);
  CHECK_THROWS_AS(test::make_compressor("hassle_free", {{"lowrank_step", "sgd"}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("hassle_free", {{"pruner", "wanda"}}), ConfigError);
}
