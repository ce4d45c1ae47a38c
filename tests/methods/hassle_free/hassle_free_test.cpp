#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ATen.h>

#include "core/error.h"
#include "core/registry.h"
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

TEST_CASE("compression budget: each layer's rank and sparse part from its shape (HASSLE-free and OATS code)",
          "[methods][hassle_free][oats]") {
  // Unstructured, c = 0.6, kappa = 0.3 on a [64, 128] layer: r = floor(0.3 * 0.4 * 64 * 128 / 192) = 5,
  // sparse part at sparsity 1 - 0.4 * 0.7 = 0.72.
  SparsitySpec unstructured;
  SlrSplit s = budget_split({0.6, 0.3}, unstructured, 64, 128, "l");
  CHECK(s.rank == 5);
  CHECK(s.sparsity == Approx(0.72));
  // 2:8 with c = 0.5: the N:M part keeps 1/4, the low rank the other 1/4: r = floor(0.25 * 64 * 128 / 192) = 10.
  SparsitySpec nm;
  nm.pattern = SparsityPattern::parse("2:8");
  s = budget_split({0.5, 0.3}, nm, 64, 128, "l");
  CHECK(s.rank == 10);
  CHECK(s.sparsity == Approx(0.75));
  // A layer too small for a rank-1 share is NotSupported, naming it.
  CHECK_THROWS_AS(budget_split({0.95, 0.3}, unstructured, 8, 8, "tiny"), NotSupported);

  // End to end: the kept parameters (sparse nonzeros + r (out + in)) land on the budget, for both methods.
  auto f = test::make_layer(64, 128, 3);
  for (const char* method : {"hassle_free", "oats"}) {
    for (const char* pattern : {"unstructured", "2:8"}) {
      Value::Table p{{"pattern", pattern}, {"compression", 0.5}, {"iterations", 3}, {"svd", "exact"}};
      auto c = compress(method, p, f);
      const StorageStats st = c.stats();
      const double kept = static_cast<double>(st.nnz + st.low_rank_params) / static_cast<double>(st.numel);
      INFO(method << " " << pattern << " rank " << st.rank << " nnz " << st.nnz << " kept " << kept);
      CHECK(kept <= 0.5 + 1e-9);
      CHECK(kept > 0.5 - 192.0 / (64.0 * 128.0) - 1e-9);  // within one rank's share
      // 2:8: floor(0.25 * 42.67) = 10; unstructured: floor(0.3 * 0.5 * 42.67) = 6.
      CHECK(st.rank == (std::string(pattern) == "2:8" ? 10 : 6));
    }
  }
}

TEST_CASE("compression budget: an N:M part that alone keeps the budget is a ConfigError at load",
          "[methods][hassle_free]") {
  auto f = test::make_layer(16, 32, 1);
  try {
    compress("hassle_free", {{"pattern", "2:4"}, {"compression", 0.5}}, f);
    FAIL("no error");
  } catch (const ConfigError& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("no room for a low-rank part") != std::string::npos);
  }
}

TEST_CASE("a quiet_at_default parameter stays out of the canonical spec until it is set", "[methods][hassle_free]") {
  const MethodInfo& info = *Catalog::instance().find("LayerCompressor", "hassle_free");
  const Params d = Params::validate(Value(Value::Table{}), info.params, "hf");
  CHECK(d.canonical().find("compression") == std::string::npos);
  CHECK(d.canonical().find("rank_ratio") == std::string::npos);
  CHECK(d.get_float("rank_ratio") == Approx(0.3));
  const Params set = Params::validate(Value(Value::Table{{"compression", 0.6}}), info.params, "hf");
  CHECK(set.canonical().find("compression=0.6") != std::string::npos);
}
