#include "core/error.h"
#include <ATen/ATen.h>
#include "methods/common/hessian_memo.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

TEST_CASE("alps: layer error at most SparseGPT's, 50% and 2:4", "[methods][alps]") {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(64, 128, seed);
    for (Value::Table p : {Value::Table{{"sparsity", 0.5}}, Value::Table{{"pattern", "2:4"}}}) {
      RunContext& ctx = test::quiet_context();
      ctx.reset_counters();
      double alps = test::rel_error(f, compress("alps", p, f, ctx));
      double sgpt = test::rel_error(f, compress("sparsegpt", p, f));
      INFO("seed " << seed << " alps " << alps << " sparsegpt " << sgpt << " iterations "
                   << ctx.counter("alps_iterations"));
      CHECK(alps <= sgpt * 1.001);
      CHECK(ctx.counter("alps_iterations") > 3);
    }
  }
}

TEST_CASE("alps: exact budgets; the back-solve lowers the error on the support", "[methods][alps]") {
  auto f = test::make_layer(32, 128, 4);
  auto u = compress("alps", {{"sparsity", 0.6}}, f);
  CHECK(u.mask().sum().item<int64_t>() == keep_count(32 * 128, 0.6));  // one global budget
  CHECK(u.dense().masked_select(~u.mask()).abs().max().item<float>() == 0.0f);
  CHECK(test::forward_mismatch(u) < 1e-5);
  auto n = compress("alps", {{"pattern", "2:4"}}, f);
  CHECK(satisfies_nm(n.mask(), {2, 4}, true));
  auto no_cg = compress("alps", {{"sparsity", 0.6}, {"cg_iters", 0}}, f);
  CHECK(test::rel_error(f, u) < test::rel_error(f, no_cg));
  // Deterministic on CPU.
  CHECK(at::equal(compress("alps", {{"sparsity", 0.6}}, f).dense(), u.dense()));
}

TEST_CASE("alps: beats magnitude and wanda clearly; parameters validated", "[methods][alps]") {
  auto f = test::make_layer(32, 64, 5);
  double alps = test::rel_error(f, compress("alps", {{"sparsity", 0.7}, {"hess_diag", true}}, f));
  CHECK(alps < 0.7 * test::rel_error(f, compress("wanda", {{"sparsity", 0.7}}, f)));
  CHECK_THROWS_AS(test::make_compressor("alps", {{"rho0", 0.0}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("alps", {{"max_iter", -1}}), ConfigError);
}

TEST_CASE("alps: a HessianMemo shares the scaled Hessian across solves and changes nothing",
          "[methods][alps][hassle_free]") {
  auto f = test::make_layer(48, 96, 5);
  auto alps = test::make_compressor("alps", {{"pattern", "2:4"}, {"max_iter", 40}});
  RunContext& ctx = test::quiet_context();
  LayerProblem plain = f.problem();
  LayerProblem shared = plain;
  shared.memo = std::make_shared<HessianMemo>();
  const CompressedLinear a = alps->compress(plain, ctx);
  const CompressedLinear b = alps->compress(shared, ctx);
  const CompressedLinear c = alps->compress(shared, ctx);  // from the memo
  CHECK(at::equal(a.sparse_values(), b.sparse_values()));
  CHECK(at::equal(a.sparse_values(), c.sparse_values()));
  CHECK(at::equal(a.mask(), c.mask()));
  // One ScaledHessian per damping; one (Hs + rho I)^-1 per rho, returned again without a rebuild.
  const DampingOptions d;
  auto s1 = shared.memo->scaled(f.H, d, ctx);
  CHECK(s1 == shared.memo->scaled(f.H, d, ctx));
  DampingOptions other = d;
  other.percdamp = 0.1;
  CHECK(s1 != shared.memo->scaled(f.H, other, ctx));
  CHECK(s1->regularized_inverse(0.3).data_ptr() == s1->regularized_inverse(0.3).data_ptr());
  // A memo made for one H refuses another (a caller bug, not a user error).
  at::Tensor H2 = f.H.clone();
  CHECK_THROWS_AS(shared.memo->scaled(H2, d, ctx), InternalError);
}
