#include "methods/common/topk.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "methods/common/mask_solver.h"
#include "methods/common/sparsity_pattern.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;

namespace {
at::Tensor rnd(int64_t r, int64_t c, uint64_t seed) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({r, c}, g, at::kFloat);
}
}  // namespace

TEST_CASE("keep_count rounds (1 - p) * numel", "[methods][sparsity]") {
  CHECK(keep_count(100, 0.5) == 50);
  CHECK(keep_count(10, 0.25) == 8);  // 7.5 -> 8
  CHECK(keep_count(7, 0.0) == 7);
}

TEST_CASE("topk_mask keeps exactly the k largest over the whole matrix", "[methods][sparsity]") {
  at::Tensor s = rnd(37, 53, 1);
  for (int64_t k : {0, 1, 500, 1000, 1961}) {
    at::Tensor m = topk_mask(s, k);
    REQUIRE(m.sum().item<int64_t>() == k);
    if (k > 0 && k < s.numel()) CHECK(s.masked_select(m).min().item<float>() > s.masked_select(~m).max().item<float>());
  }
}

TEST_CASE("row_topk_mask keeps k per row", "[methods][sparsity]") {
  at::Tensor s = rnd(20, 30, 2);
  for (int64_t k : {0, 3, 15, 29, 30}) {
    at::Tensor m = row_topk_mask(s, k);
    CHECK(m.sum(1).eq(k).all().item<bool>());
    for (int64_t r = 0; r < 20 && k > 0 && k < 30; ++r)
      CHECK(s[r].masked_select(m[r]).min().item<float>() > s[r].masked_select(~m[r]).max().item<float>());
  }
}

TEST_CASE("N:M masks keep exactly N of every M consecutive input columns", "[methods][sparsity]") {
  at::Tensor s = rnd(16, 64, 3);
  for (NMPattern p : {NMPattern{2, 4}, NMPattern{1, 4}, NMPattern{4, 8}, NMPattern{3, 8}}) {
    at::Tensor m = nm_topk_mask(s, p);
    CHECK(satisfies_nm(m, p, true));
    // The kept ones are the largest of their group.
    at::Tensor g = s.reshape({16, 64 / p.m, p.m});
    at::Tensor mg = m.reshape({16, 64 / p.m, p.m});
    at::Tensor kept_min = at::where(mg, g, at::full_like(g, 1e9)).amin(2);
    at::Tensor pruned_max = at::where(mg, at::full_like(g, -1e9), g).amax(2);
    CHECK((kept_min > pruned_max).all().item<bool>());
  }
  // nm_project zeroes the smallest |.|
  at::Tensor z = at::tensor({1.0f, -5.0f, 0.5f, 3.0f, -0.1f, 0.2f, 9.0f, -8.0f}, at::kFloat).unsqueeze(0);
  CHECK(nm_project(z, {2, 4}).equal(at::tensor({0.0f, -5.0f, 0.0f, 3.0f, 0.0f, 0.0f, 9.0f, -8.0f}).unsqueeze(0)));
  CHECK(!satisfies_nm(at::ones({2, 8}, at::kBool), {2, 4}, true));
  CHECK(satisfies_nm(at::zeros({2, 8}, at::kBool), {2, 4}, false));
}

TEST_CASE("sparsity patterns parse 'unstructured' and 'N:M'", "[methods][sparsity]") {
  auto p = SparsityPattern::parse("2:4");
  CHECK(p.nm);
  CHECK(p.n == 2);
  CHECK(p.m == 4);
  CHECK(p.str() == "2:4");
  CHECK_FALSE(SparsityPattern::parse("unstructured").nm);
  for (const char* bad : {"4:4", "0:4", "2:", ":4", "2-4", "a:b", "5:4", "dense"})
    CHECK_THROWS_AS(SparsityPattern::parse(bad), ConfigError);
}

TEST_CASE("sparsity_pattern reads and validates the shared parameters", "[methods][sparsity]") {
  auto specs = sparsity_params();
  auto p = Params::validate(Value(Value::Table{{"pattern", "2:4"}}), specs, "test");
  SparsitySpec s = sparsity_pattern(p);
  CHECK(s.pattern.nm);
  CHECK(s.mask_solver == "topk()");
  REQUIRE(s.solver);
  CHECK(s.solver->info().name == "topk");
  CHECK(s.effective_sparsity() == Approx(0.5));
  CHECK_THROWS_AS(sparsity_pattern(Params::validate(Value(Value::Table{{"sparsity", 1.0}}), specs, "t")),
                  ConfigError);
  CHECK_THROWS_AS(sparsity_pattern(Params::validate(Value(Value::Table{{"pattern", "2:5:6"}}), specs, "t")),
                  ConfigError);
  CHECK_THROWS_AS(sparsity_pattern(Params::validate(Value(Value::Table{{"mask_solver", "tpok"}}), specs, "t")),
                  ConfigError);
  CHECK_THROWS_AS(check_pattern_fits(s, 8, 30, "layer"), NotSupported);
  CHECK_NOTHROW(check_pattern_fits(s, 30, 32, "layer"));  // row-wise N:M: any number of rows
  // transposable = true needs an N:M pattern and a transposable solver (topk is row-wise).
  CHECK_THROWS_AS(sparsity_pattern(Params::validate(Value(Value::Table{{"transposable", true}}), specs, "t")),
                  ConfigError);
  CHECK_THROWS_AS(sparsity_pattern(Params::validate(
                      Value(Value::Table{{"pattern", "2:4"}, {"transposable", true}}), specs, "t")),
                  ConfigError);
}

TEST_CASE("solve_mask runs a MaskSolver from the registry and checks its mask", "[methods][sparsity]") {
  at::Tensor s = rnd(8, 32, 4);
  auto& ctx = test::quiet_context();
  auto topk = Registry<MaskSolver>::instance().create("topk");
  topk->configure(Params::validate(Value(), topk->info().params, "topk"));
  CHECK(solve_mask(*topk, s, {2, 4}, ctx).equal(nm_topk_mask(s, {2, 4})));
  CHECK_THROWS_AS(Registry<MaskSolver>::instance().create("no_such_solver"), ConfigError);
  CHECK_THROWS_AS(solve_mask(*topk, rnd(8, 30, 5), {2, 4}, ctx), NotSupported);
}

TEST_CASE("select_mask: layer vs row scope", "[methods][sparsity]") {
  SparsitySpec spec;
  spec.sparsity = 0.5;
  // Row 0 is large everywhere: a layer threshold keeps all of row 0, a row threshold half of it.
  at::Tensor s = at::cat({at::full({1, 8}, 10.0f), at::arange(8, at::kFloat).unsqueeze(0)});
  auto& ctx = test::quiet_context();
  at::Tensor ml = select_mask(s, spec, UnstructuredScope::Layer, ctx);
  at::Tensor mr = select_mask(s, spec, UnstructuredScope::Row, ctx);
  CHECK(ml[0].all().item<bool>());
  CHECK(ml[1].sum().item<int64_t>() == 0);
  CHECK(mr.sum(1).eq(4).all().item<bool>());
}

TEST_CASE("kth_smallest equals kthvalue, including ties, negatives and signed zeros", "[methods][sparsity]") {
  at::Tensor x = rnd(37, 41, 9);
  for (int64_t k : {int64_t{1}, int64_t{2}, int64_t{700}, int64_t{1516}, int64_t{37 * 41}})
    CHECK(kth_smallest(x, k).item<float>() == std::get<0>(at::kthvalue(x.reshape({-1}), k)).item<float>());
  at::Tensor t = at::tensor({3.0f, -0.0f, 0.0f, -2.0f, 3.0f, 3.0f, 1e-30f, -1e30f}, at::kFloat);
  for (int64_t k = 1; k <= 8; ++k)
    CHECK(kth_smallest(t, k).item<float>() == std::get<0>(at::kthvalue(t, k)).item<float>());
  CHECK(kth_smallest(t.reshape({2, 4}), 6).dim() == 0);
}

TEST_CASE("topk_mask keeps exactly k under ties (by index order)", "[methods][sparsity]") {
  at::Tensor s = at::tensor({1.0f, 2.0f, 2.0f, 2.0f, 0.5f, 2.0f, 3.0f}, at::kFloat);
  at::Tensor m = topk_mask(s, 3);
  CHECK(m.sum().item<int64_t>() == 3);
  CHECK(m.equal(at::tensor({0, 1, 1, 0, 0, 0, 1}, at::kInt).to(at::kBool)));
  CHECK(topk_mask(at::zeros({4, 5}), 7).sum().item<int64_t>() == 7);
}
