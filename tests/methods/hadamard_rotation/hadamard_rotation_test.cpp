#include "tests/catch.h"

#include <ATen/ATen.h>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "models/hadamard.h"
#include "tests/methods/transform_test_util.h"
#include "tests/models/models_test_util.h"

using namespace repro;

namespace {

// Mean over the block linears of max|W| / rms(W): how far the largest weight stands out.
double mean_peak_ratio(CausalLM& model) {
  double sum = 0;
  int n = 0;
  for (int64_t i = 0; i < model.num_layers(); ++i)
    for (const auto& name : DecoderBlock::linear_names()) {
      const at::Tensor W = model.block(i).linear(name).weight;
      sum += W.abs().max().item<double>() / W.square().mean().sqrt().item<double>();
      ++n;
    }
  return sum / n;
}

// Every block linear replaced by its RTN W`bits` per-channel form.
void rtn_all(CausalLM& model, int bits) {
  auto rtn = test::make_compressor("rtn", {{"bits", bits}, {"group_size", -1}, {"sym", true}});
  for (int64_t i = 0; i < model.num_layers(); ++i)
    for (const auto& name : DecoderBlock::linear_names()) {
      Linear& l = model.block(i).linear(name);
      LayerProblem p;
      p.name = name;
      p.W = l.weight;
      l.compressed = std::make_shared<CompressedLinear>(rtn->compress(p, test::quiet_context()));
      l.weight = at::Tensor();
    }
}

}  // namespace

TEST_CASE("hadamard_rotation: zoo:micro computes the same logits",
          "[methods][hadamard_rotation]") {
  at::NoGradGuard g;
  const at::Tensor tokens = test::micro_tokens(2, 64, 1);
  for (bool ov : {true, false})
    for (bool qk : {true, false})
      for (bool down : {true, false}) {
        INFO("rotate_ov " << ov << " rotate_qk " << qk << " rotate_down " << down);
        auto model = test::load_micro();
        REQUIRE(model->config().tie_word_embeddings);
        const at::Tensor ref = model->forward(tokens);
        test::apply_transform(*model, "hadamard_rotation",
                              {{"rotate_ov", ov}, {"rotate_qk", qk}, {"rotate_down", down}}, tokens);
        // Logits agree to 1e-4 of the largest logit (fp32 weights, fp64 rotations).
        CHECK(test::max_rel_diff(model->forward(tokens), ref) < 1e-4);
        CHECK_FALSE(model->config().tie_word_embeddings);  // the final norm went into lm_head only
        CHECK(at::equal(model->norm, at::ones_like(model->norm)));
        CHECK(model->block(0).sim.down_hadamard == down);
      }
}

TEST_CASE("hadamard_rotation: twice is an error; unsupported sizes name the dimension",
          "[methods][hadamard_rotation]") {
  auto model = test::load_micro();
  const at::Tensor tokens = test::micro_tokens(1, 8, 2);
  test::apply_transform(*model, "hadamard_rotation", {}, tokens);
  CHECK_THROWS_AS(test::apply_transform(*model, "hadamard_rotation", {}, tokens), ConfigError);

  LlamaConfig c = test::tiny_config();
  c.intermediate_size = 43 * 4;  // 172 = 4 * 43: no Paley matrix
  auto odd = CausalLM::random(c, 1);
  const std::string msg = test::error_of<NotSupported>(
      [&] { test::apply_transform(*odd, "hadamard_rotation", {}, tokens.remainder(97)); });
  CHECK_CONTAINS(msg, "intermediate_size = 172");
  // Without the online down_proj rotation that dimension does not matter.
  test::apply_transform(*odd, "hadamard_rotation", {{"rotate_down", false}}, tokens.remainder(97));
}

TEST_CASE("hadamard_rotation: on a model with planted weight outliers, more incoherent weights and a lower RTN W4 loss",
          "[methods][hadamard_rotation]") {
  at::NoGradGuard g;
  const at::Tensor tokens = test::micro_tokens(4, 64, 3);
  // Plant a few large weights in every block linear (1 in 2000 entries, x12): the per-channel
  // grids of their rows get coarse. The rotation spreads each over its row (arXiv 2404.00456 §3).
  auto planted = [&] {
    auto m = test::load_micro();
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
    for (int64_t i = 0; i < m->num_layers(); ++i)
      for (const auto& name : DecoderBlock::linear_names()) {
        at::Tensor& W = m->block(i).linear(name).weight;
        at::Tensor pick = at::rand(W.sizes(), gen).lt(1.0 / 2000);
        W = at::where(pick, W * 12, W);
      }
    return m;
  };
  // Mean squared logit error of RTN W4 against the same model in full precision, relative to the
  // logits' variance.
  // zoo:micro's own weights are already about as incoherent as Gaussian ones (max/rms 4.5 where a
  // Gaussian [384, 128] matrix gives about 4.6), so the rotation cannot flatten them further; the
  // planted outliers it does spread.
  {
    auto m = planted();
    const double before = mean_peak_ratio(*m);
    test::apply_transform(*m, "hadamard_rotation", {}, tokens);
    const double after = mean_peak_ratio(*m);
    INFO("mean max/rms: planted " << before << ", rotated " << after);
    CHECK(after < 0.7 * before);
  }
  auto rtn_loss = [&](bool rotate) {
    auto m = planted();
    if (rotate) test::apply_transform(*m, "hadamard_rotation", {}, tokens);
    const at::Tensor ref = m->forward(tokens);
    rtn_all(*m, 4);
    return (m->forward(tokens) - ref).square().mean().item<double>() / ref.var().item<double>();
  };
  const double plain = rtn_loss(false), rotated = rtn_loss(true);
  INFO("relative logit MSE: plain " << plain << ", rotated " << rotated);
  CHECK(rotated < 0.7 * plain);
}
