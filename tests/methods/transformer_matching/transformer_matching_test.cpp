#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <memory>

#include "methods/api/block_refiner.h"
#include "methods/common/topk.h"
#include "models/llama.h"
#include "tests/catch.h"
#include "tests/methods/method_test_util.h"
#include "tests/models/models_test_util.h"

using namespace repro;

namespace {

std::unique_ptr<BlockRefiner> make_tm(const Value::Table& params) {
  auto m = Registry<BlockRefiner>::instance().create("transformer_matching");
  m->configure(Params::validate(Value(params), m->info().params, "refiner"));
  return m;
}

// Compresses every linear of `block` with `method` (2:4), using the identity as its Hessian.
void compress_block(DecoderBlock& block, const std::string& method, const Value::Table& params) {
  at::NoGradGuard g;
  for (const std::string& name : DecoderBlock::linear_names()) {
    Linear& lin = block.linear(name);
    test::LayerFixture f;
    f.W = lin.weight.to(at::kFloat);
    f.X = at::randn({4 * f.W.size(1), f.W.size(1)});
    f.H = at::matmul(f.X.t(), f.X) * (2.0 / f.X.size(0));
    lin.compressed = std::make_shared<CompressedLinear>(test::compress(method, params, f));
    lin.weight = at::Tensor();
  }
}

}  // namespace

TEST_CASE("transformer_matching strictly lowers the block's output error and keeps every N:M group valid",
          "[methods][transformer_matching]") {
  struct Case {
    const char* method;
    Value::Table params;
  };
  const std::vector<Case> cases = {
      {"magnitude", {{"pattern", "2:4"}}},                                    // pure sparsity
      {"oats", {{"pattern", "2:4"}, {"rank", 2}, {"iterations", 5}}},         // S + LR
      {"threebasil", {{"pattern", "2:4"}, {"rank", 2}, {"max_iter", 50}}},  // S + LR
  };
  for (uint64_t seed : {1, 2}) {
    for (const Case& cs : cases) {
      at::manual_seed(seed);
      auto model = CausalLM::random(test::tiny_config(), seed);
      DecoderBlock& block = model->block(0);
      BlockIO io;
      io.inputs = at::randn({4, 12, 32});
      io.positions = at::arange(12, at::TensorOptions().dtype(at::kLong));
      io.batch_size = 2;
      {
        at::NoGradGuard g;
        io.targets = block.forward(io.inputs, io.positions);
      }
      compress_block(block, cs.method, cs.params);
      std::vector<int64_t> ranks;
      for (const std::string& name : DecoderBlock::linear_names())
        ranks.push_back(block.linear(name).compressed->has_low_rank() ? block.linear(name).compressed->U().size(1) : 0);
      auto error = [&] {
        at::NoGradGuard g;
        return (block.forward(io.inputs, io.positions) - io.targets).square().sum().item<double>();
      };
      const double e0 = error();
      make_tm({{"epochs", 6}, {"lr", 1e-3}})->refine(block, io, test::quiet_context());
      const double e1 = error();
      INFO(cs.method << " seed " << seed << " error " << e0 << " -> " << e1);
      CHECK(e1 < 0.9 * e0);
      size_t i = 0;
      for (const std::string& name : DecoderBlock::linear_names()) {
        const CompressedLinear& c = *block.linear(name).compressed;
        CHECK(satisfies_nm(c.mask(), {2, 4}, true));
        CHECK(c.sparse_values().masked_select(c.mask().logical_not()).abs().sum().item<double>() == 0.0);
        CHECK((c.has_low_rank() ? c.U().size(1) : 0) == ranks[i++]);
        CHECK_FALSE(c.sparse_values().requires_grad());
        if (c.has_low_rank()) CHECK_FALSE(c.U().requires_grad());
        CHECK(test::forward_mismatch(c) < 1e-5);
      }
      CHECK_FALSE(block.input_layernorm.requires_grad());
    }
  }
}

TEST_CASE("transformer_matching: epoch 0 only evaluates; parameters", "[methods][transformer_matching]") {
  auto model = CausalLM::random(test::tiny_config(), 3);
  DecoderBlock& block = model->block(0);
  compress_block(block, "magnitude", {{"pattern", "2:4"}});
  BlockIO io;
  io.inputs = at::randn({2, 6, 32});
  io.positions = at::arange(6, at::TensorOptions().dtype(at::kLong));
  io.targets = io.inputs.clone();
  io.batch_size = 1;
  at::Tensor before = block.q_proj.compressed->sparse_values().clone();
  make_tm({{"epochs", 1}})->refine(block, io, test::quiet_context());
  CHECK(at::equal(block.q_proj.compressed->sparse_values(), before));
  CHECK_THROWS_AS(make_tm({{"lr", 0.0}}), ConfigError);
}
