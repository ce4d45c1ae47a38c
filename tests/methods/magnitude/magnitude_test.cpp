#include <cmath>

#include <ATen/ATen.h>

#include "core/error.h"
#include "methods/common/sparsity_pattern.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

TEST_CASE("magnitude: unstructured keeps the largest |W| with one threshold per layer", "[methods][magnitude]") {
  auto f = test::make_layer(64, 128, 11);
  auto c = compress("magnitude", {{"sparsity", 0.6}}, f);
  REQUIRE(c.has_sparse());
  at::Tensor m = c.mask();
  CHECK(m.sum().item<int64_t>() == keep_count(64 * 128, 0.6));
  at::Tensor a = f.W.abs();
  CHECK(a.masked_select(m).min().item<float>() >= a.masked_select(~m).max().item<float>());
  CHECK(c.sparse_values().equal(f.W * m));
  CHECK(test::forward_mismatch(c) < 1e-5);
  CHECK_FALSE(test::make_compressor("magnitude")->needs_hessian());
}

TEST_CASE("magnitude: layer vs row scope differ on a matrix with one large row", "[methods][magnitude]") {
  test::LayerFixture f;
  // Row 0 has large weights, row 1 small ones: a layer threshold prunes row 1 entirely at 50%,
  // a row threshold prunes half of each row.
  f.W = at::stack({at::linspace(5, 6, 8), at::linspace(0.1, 0.2, 8)});
  f.H = at::eye(8);
  f.X = at::eye(8);
  auto layer = compress("magnitude", {{"sparsity", 0.5}}, f);
  auto row = compress("magnitude", {{"sparsity", 0.5}, {"scope", "row"}}, f);
  CHECK(layer.mask()[0].all().item<bool>());
  CHECK(layer.mask()[1].any().item<bool>() == false);
  CHECK(row.mask().sum(1).eq(4).all().item<bool>());
  CHECK(row.mask()[1].narrow(0, 4, 4).all().item<bool>());  // the larger half of row 1
}

TEST_CASE("magnitude: N:M keeps exactly N of every M and records the pattern", "[methods][magnitude]") {
  auto f = test::make_layer(32, 64, 12);
  for (const char* pat : {"2:4", "1:4", "4:8"}) {
    auto c = compress("magnitude", {{"pattern", pat}}, f);
    SparsityPattern p = SparsityPattern::parse(pat);
    CHECK(satisfies_nm(c.mask(), p.nm_pattern(), true));
    CHECK(c.mask().equal(nm_topk_mask(f.W.abs(), p.nm_pattern())));
    CHECK(test::forward_mismatch(c) < 1e-5);
    // N:M index bits, not a bitmap: 16 value bits + log2(M) index bits per kept weight.
    auto st = c.stats();
    CHECK(st.bits == Approx(st.nnz * (16 + std::log2(p.m))));
  }
  CHECK_THROWS_AS(compress("magnitude", {{"pattern", "2:4"}}, test::make_layer(4, 30, 1)), NotSupported);
  CHECK_THROWS_AS(test::make_compressor("magnitude", {{"scope", "column"}}), ConfigError);
}
