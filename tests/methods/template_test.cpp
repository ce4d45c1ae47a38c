// The template plugin's spec test — copy it with the template.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include <ATen/core/grad_mode.h>

#include "core/run_context.h"
#include "methods/api/block_refiner.h"
#include "methods/api/layer_compressor.h"
#include "methods/api/mask_solver.h"
#include "methods/api/model_transform.h"
#include "methods/common/topk.h"
#include "models/llama.h"
#include "tests/models/models_test_util.h"

using namespace repro;

TEST_CASE("_template_example: keeps the requested fraction per row and beats random on its own score",
          "[methods][template]") {
  at::manual_seed(0);
  at::Tensor W = at::randn({16, 32});
  at::Tensor X = at::randn({256, 32}) * at::linspace(0.1, 3.0, 32);
  LayerProblem p;
  p.W = W;
  p.H = at::matmul(X.t(), X) * (2.0 / 256);
  RunOptions o;
  o.log_level = "off";
  RunContext ctx(o);
  auto m = Registry<LayerCompressor>::instance().create("_template_example");
  m->configure(Params::validate(Value(Value::Table{{"keep", Value(0.25)}}), m->info().params, "compressor"));
  CompressedLinear c = m->compress(p, ctx);
  // Exactly 8 of 32 kept in every row.
  CHECK(at::equal(c.mask().sum(1), at::full({16}, 8, at::kLong)));
  // The forward from the compressed form equals x W_hat^T.
  CHECK(at::allclose(c.forward(X), at::matmul(X, c.dense().t()), 1e-4, 1e-5));
  // Its layer error is below that of a random mask with the same density.
  auto err = [&](const at::Tensor& What) {
    at::Tensor D = W - What;
    return at::trace(at::matmul(at::matmul(D, p.H), D.t())).item<double>();
  };
  at::Tensor rnd = at::rand({16, 32}).argsort(int64_t{1}).lt(8);
  CHECK(err(c.dense()) < err(W * rnd));
  // Bad parameters are a ConfigError.
  CHECK_THROWS_AS(m->configure(Params::validate(Value(Value::Table{{"keep", Value(1.5)}}), m->info().params, "c")),
                  ConfigError);
}

namespace {

RunContext& quiet() {
  static RunContext ctx([] {
    RunOptions o;
    o.log_level = "off";
    o.progress = false;
    return o;
  }());
  return ctx;
}

template <class Family>
std::unique_ptr<Family> make(const std::string& name, Value::Table params = {}) {
  auto m = Registry<Family>::instance().create(name);
  m->configure(Params::validate(Value(std::move(params)), m->info().params, name));
  return m;
}

}  // namespace

TEST_CASE("_template_mask_solver: N of every M, the largest scores", "[methods][template]") {
  at::manual_seed(1);
  at::Tensor s = at::randn({8, 32});
  at::Tensor mask = make<MaskSolver>("_template_mask_solver")->solve(s, {2, 4}, quiet());
  CHECK(satisfies_nm(mask, {2, 4}, /*exact=*/true));
  CHECK(at::equal(mask, nm_topk_mask(s, {2, 4})));
}

TEST_CASE("_template_transform: the model computes the same function", "[methods][template]") {
  auto model = CausalLM::random(test::tiny_config(), 3);
  at::Tensor tokens = at::randint(0, 48, {2, 12}, at::TensorOptions().dtype(at::kLong));
  at::NoGradGuard g;
  at::Tensor before = model->forward(tokens);
  at::Tensor q_before = model->block(0).q_proj.weight.clone();
  make<ModelTransform>("_template_transform", {{"factor", 4.0}})->apply(*model, tokens, quiet());
  CHECK(at::allclose(model->block(0).q_proj.weight, q_before / 4.0));
  CHECK(at::allclose(model->forward(tokens), before, 1e-4, 1e-4));
}

TEST_CASE("_template_refiner: lowers the block's error against its dense targets", "[methods][template]") {
  auto model = CausalLM::random(test::tiny_config(), 4);
  DecoderBlock& block = model->block(0);
  at::Tensor x = at::randn({4, 12, 32});
  BlockIO io;
  io.inputs = x;
  io.positions = at::arange(12, at::TensorOptions().dtype(at::kLong));
  io.batch_size = 2;
  {
    at::NoGradGuard g;
    for (const auto& name : DecoderBlock::linear_names()) block.linear(name).weight.mul_(10);  // norms matter
    io.targets = block.forward(x, io.positions);
    block.input_layernorm.mul_(0.5);  // the "compressed" block: its norm is off
  }
  auto error = [&] {
    at::NoGradGuard g;
    return (block.forward(x, io.positions) - io.targets).square().sum().item<double>();
  };
  const double e0 = error();
  make<BlockRefiner>("_template_refiner", {{"steps", 30}, {"lr", 0.01}})->refine(block, io, quiet());
  CHECK(error() < 0.5 * e0);
  CHECK_FALSE(block.input_layernorm.requires_grad());
}
