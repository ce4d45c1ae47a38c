#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <map>
#include <memory>

#include "methods/api/block_refiner.h"
#include "methods/common/quant_grid.h"
#include "methods/gsq/gumbel_quantizer.h"
#include "models/llama.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"
#include "tests/models/models_test_util.h"

using namespace repro;

namespace {

std::unique_ptr<BlockRefiner> make_gsq(const Value::Table& params) {
  auto m = Registry<BlockRefiner>::instance().create("gsq");
  m->configure(Params::validate(Value(params), m->info().params, "refiner"));
  return m;
}

// Settings that move assignments within a few dozen Lion steps on the tiny block (the paper's
// lr 1e-4 needs hundreds of steps of 64 long sequences).
Value::Table fast(int64_t epochs = 15) {
  return {{"epochs", epochs}, {"lr_logits", 2e-3}, {"lr_scales", 1e-4}, {"batch_size", 4}};
}

// A random tiny block with correlated inputs (a random mixing of Gaussian tokens) and its dense
// outputs as the targets.
struct BlockCase {
  std::unique_ptr<CausalLM> model;
  BlockIO io;
  DecoderBlock& block() { return model->block(0); }
};

BlockCase make_case(uint64_t seed) {
  at::manual_seed(seed);
  BlockCase c;
  c.model = CausalLM::random(test::tiny_config(), seed);
  const int64_t D = test::tiny_config().hidden_size;
  at::Tensor mix = at::randn({D, D}) / std::sqrt(static_cast<double>(D)) + at::eye(D);
  c.io.inputs = at::matmul(at::randn({16, 12, D}), mix);
  c.io.positions = at::arange(12, at::TensorOptions().dtype(at::kLong));
  c.io.batch_size = 2;
  at::NoGradGuard g;
  c.io.targets = c.block().forward(c.io.inputs, c.io.positions);
  return c;
}

// GPTQ (symmetric, MSE clip with negated scales: GSQ's init) on every linear of the block, each
// with the Hessian of its inputs in the dense block.
void gptq_block(DecoderBlock& block, const BlockIO& io, int64_t bits) {
  at::NoGradGuard g;
  std::map<std::string, at::Tensor> X;
  for (const std::string& name : DecoderBlock::linear_names())
    block.linear(name).on_input = [&X, name](const at::Tensor& x) { X[name] = x.reshape({-1, x.size(-1)}).to(at::kFloat); };
  block.forward(io.inputs, io.positions);
  for (const std::string& name : DecoderBlock::linear_names()) {
    Linear& lin = block.linear(name);
    lin.on_input = nullptr;
    test::LayerFixture f;
    f.W = lin.weight.to(at::kFloat);
    f.X = X.at(name);
    f.H = at::matmul(f.X.t(), f.X) * (2.0 / f.X.size(0));
    lin.compressed = std::make_shared<CompressedLinear>(test::compress(
        "gptq", {{"bits", bits}, {"group_size", 16}, {"sym", true}, {"clip_search", true}, {"clip_neg_scale", true}}, f));
    lin.weight = at::Tensor();
  }
}

double block_error(DecoderBlock& block, const BlockIO& io) {
  at::NoGradGuard g;
  return (block.forward(io.inputs, io.positions) - io.targets).square().sum().item<double>();
}

std::map<std::string, QuantCodes> snapshot(DecoderBlock& block) {
  std::map<std::string, QuantCodes> out;
  for (const std::string& name : DecoderBlock::linear_names()) {
    QuantCodes q = block.linear(name).compressed->quant();
    q.codes = q.codes.clone();
    q.scales = q.scales.clone();
    out[name] = q;
  }
  return out;
}

bool is_mlp(const std::string& name) { return name == "gate_proj" || name == "up_proj" || name == "down_proj"; }

// Every linear is still pure codes on its grid: uint8 codes in [0, maxq], the zeros of the init,
// dequantized weights that round back to the same codes, nothing left requiring grad.
void check_on_grid(DecoderBlock& block, const std::map<std::string, QuantCodes>& init) {
  for (const std::string& name : DecoderBlock::linear_names()) {
    const Linear& lin = block.linear(name);
    REQUIRE(lin.compressed);
    CHECK_FALSE(lin.weight.defined());
    const QuantCodes& q = lin.compressed->quant();
    const QuantCodes& q0 = init.at(name);
    CHECK(q.codes.scalar_type() == at::kByte);
    CHECK(q.codes.le((1 << q.bits) - 1).all().item<bool>());
    CHECK(q.bits == q0.bits);
    CHECK(at::equal(q.zeros, q0.zeros));
    CHECK_FALSE(q.scales.requires_grad());
    at::Tensor groups = q.column_groups();
    at::Tensor back = quantize_codes(q.dequantize(), q.scales.index_select(1, groups), q.zeros.index_select(1, groups),
                                     (1 << q.bits) - 1);
    CHECK(at::equal(back, q.codes.to(at::kFloat)));
    CHECK(test::forward_mismatch(*lin.compressed) < 1e-5);
  }
}

}  // namespace

TEST_CASE("gsq lowers the block error of its GPTQ init at 2 and 3 bits, and stays on the grid", "[methods][gsq]") {
  for (int64_t bits : {2, 3}) {
    for (uint64_t seed : {1, 2}) {
      BlockCase c = make_case(seed);
      gptq_block(c.block(), c.io, bits);
      const auto init = snapshot(c.block());
      const double e0 = block_error(c.block(), c.io);
      make_gsq(fast())->refine(c.block(), c.io, test::quiet_context());
      const double e1 = block_error(c.block(), c.io);
      INFO(bits << " bits, seed " << seed << ": block error " << e0 << " -> " << e1);
      CHECK(e1 < e0);
      check_on_grid(c.block(), init);
      int64_t changed = 0;
      for (const std::string& name : DecoderBlock::linear_names()) {
        const QuantCodes& q = c.block().linear(name).compressed->quant();
        at::Tensor shift = q.codes.to(at::kInt) - init.at(name).codes.to(at::kInt);
        if (!is_mlp(name)) {  // self_attn = false: the attention keeps its GPTQ codes and scales
          CHECK(at::equal(q.codes, init.at(name).codes));
          CHECK(at::equal(q.scales, init.at(name).scales));
          continue;
        }
        changed += shift.ne(0).sum().item<int64_t>();
        if (bits >= 3) CHECK(shift.abs().max().item<int>() <= 2);  // 5 shifts around the GPTQ code
      }
      CHECK(changed > 0);
    }
  }
}

TEST_CASE("gsq recovers most of a planted corruption of the GPTQ codes", "[methods][gsq]") {
  for (int64_t bits : {2, 3}) {
    BlockCase c = make_case(5);
    gptq_block(c.block(), c.io, bits);
    const double e_gptq = block_error(c.block(), c.io);
    // Move 30% of the MLP codes one step (towards the inside of the range at the edges).
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
    for (const char* name : {"gate_proj", "up_proj", "down_proj"}) {
      QuantCodes q = c.block().linear(name).compressed->quant();
      at::Tensor codes = q.codes.to(at::kFloat);
      at::Tensor hit = at::rand(codes.sizes(), gen).lt(0.3);
      at::Tensor step = at::where(at::rand(codes.sizes(), gen).lt(0.5), at::full_like(codes, -1.0), at::ones_like(codes));
      at::Tensor moved = codes + step;
      moved = at::where(moved.lt(0), codes + 1, at::where(moved.gt((1 << bits) - 1), codes - 1, moved));
      q.codes = at::where(hit, moved, codes).to(at::kByte);
      c.block().linear(name).compressed->set_quant(q);
    }
    const auto init = snapshot(c.block());
    const double e_planted = block_error(c.block(), c.io);
    REQUIRE(e_planted > 1.1 * e_gptq);
    make_gsq(fast(20))->refine(c.block(), c.io, test::quiet_context());
    const double e1 = block_error(c.block(), c.io);
    INFO(bits << " bits: GPTQ " << e_gptq << ", planted " << e_planted << ", after gsq " << e1);
    CHECK(e1 < e_gptq + 0.5 * (e_planted - e_gptq));  // at least half of the planted excess is gone
    check_on_grid(c.block(), init);
  }
}

TEST_CASE("gsq with epochs = 0 keeps the GPTQ codes and scales exactly", "[methods][gsq]") {
  BlockCase c = make_case(3);
  gptq_block(c.block(), c.io, 2);
  const auto init = snapshot(c.block());
  make_gsq({{"epochs", 0}})->refine(c.block(), c.io, test::quiet_context());
  for (const std::string& name : DecoderBlock::linear_names()) {
    CHECK(at::equal(c.block().linear(name).compressed->quant().codes, init.at(name).codes));
    CHECK(at::equal(c.block().linear(name).compressed->quant().scales, init.at(name).scales));
  }
}

TEST_CASE("gsq self_attn: the attention pass trains q/k/v/o too; bf16 logits run", "[methods][gsq]") {
  BlockCase c = make_case(4);
  gptq_block(c.block(), c.io, 2);
  const auto init = snapshot(c.block());
  const double e0 = block_error(c.block(), c.io);
  Value::Table p = fast();
  p["self_attn"] = true;
  make_gsq(p)->refine(c.block(), c.io, test::quiet_context());
  check_on_grid(c.block(), init);
  CHECK_FALSE(at::equal(c.block().v_proj.compressed->quant().codes, init.at("v_proj").codes));
  CHECK(block_error(c.block(), c.io) < e0);

  BlockCase d = make_case(4);
  gptq_block(d.block(), d.io, 3);
  const auto init_d = snapshot(d.block());
  Value::Table pb = fast(2);
  pb["logits_dtype"] = "bf16";
  make_gsq(pb)->refine(d.block(), d.io, test::quiet_context());
  check_on_grid(d.block(), init_d);
}

TEST_CASE("GumbelQuantizer: init favours the GPTQ code, soft -> hard at low temperature, masked shifts",
          "[methods][gsq]") {
  auto f = test::make_layer(24, 32, 9);
  for (int64_t bits : {2, 3}) {
    CompressedLinear c = test::compress(
        "gptq", {{"bits", bits}, {"group_size", 16}, {"sym", true}, {"clip_search", true}, {"clip_neg_scale", true}}, f);
    const QuantCodes& q = c.quant();
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
    GumbelQuantizer gq(q, GumbelQuantizerOptions{}, gen);
    CHECK(gq.shifts_mode() == (bits >= 3));
    CHECK(gq.candidates() == (bits == 2 ? 4 : 5));
    // std 0.01, strength 6: the GPTQ code leads its neighbours by 0.03 against noise of std 0.014.
    const double same = gq.hard_codes().eq(q.codes.to(at::kFloat)).to(at::kFloat).mean().item<double>();
    CHECK(same > 0.9);
    at::NoGradGuard g;
    // Without noise and at a vanishing temperature the soft weights are the hard ones (same scales).
    at::Tensor soft = gq.soft_with_noise(1e-12, 1.0, at::zeros(gq.logits().sizes()));
    QuantCodes hard = gq.hard();
    CHECK(at::allclose(soft, hard.dequantize(), 0, 1e-6));
    // The Int quantizer's masked shifts: favour shift -2 everywhere; codes below 2 take the lowest
    // valid shift (argmax ties resolve to the first valid one), so the result is max(c0 - 2, 0).
    if (gq.shifts_mode()) {
      at::Tensor l = gq.logits().detach();
      l.zero_();
      l.select(0, 0).fill_(1.0);
      at::Tensor expect = (q.codes.to(at::kFloat) - 2).clamp_min(0);
      CHECK(at::equal(gq.hard_codes(), expect));
      CHECK(at::equal(gq.hard().codes.to(at::kFloat), expect));
    }
  }
}

TEST_CASE("gsq parameters are validated", "[methods][gsq]") {
  CHECK_THROWS_AS(make_gsq({{"lr_logits", 0.0}}), ConfigError);
  CHECK_THROWS_AS(make_gsq({{"logits_dtype", "fp16"}}), ConfigError);
  CHECK_THROWS_AS(make_gsq({{"epochs", -1}}), ConfigError);
  CHECK_THROWS_AS(test::make_compressor("gptq", {{"clip_neg_scale", true}}), ConfigError);
}
