#include "core/error.h"
#include <ATen/ATen.h>
#include "methods/common/quant_grid.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

TEST_CASE("gptq: layer error below RTN's at 3 and 4 bits", "[methods][gptq]") {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(96, 256, seed);
    for (int bits : {3, 4}) {
      for (int64_t g : {int64_t{-1}, int64_t{64}}) {
        for (bool sym : {false, true}) {
          Value::Table p{{"bits", bits}, {"group_size", g}, {"sym", sym}};
          double rtn = test::rel_error(f, compress("rtn", p, f));
          double gptq = test::rel_error(f, compress("gptq", p, f));
          INFO("seed " << seed << " bits " << bits << " group " << g << " sym " << sym);
          CHECK(gptq < 0.8 * rtn);
        }
      }
      Value::Table p{{"bits", bits}, {"act_order", true}};
      CHECK(test::rel_error(f, compress("gptq", p, f)) < test::rel_error(f, compress("rtn", {{"bits", bits}}, f)));
    }
  }
}

TEST_CASE("gptq: with H = c I there is no error feedback and GPTQ equals RTN", "[methods][gptq]") {
  auto f = test::make_layer(32, 192, 4);
  f.H = at::eye(192) * 3.0;
  for (int64_t g : {int64_t{-1}, int64_t{64}}) {
    Value::Table p{{"bits", 3}, {"group_size", g}};
    auto a = compress("gptq", p, f), b = compress("rtn", p, f);
    CHECK(at::equal(a.quant().codes, b.quant().codes));
    CHECK(at::allclose(a.quant().scales, b.quant().scales));
  }
}

TEST_CASE("gptq: codes on the grid, dense == dequantize, forward matches", "[methods][gptq]") {
  auto f = test::make_layer(64, 256, 5);
  for (Value::Table p : {Value::Table{{"bits", 4}},
                         Value::Table{{"bits", 3}, {"group_size", -1}, {"sym", true}},
                         Value::Table{{"bits", 2}, {"group_size", 32}, {"clip_search", true}},
                         Value::Table{{"bits", 4}, {"act_order", true}},
                         Value::Table{{"bits", 4}, {"act_order", true}, {"static_groups", true}}}) {
    auto c = compress("gptq", p, f);
    const QuantCodes& q = c.quant();
    int bits = static_cast<int>(p.at("bits").as_int());
    CHECK(q.bits == bits);
    CHECK(q.codes.to(at::kInt).max().item<int>() <= (1 << bits) - 1);
    CHECK((q.zeros == at::round(q.zeros)).all().item<bool>());
    at::Tensor s = q.scales.index_select(1, q.column_groups());
    at::Tensor z = q.zeros.index_select(1, q.column_groups());
    CHECK(at::equal(c.dense(), s * (q.codes.to(at::kFloat) - z)));
    CHECK(test::forward_mismatch(c) < 1e-5);
  }
}

TEST_CASE("gptq: act_order without static groups needs g_idx; static groups are the RTN grids", "[methods][gptq]") {
  auto f = test::make_layer(48, 256, 6);
  auto dyn = compress("gptq", {{"bits", 4}, {"group_size", 64}, {"act_order", true}}, f);
  REQUIRE(dyn.quant().g_idx.defined());
  // Every group holds exactly 64 columns, and they are not the contiguous ones.
  at::Tensor counts = at::bincount(dyn.quant().g_idx);
  CHECK(at::equal(counts, at::full({4}, 64, at::kLong)));
  CHECK_FALSE(at::equal(dyn.quant().g_idx, at::arange(256).div(64, "floor")));

  auto st = compress("gptq", {{"bits", 4}, {"group_size", 64}, {"act_order", true}, {"static_groups", true}}, f);
  CHECK_FALSE(st.quant().g_idx.defined());
  QuantGridOptions o;
  o.bits = 4;
  GridParams g = fit_group_grids(f.W, o, 64);
  CHECK(at::equal(st.quant().scales, g.scale));
  CHECK(at::equal(st.quant().zeros, g.zero));

  // Per channel: the grid of the original weights.
  auto ch = compress("gptq", {{"bits", 4}, {"group_size", -1}}, f);
  CHECK(at::equal(ch.quant().scales.squeeze(1), fit_grid(f.W, o).scale));
}

TEST_CASE("gptq: dead inputs are zeroed and counted; the result is deterministic", "[methods][gptq]") {
  test::FixtureOptions fo;
  fo.n_dead = 5;
  auto f = test::make_layer(32, 128, 7, fo);
  RunOptions ro;
  ro.log_level = "off";
  RunContext ctx(ro);
  auto a = compress("gptq", {{"bits", 4}, {"act_order", true}}, f, ctx);
  auto b = compress("gptq", {{"bits", 4}, {"act_order", true}}, f, ctx);
  CHECK(ctx.counter("dead_inputs") == 10);
  at::Tensor dead = f.H.diagonal().eq(0);
  REQUIRE(dead.sum().item<int64_t>() == 5);
  CHECK(a.dense().index_select(1, dead.nonzero().squeeze(1)).abs().max().item<float>() == 0.0f);
  CHECK(at::equal(a.quant().codes, b.quant().codes));
  CHECK(std::isfinite(test::rel_error(f, a)));
}

TEST_CASE("gptq: block size changes nothing but rounding", "[methods][gptq]") {
  auto f = test::make_layer(32, 256, 8);
  double e128 = test::rel_error(f, compress("gptq", {{"bits", 3}, {"block_size", 128}}, f));
  double e32 = test::rel_error(f, compress("gptq", {{"bits", 3}, {"block_size", 32}}, f));
  CHECK(e32 == Approx(e128).epsilon(0.02));
}

TEST_CASE("gptq: bad parameters and missing Hessian", "[methods][gptq]") {
  CHECK_THROWS_AS(test::make_compressor("gptq", {{"bits", 1}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("gptq", {{"group_size", -3}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("gptq", {{"block_size", 0}}), ConfigError);
  auto f = test::make_layer(8, 32, 1);
  f.H = at::Tensor();
  CHECK_THROWS_AS(compress("gptq", {}, f), InternalError);  // the engine guarantees a Hessian
}
