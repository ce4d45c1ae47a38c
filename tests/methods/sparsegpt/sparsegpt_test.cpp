#include "core/error.h"
#include <ATen/ATen.h>
#include "methods/common/layer_error.h"
#include "methods/common/quant_grid.h"
#include "methods/common/sparsity_pattern.h"
#include "methods/common/topk.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"

using namespace repro;
using repro::test::compress;

TEST_CASE("sparsegpt < wanda < magnitude in layer error, 50% and 2:4", "[methods][sparsegpt]") {
  for (uint64_t seed : {1, 2, 3}) {
    auto f = test::make_layer(96, 256, seed);
    for (Value::Table p : {Value::Table{{"sparsity", 0.5}}, Value::Table{{"pattern", "2:4"}}}) {
      double mag = test::rel_error(f, compress("magnitude", p, f));
      double wanda = test::rel_error(f, compress("wanda", p, f));
      double sgpt = test::rel_error(f, compress("sparsegpt", p, f));
      INFO("seed " << seed << " sparsegpt " << sgpt << " wanda " << wanda << " magnitude " << mag);
      CHECK(sgpt < 0.8 * wanda);
      CHECK(wanda < mag);
    }
  }
}

TEST_CASE("sparsegpt: masks keep exactly the budget; pruned weights are zero", "[methods][sparsegpt]") {
  auto f = test::make_layer(64, 256, 4);
  auto u = compress("sparsegpt", {{"sparsity", 0.5}}, f);
  REQUIRE(u.has_sparse());
  // One threshold per block of 128 columns: each block keeps exactly half.
  for (int64_t b = 0; b < 2; ++b) CHECK(u.mask().narrow(1, 128 * b, 128).sum().item<int64_t>() == 64 * 64);
  CHECK(u.dense().masked_select(~u.mask()).abs().max().item<float>() == 0.0f);
  CHECK(test::forward_mismatch(u) < 1e-5);
  for (const char* pat : {"2:4", "4:8", "1:4"}) {
    auto c = compress("sparsegpt", {{"pattern", pat}}, f);
    CHECK(satisfies_nm(c.mask(), SparsityPattern::parse(pat).nm_pattern(), true));
    CHECK(c.dense().masked_select(~c.mask()).abs().max().item<float>() == 0.0f);
    CHECK(test::forward_mismatch(c) < 1e-5);
  }
}

TEST_CASE("sparsegpt: with H = c I it is magnitude pruning per block, without updates", "[methods][sparsegpt]") {
  auto f = test::make_layer(16, 128, 5);
  f.H = at::eye(128) * 2.0;
  auto c = compress("sparsegpt", {{"sparsity", 0.5}}, f);
  auto m = compress("magnitude", {{"sparsity", 0.5}}, f);  // one block = the whole layer here
  CHECK(at::equal(c.mask(), m.mask()));
  CHECK(at::allclose(c.dense(), m.dense()));
  auto n = compress("sparsegpt", {{"pattern", "2:4"}}, f);
  CHECK(at::equal(n.mask(), nm_topk_mask(f.W.abs(), {2, 4})));
}

TEST_CASE("sparsegpt: joint quantization gives sparse codes on the grid", "[methods][sparsegpt]") {
  auto f = test::make_layer(64, 256, 6);
  struct Case {
    Value::Table sparsity, quant;
  };
  for (const Case& k : {Case{{{"pattern", "2:4"}}, {{"bits", 4}}},
                        Case{{{"sparsity", 0.5}}, {{"bits", 3}, {"group_size", 64}, {"sym", true}}}}) {
    Value::Table p = k.sparsity;
    p.insert(k.quant.begin(), k.quant.end());
    auto c = compress("sparsegpt", p, f);
    REQUIRE(c.has_quant());
    REQUIRE(c.has_sparse());
    const QuantCodes& q = c.quant();
    int bits = static_cast<int>(p.at("bits").as_int());
    CHECK(q.codes.to(at::kInt).max().item<int>() <= (1 << bits) - 1);
    at::Tensor deq = q.dequantize();
    // Pruned entries quantize to exactly 0 (their code is the zero point).
    CHECK(deq.masked_select(~c.mask()).abs().max().item<float>() == 0.0f);
    CHECK(at::equal(c.dense(), deq * c.mask()));
    CHECK(test::forward_mismatch(c) < 1e-5);
    auto sparse_only = compress("sparsegpt", k.sparsity, f);
    double joint = test::rel_error(f, c);
    CHECK(joint > test::rel_error(f, sparse_only));
    // Better than rounding the pruned result afterwards (the sweep feeds rounding errors forward).
    QuantGridOptions o;
    o.bits = bits;
    o.sym = k.quant.count("sym") != 0;
    int64_t g = k.quant.count("group_size") ? k.quant.at("group_size").as_int() : -1;
    at::Tensor rounded = quantize_rtn(sparse_only.dense(), o, g).dequantize() * sparse_only.mask();
    CHECK(joint < 0.9 * relative_error(f.W, rounded, f.H));
  }
}

TEST_CASE("sparsegpt: dead inputs, damping options, bad parameters", "[methods][sparsegpt]") {
  test::FixtureOptions fo;
  fo.n_dead = 4;
  auto f = test::make_layer(32, 128, 7, fo);
  auto c = compress("sparsegpt", {{"sparsity", 0.5}, {"hess_diag", true}, {"percdamp", 0.005}}, f);
  at::Tensor dead = f.H.diagonal().eq(0).nonzero().squeeze(1);
  CHECK(c.dense().index_select(1, dead).abs().max().item<float>() == 0.0f);
  CHECK(std::isfinite(test::rel_error(f, c)));
  CHECK_THROWS_AS(test::make_compressor("sparsegpt", {{"bits", 12}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("sparsegpt", {{"pattern", "4:2"}}), ConfigError);
  CHECK_THROWS_AS(compress("sparsegpt", {{"pattern", "2:4"}}, test::make_layer(8, 30, 1)), NotSupported);
}
