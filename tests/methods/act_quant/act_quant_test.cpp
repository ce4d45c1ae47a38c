#include "tests/catch.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "models/fake_quant.h"
#include "tests/methods/transform_test_util.h"
#include "tests/models/models_test_util.h"

using namespace repro;

TEST_CASE("act_quant: 16 bits is the identity; fewer bits cost more; settings land on every block",
          "[methods][act_quant]") {
  at::NoGradGuard g;
  const at::Tensor tokens = test::micro_tokens(2, 64, 7);
  auto model = test::load_micro();
  const at::Tensor ref = model->forward(tokens);
  test::apply_transform(*model, "act_quant", {}, tokens);
  CHECK(at::equal(model->forward(tokens), ref));

  auto err = [&](const Value::Table& p) {
    auto m = test::load_micro();
    test::apply_transform(*m, "act_quant", p, tokens);
    return test::max_rel_diff(m->forward(tokens), ref);
  };
  const double a8 = err({{"a_bits", 8}}), a4 = err({{"a_bits", 4}});
  const double kv8 = err({{"kv_bits", 8}}), kv4 = err({{"kv_bits", 4}});
  CHECK(a8 > 0);
  CHECK(a4 > a8);
  CHECK(kv8 > 0);
  CHECK(kv4 > kv8);

  auto m = test::load_micro();
  test::apply_transform(*m, "act_quant", {{"a_bits", 4}, {"a_clip", 0.9}, {"kv_bits", 4}}, tokens);
  for (int64_t i = 0; i < m->num_layers(); ++i) {
    const ForwardSim& s = m->block(i).sim;
    CHECK(s.act.bits == 4);
    CHECK(s.act.clip == 0.9);
    CHECK(s.act.group == 0);
    CHECK_FALSE(s.act.asym);
    CHECK(s.k.bits == 4);
    CHECK(s.v.group == m->config().head_dim);  // kv_group = 0 means head_dim
    CHECK(s.k.clip == 0.95);
    CHECK(s.k.asym);
    CHECK_FALSE(s.quant_during_calibration);
  }
  {
    QuantSimPause pause(*m);  // the engine's calibration: full precision again
    CHECK(at::equal(m->forward(tokens), ref));
  }
}

TEST_CASE("act_quant: W16A4 of a linear input is the per-token grid of that input", "[methods][act_quant]") {
  // Block 0's q_proj sees fake_quant(n1(x)) exactly: compare with the hook of an unquantized model.
  at::NoGradGuard g;
  const at::Tensor tokens = test::micro_tokens(1, 16, 8);
  auto plain = test::load_micro();
  auto quant = test::load_micro();
  test::apply_transform(*quant, "act_quant", {{"a_bits", 4}}, tokens);
  at::Tensor x, xq;
  plain->block(0).q_proj.on_input = [&x](const at::Tensor& t) { x = t.clone(); };
  quant->block(0).q_proj.on_input = [&xq](const at::Tensor& t) { xq = t.clone(); };
  plain->forward(tokens);
  quant->forward(tokens);
  CHECK(at::equal(xq, fake_quant(x, {4, 0, 1.0, false})));
}

TEST_CASE("act_quant: kv_group must split heads or cover whole heads", "[methods][act_quant]") {
  auto model = CausalLM::random(test::tiny_config(), 2);  // head_dim 8, 2 key/value heads
  const at::Tensor tokens = at::zeros({1, 4}, at::TensorOptions().dtype(at::kLong));
  for (int64_t ok : {0, 4, 8, 16}) test::apply_transform(*model, "act_quant", {{"kv_bits", 4}, {"kv_group", ok}}, tokens);
  for (int64_t bad : {3, 12, 32}) {
    INFO("kv_group " << bad);
    CHECK_THROWS_AS(test::apply_transform(*model, "act_quant", {{"kv_bits", 4}, {"kv_group", bad}}, tokens),
                    ConfigError);
  }
  CHECK_THROWS_AS(test::apply_transform(*model, "act_quant", {{"a_bits", 12}}, tokens), ConfigError);
  CHECK_THROWS_AS(test::apply_transform(*model, "act_quant", {{"kv_clip", 0.0}}, tokens), ConfigError);
}
