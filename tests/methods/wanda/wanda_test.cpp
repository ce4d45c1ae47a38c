#include "core/error.h"
#include <ATen/ATen.h>
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

TEST_CASE("wanda: prunes floor(in * p) lowest |W| * ||X_j|| in every row", "[methods][wanda]") {
  auto f = test::make_layer(32, 100, 1);
  auto c = compress("wanda", {{"sparsity", 0.37}}, f);
  CHECK(c.mask().sum(1).eq(100 - 37).all().item<bool>());
  at::Tensor score = f.W.abs() * f.X.square().mean(0).sqrt().unsqueeze(0);
  for (int64_t r = 0; r < 32; ++r)
    CHECK(score[r].masked_select(c.mask()[r]).min().item<float>() >=
          score[r].masked_select(~c.mask()[r]).max().item<float>() * (1 - 1e-5));
  CHECK(at::equal(c.dense(), f.W * c.mask()));
  CHECK(test::forward_mismatch(c) < 1e-5);
}

TEST_CASE("wanda: N:M masks and equality with per-row magnitude when inputs are white", "[methods][wanda]") {
  auto f = test::make_layer(16, 64, 2);
  auto c = compress("wanda", {{"pattern", "2:4"}}, f);
  CHECK(satisfies_nm(c.mask(), {2, 4}, true));
  f.H = at::eye(64);
  auto w = compress("wanda", {{"sparsity", 0.5}}, f);
  auto m = compress("magnitude", {{"sparsity", 0.5}, {"scope", "row"}}, f);
  CHECK(at::equal(w.mask(), m.mask()));
}

TEST_CASE("wanda: dead inputs are pruned first", "[methods][wanda]") {
  test::FixtureOptions fo;
  fo.n_dead = 3;
  auto f = test::make_layer(16, 64, 3, fo);
  auto c = compress("wanda", {{"sparsity", 0.25}}, f);
  at::Tensor dead = f.H.diagonal().eq(0).nonzero().squeeze(1);
  CHECK_FALSE(c.mask().index_select(1, dead).any().item<bool>());
}
