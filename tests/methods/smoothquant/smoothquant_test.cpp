#include "tests/catch.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "tests/methods/transform_test_util.h"

using namespace repro;

namespace {

// Per-channel max |x| of the inputs of block 0's q_proj and gate_proj on `tokens`.
std::pair<at::Tensor, at::Tensor> input_amax(CausalLM& model, const at::Tensor& tokens) {
  at::Tensor a, m;
  DecoderBlock& b = model.block(0);
  b.q_proj.on_input = [&a](const at::Tensor& x) { a = x.abs().reshape({-1, x.size(-1)}).amax(0); };
  b.gate_proj.on_input = [&m](const at::Tensor& x) { m = x.abs().reshape({-1, x.size(-1)}).amax(0); };
  model.forward(tokens);
  b.q_proj.on_input = nullptr;
  b.gate_proj.on_input = nullptr;
  return {a, m};
}

}  // namespace

TEST_CASE("smoothquant: zoo:micro computes the same logits; the scales follow Eq. 4",
          "[methods][smoothquant]") {
  at::NoGradGuard g;
  const at::Tensor calib = test::micro_tokens(4, 64, 5);
  const at::Tensor tokens = test::micro_tokens(2, 64, 6);
  for (double alpha : {0.5, 0.85}) {
    INFO("alpha " << alpha);
    auto model = test::load_micro();
    const at::Tensor ref = model->forward(tokens);
    auto [a_attn, a_mlp] = input_amax(*model, calib);
    DecoderBlock& b = model->block(0);
    const at::Tensor n1 = b.input_layernorm.clone(), n2 = b.post_attention_layernorm.clone();
    const at::Tensor wq = b.q_proj.weight.clone();
    at::Tensor wmax = at::maximum(at::maximum(b.q_proj.weight.abs().amax(0), b.k_proj.weight.abs().amax(0)),
                                  b.v_proj.weight.abs().amax(0));
    at::Tensor s = (a_attn.pow(alpha) / wmax.clamp_min(1e-5).pow(1 - alpha)).clamp_min(1e-5);

    test::apply_transform(*model, "smoothquant", {{"alpha", alpha}}, calib);
    CHECK(test::max_rel_diff(model->forward(tokens), ref) < 1e-4);
    CHECK(at::allclose(b.input_layernorm, n1 / s, 1e-5, 1e-7));
    CHECK(at::allclose(b.q_proj.weight, wq * s, 1e-5, 1e-7));
    // After smoothing, activation and weight ranges meet as Eq. 4 intends:
    // amax'_j = (amax_j wmax_j)^(1-alpha), wmax'_j = (amax_j wmax_j)^alpha, so amax'^alpha = wmax'^(1-alpha).
    auto [s_attn, s_mlp] = input_amax(*model, calib);
    at::Tensor wq_after = at::maximum(at::maximum(b.q_proj.weight.abs().amax(0), b.k_proj.weight.abs().amax(0)),
                                      b.v_proj.weight.abs().amax(0));
    at::Tensor wm_after = at::maximum(b.gate_proj.weight.abs().amax(0), b.up_proj.weight.abs().amax(0));
    CHECK(at::allclose(s_attn.pow(alpha), wq_after.pow(1 - alpha), 1e-4, 0));
    CHECK(at::allclose(s_mlp.pow(alpha), wm_after.pow(1 - alpha), 1e-4, 0));
    CHECK_FALSE(at::equal(b.post_attention_layernorm, n2));
  }
  auto model = test::load_micro();
  CHECK_THROWS_AS(test::apply_transform(*model, "smoothquant", {{"alpha", 1.5}}, calib), ConfigError);
}

TEST_CASE("smoothquant: per-token A4 loses less on a model with planted activation outliers",
          "[methods][smoothquant]") {
  at::NoGradGuard g;
  const at::Tensor calib = test::micro_tokens(4, 64, 9);
  const at::Tensor tokens = test::micro_tokens(2, 64, 10);
  // Outlier channels after both norms of every block (x30), compensated in the weights that read
  // them: the same function, with activation outliers like those of LLMs (arXiv 2211.10438 §3).
  auto planted = [&] {
    auto m = test::load_micro();
    at::Tensor f = at::ones({m->config().hidden_size});
    f.index_fill_(0, at::tensor({5, 50, 100}, at::TensorOptions().dtype(at::kLong)), 30.0);
    for (int64_t i = 0; i < m->num_layers(); ++i) {
      DecoderBlock& b = m->block(i);
      b.input_layernorm = b.input_layernorm * f;
      b.post_attention_layernorm = b.post_attention_layernorm * f;
      for (Linear* l : {&b.q_proj, &b.k_proj, &b.v_proj, &b.gate_proj, &b.up_proj}) l->weight = l->weight / f;
    }
    return m;
  };
  auto a4_loss = [&](bool smooth) {
    auto m = planted();
    const at::Tensor ref = m->forward(tokens);
    if (smooth) test::apply_transform(*m, "smoothquant", {{"alpha", 0.5}}, calib);
    test::apply_transform(*m, "act_quant", {{"a_bits", 4}}, calib);
    return (m->forward(tokens) - ref).square().mean().item<double>() / ref.var().item<double>();
  };
  const double plain = a4_loss(false), smoothed = a4_loss(true);
  INFO("relative logit MSE: plain " << plain << ", smoothed " << smoothed);
  CHECK(smoothed < 0.7 * plain);
}
