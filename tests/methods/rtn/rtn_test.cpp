#include "core/error.h"
#include "methods/common/quant_grid.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

TEST_CASE("rtn: codes on the grid, equal to quantize_rtn, forward matches dense", "[methods][rtn]") {
  auto f = test::make_layer(64, 256, 21);
  auto c = compress("rtn", {{"bits", 3}, {"group_size", 64}}, f);
  REQUIRE(c.has_quant());
  const QuantCodes& q = c.quant();
  CHECK(q.bits == 3);
  CHECK(q.group_size == 64);
  CHECK(q.scales.size(1) == 4);
  CHECK(q.codes.to(at::kInt).max().item<int>() <= 7);
  QuantGridOptions o;
  o.bits = 3;
  CHECK(q.codes.equal(quantize_rtn(f.W, o, 64).codes));
  CHECK(test::forward_mismatch(c) < 1e-5);
  CHECK_FALSE(test::make_compressor("rtn")->needs_hessian());
}

TEST_CASE("rtn: the layer error falls as bits grow", "[methods][rtn]") {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(64, 256, seed);
    for (bool sym : {false, true}) {
      double prev = 1e9;
      for (int bits : {2, 3, 4, 5, 6, 8}) {
        double e = test::rel_error(f, compress("rtn", {{"bits", bits}, {"sym", sym}}, f));
        CHECK(e < prev);
        prev = e;
      }
      CHECK(prev < 1e-3);
    }
  }
}

TEST_CASE("rtn: smaller groups and the clip search lower the error", "[methods][rtn]") {
  auto f = test::make_layer(64, 256, 4);
  double ch = test::rel_error(f, compress("rtn", {{"bits", 3}, {"group_size", -1}}, f));
  double g128 = test::rel_error(f, compress("rtn", {{"bits", 3}, {"group_size", 128}}, f));
  double g32 = test::rel_error(f, compress("rtn", {{"bits", 3}, {"group_size", 32}}, f));
  double clip = test::rel_error(f, compress("rtn", {{"bits", 3}, {"group_size", -1}, {"clip_search", true}}, f));
  CHECK(g32 < g128);
  CHECK(g128 < ch);
  CHECK(clip < ch);
}

TEST_CASE("rtn: parameters are validated", "[methods][rtn]") {
  CHECK_THROWS_AS(test::make_compressor("rtn", {{"bits", 1}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("rtn", {{"bits", 9}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("rtn", {{"group_size", 0}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("rtn", {{"bitz", 4}}), ConfigError);
}
