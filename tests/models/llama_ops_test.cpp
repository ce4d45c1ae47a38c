#include "models/llama_ops.h"

#include <ATen/ATen.h>

#include <cmath>

#include "models/decoder_block.h"
#include "tests/models/models_test_util.h"

using repro::LlamaConfig;
using repro::RopeScaling;

namespace {

// Attention spelled out the way HF's eager path does it: repeat k/v, full score matrix, additive
// mask, fp32 softmax. q: [B, Hq, T, hd], k/v: [B, Hkv, T, hd].
at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t window) {
  const int64_t rep = q.size(1) / k.size(1), T = q.size(2);
  at::Tensor kr = k.repeat_interleave(rep, 1), vr = v.repeat_interleave(rep, 1);
  at::Tensor scores = at::matmul(q, kr.transpose(2, 3)) / std::sqrt(static_cast<double>(q.size(3)));
  at::Tensor mask = at::zeros({T, T});
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t s = 0; s < T; ++s) {
      if (s > t || (window > 0 && t - s >= window)) mask[t][s] = -1e30;
    }
  }
  return at::matmul(at::softmax(scores + mask, -1), vr);
}

}  // namespace

TEST_CASE("rms_norm matches its formula and computes in fp32", "[models][ops]") {
  at::Tensor x = at::randn({2, 3, 16}, at::kDouble);
  at::Tensor w = at::rand({16}, at::kDouble) + 0.5;
  const double eps = 1e-5;
  at::Tensor expected = x / at::sqrt(x.pow(2).mean(-1, true) + eps) * w;
  at::Tensor got = repro::rms_norm(x.to(at::kFloat), w.to(at::kFloat), eps);
  CHECK(got.scalar_type() == at::kFloat);
  CHECK(at::allclose(got.to(at::kDouble), expected, 1e-5, 1e-6));

  // bf16 inputs: the statistics are fp32, the result is bf16 and close to the exact value.
  at::Tensor gb = repro::rms_norm(x.to(at::kBFloat16), w.to(at::kBFloat16), eps);
  CHECK(gb.scalar_type() == at::kBFloat16);
  CHECK(at::allclose(gb.to(at::kDouble), expected, 2e-2, 2e-2));
  // Large values would overflow a half-precision sum of squares; fp32 statistics do not.
  at::Tensor big = at::full({1, 64}, 300.0, at::kHalf);
  at::Tensor gh = repro::rms_norm(big, at::ones({64}, at::kHalf), eps);
  CHECK(at::allclose(gh.to(at::kFloat), at::ones({1, 64}), 1e-3, 1e-3));
}

TEST_CASE("rope: rotating q and k by p and p+d gives the q.k of 0 and d", "[models][ops]") {
  LlamaConfig c = repro::test::tiny_config();
  c.head_dim = 16;
  at::Tensor inv_freq = repro::rope_inv_freq(c);
  REQUIRE(inv_freq.sizes() == at::IntArrayRef({8}));
  at::Tensor q = at::randn({1, 1, 1, 16}), k = at::randn({1, 1, 1, 16});
  auto rotated = [&](const at::Tensor& x, int64_t pos) {
    auto [cos, sin] = repro::rope_cos_sin(inv_freq, at::full({1}, pos, at::kLong), at::kFloat);
    return repro::apply_rope(x, cos, sin);
  };
  auto dot = [](const at::Tensor& a, const at::Tensor& b) { return (a * b).sum().item<double>(); };
  const double base = dot(rotated(q, 0), rotated(k, 5));
  for (int64_t p : {1, 7, 40, 100}) {
    INFO("p = " << p);
    CHECK(dot(rotated(q, p), rotated(k, p + 5)) == Approx(base).epsilon(1e-4).margin(1e-5));
  }
  // Position 0 is the identity, and a rotation keeps the norm.
  CHECK(at::allclose(rotated(q, 0), q));
  CHECK(rotated(q, 9).norm().item<double>() == Approx(q.norm().item<double>()).epsilon(1e-5));
  // It is a rotation, not the identity: the dot product does change with the distance.
  CHECK(std::abs(dot(rotated(q, 0), rotated(k, 6)) - base) > 1e-4);
}

TEST_CASE("rope uses HF's rotate_half pairing (i with i + hd/2)", "[models][ops]") {
  at::Tensor x = at::arange(1, 9, at::kFloat).reshape({1, 1, 1, 8});
  CHECK(at::equal(repro::rotate_half(x), at::tensor({-5.f, -6.f, -7.f, -8.f, 1.f, 2.f, 3.f, 4.f}).reshape({1, 1, 1, 8})));
  // With inv_freq = [1, 0, 0, 0] and position 1: dims 0 and 4 rotate by 1 radian, the rest stay.
  at::Tensor inv = at::tensor({1.f, 0.f, 0.f, 0.f});
  auto [cos, sin] = repro::rope_cos_sin(inv, at::ones({1}, at::kLong), at::kFloat);
  at::Tensor y = repro::apply_rope(x, cos, sin).flatten();
  CHECK(y[0].item<double>() == Approx(1 * std::cos(1.0) - 5 * std::sin(1.0)));
  CHECK(y[4].item<double>() == Approx(5 * std::cos(1.0) + 1 * std::sin(1.0)));
  CHECK(y[1].item<double>() == Approx(2.0));
  CHECK(y[7].item<double>() == Approx(8.0));
}

TEST_CASE("rope inverse frequencies: default, linear and llama3 scaling", "[models][ops]") {
  LlamaConfig c = repro::test::tiny_config();
  c.head_dim = 128;
  c.rope_theta = 500000.0;
  at::Tensor plain = repro::rope_inv_freq(c);
  REQUIRE(plain.size(0) == 64);
  // Default: 1 / theta^(2i / 128); i = 32 gives 1 / sqrt(500000).
  CHECK(plain[0].item<double>() == Approx(1.0));
  CHECK(plain[32].item<double>() == Approx(1.0 / std::sqrt(500000.0)).epsilon(1e-6));

  c.rope_scaling.type = RopeScaling::Type::kLinear;
  c.rope_scaling.factor = 4.0;
  CHECK(at::allclose(repro::rope_inv_freq(c), plain / 4.0));

  // Llama-3.1: factor 8, low 1, high 4, original context 8192, so wavelengths below
  // 8192 / 4 = 2048 stay, those above 8192 / 1 divide by 8, and in between
  //   s = (8192 / wavelen - 1) / (4 - 1),  f' = (1 - s) f / 8 + s f.
  // i = 32: f = 1/sqrt(500000) = 0.00141421356, wavelen = 2 pi / f = 4442.8829,
  //   s = (1.8438362 - 1) / 3 = 0.2812787, f' = 0.7187213 * f / 8 + 0.2812787 * f = 0.000524846161.
  c.rope_scaling = {RopeScaling::Type::kLlama3, 8.0, 1.0, 4.0, 8192};
  at::Tensor scaled = repro::rope_inv_freq(c);
  const std::vector<std::pair<int, double>> expected = {
      {0, 1.0},                       // wavelen 2 pi: high frequency, unchanged
      {20, 0.016560440080994446},     // wavelen 379: unchanged
      {29, 0.002166570763503359},     // wavelen 2402: interpolated, s = 0.8036
      {32, 0.0005248461609929547},    // worked out above
      {34, 0.00017850781276799638},   // wavelen 6695: interpolated, s = 0.0745
      {40, 3.428102195952591e-05},    // wavelen 22911: low frequency, f / 8
      {63, 3.068925988914511e-07},    // f / 8
  };
  for (auto [i, value] : expected) {
    INFO("index " << i);
    CHECK(scaled[i].item<double>() == Approx(value).epsilon(2e-6));
  }
}

TEST_CASE("blocked GQA attention equals the spelled-out reference", "[models][ops]") {
  // T = 300 spans two query blocks; 6 query heads share 2 key/value heads.
  at::Tensor q = at::randn({2, 6, 300, 8}), k = at::randn({2, 2, 300, 8}), v = at::randn({2, 2, 300, 8});
  CHECK(at::allclose(repro::causal_attention(q, k, v), reference_attention(q, k, v, 0), 1e-4, 1e-5));
  CHECK(at::allclose(repro::causal_attention(q, k, v, 17), reference_attention(q, k, v, 17), 1e-4, 1e-5));
  // The window matters (otherwise the check above proves nothing).
  CHECK(!at::allclose(repro::causal_attention(q, k, v, 17), reference_attention(q, k, v, 0), 1e-3, 1e-3));
}

TEST_CASE("a GQA block equals an MHA block with explicitly repeated k/v weights", "[models][ops]") {
  LlamaConfig gqa = repro::test::tiny_config();  // 4 query heads, 2 key/value heads
  LlamaConfig mha = gqa;
  mha.num_key_value_heads = 4;
  at::manual_seed(3);
  repro::DecoderBlock a(gqa, 0), b(mha, 0);
  for (repro::NamedParam& p : a.named_parameters()) *p.tensor = at::randn(p.shape) * 0.3;
  auto rep = [&](const at::Tensor& w) {  // [Hkv*hd, D] -> [Hq*hd, D], kv head g serving heads 2g, 2g+1
    return w.view({gqa.num_key_value_heads, gqa.head_dim, -1}).repeat_interleave(2, 0).reshape({-1, w.size(1)});
  };
  for (const std::string& name : repro::DecoderBlock::linear_names()) b.linear(name).weight = a.linear(name).weight;
  b.k_proj.weight = rep(a.k_proj.weight);
  b.v_proj.weight = rep(a.v_proj.weight);
  b.input_layernorm = a.input_layernorm;
  b.post_attention_layernorm = a.post_attention_layernorm;

  at::Tensor h = at::randn({2, 7, gqa.hidden_size});
  at::Tensor pos = at::arange(7, at::kLong);
  at::Tensor ya = a.forward(h, pos), yb = b.forward(h, pos);
  CHECK(at::allclose(ya, yb, 1e-5, 1e-5));
  // Per-batch position ids [B, T] give the same result as shared [T].
  CHECK(at::allclose(a.forward(h, pos.unsqueeze(0).expand({2, 7})), ya, 1e-6, 1e-6));
  // Repeating heads in the wrong order (tile instead of interleave) is detected.
  b.k_proj.weight = a.k_proj.weight.view({2, 8, -1}).repeat({2, 1, 1}).reshape({-1, gqa.hidden_size});
  CHECK(!at::allclose(b.forward(h, pos), ya, 1e-4, 1e-4));
}
