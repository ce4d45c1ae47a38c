#include "tests/catch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "models/fake_quant.h"
#include "models/llama.h"
#include "tests/models/models_test_util.h"

using namespace repro;

namespace {

// The grid of one row of values, written out element by element in fp32 (the definition in
// fake_quant.h), with std::nearbyint (round half to even).
std::vector<float> direct(const std::vector<float>& v, int bits, float clip, bool asym, bool include_zero) {
  float lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  std::vector<float> out(v.size());
  if (!asym) {
    const float maxq = static_cast<float>((1 << (bits - 1)) - 1);
    float m = std::max(-std::min(lo, 0.0f), std::max(hi, 0.0f)) * clip;
    float s = m > 0 ? m / maxq : 1.0f;
    for (size_t i = 0; i < v.size(); ++i) out[i] = std::clamp(std::nearbyint(v[i] / s), -maxq - 1, maxq) * s;
    return out;
  }
  const float maxq = static_cast<float>((1 << bits) - 1);
  if (include_zero) lo = std::min(lo, 0.0f), hi = std::max(hi, 0.0f);
  lo *= clip;
  hi *= clip;
  if (lo == hi) lo = std::min(lo, 0.0f), hi = std::max(hi, 0.0f);
  if (lo == 0 && hi == 0) lo = -1, hi = 1;
  const float s = (hi - lo) / maxq, z = std::nearbyint(-lo / s);
  for (size_t i = 0; i < v.size(); ++i) out[i] = (std::clamp(std::nearbyint(v[i] / s) + z, 0.0f, maxq) - z) * s;
  return out;
}

// x: [rows, n] fp32 -> the direct computation over groups of g.
at::Tensor direct_tensor(const at::Tensor& x, int64_t g, int bits, float clip, bool asym, bool include_zero) {
  at::Tensor c = x.contiguous(), out = at::empty_like(c);
  const float* p = c.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t start = 0; start < c.numel(); start += g) {
    std::vector<float> v(p + start, p + start + g);
    auto q = direct(v, bits, clip, asym, include_zero);
    std::copy(q.begin(), q.end(), o + start);
  }
  return out;
}

}  // namespace

TEST_CASE("fake_quant: 16 bits is the identity", "[models][fake_quant]") {
  at::Tensor x = at::randn({2, 5, 16});
  CHECK(fake_quant(x, {}).is_same(x));
  CHECK(at::equal(fake_quant_kv(x.view({2, 5, 2, 8}), {}), x.view({2, 5, 2, 8})));
}

TEST_CASE("fake_quant: per-token 4-bit equals the element-by-element definition", "[models][fake_quant]") {
  at::manual_seed(3);
  at::Tensor x = at::randn({6, 32}) * at::linspace(0.1, 4.0, 32);
  x[2].fill_(0.0f);   // an all-zero token
  x[3].fill_(0.75f);  // a constant token
  x[4].abs_();        // a positive token
  for (bool asym : {false, true})
    for (double clip : {1.0, 0.9}) {
      INFO("asym " << asym << " clip " << clip);
      FakeQuantSpec s{4, 0, clip, asym};
      at::Tensor got = fake_quant(x.view({2, 3, 32}), s).view({6, 32});
      CHECK(got.sub(direct_tensor(x, 32, 4, static_cast<float>(clip), asym, true)).abs().max().item<float>() < 1e-6);
      // At most 16 distinct levels per token.
      for (int64_t r = 0; r < 6; ++r) CHECK(std::get<0>(at::_unique(got[r])).numel() <= 16);
    }
  // 8 bits: the error per token is at most half a step of absmax / 127.
  at::Tensor y = fake_quant(x, {8, 0, 1.0, false});
  at::Tensor step = x.abs().amax(1, true) / 127;
  CHECK(((y - x).abs() <= step / 2 + 1e-7).all().item<bool>());
}

TEST_CASE("fake_quant_kv: group-wise asymmetric KV4 equals the direct computation", "[models][fake_quant]") {
  at::manual_seed(4);
  const int64_t B = 2, H = 2, T = 5, hd = 8;
  at::Tensor k = at::randn({B, H, T, hd}) + 0.5;
  // The per-token layout of a KV cache: [B, T, H * hd].
  at::Tensor flat = k.transpose(1, 2).reshape({B * T, H * hd});
  for (int64_t g : {hd, hd / 2, H * hd}) {
    INFO("group " << g);
    FakeQuantSpec s{4, g, 0.95, true};
    at::Tensor got = fake_quant_kv(k, s).transpose(1, 2).reshape({B * T, H * hd});
    at::Tensor want = direct_tensor(flat, g, 4, 0.95f, true, false);
    CHECK(got.sub(want).abs().max().item<float>() < 1e-6);
    // The quantization error is what the direct computation gives, and it is nonzero.
    CHECK((got - flat).square().sum().item<double>() == Approx((want - flat).square().sum().item<double>()));
    CHECK((got - flat).abs().max().item<float>() > 0);
  }
}

TEST_CASE("ForwardSim: fake quantization in the block forward, off when paused", "[models][fake_quant]") {
  auto model = CausalLM::random(test::tiny_config(), 5);
  at::Tensor tokens = at::randint(0, 97, {2, 12}, at::TensorOptions().dtype(at::kLong));
  at::NoGradGuard g;
  const at::Tensor ref = model->forward(tokens);
  auto set = [&](FakeQuantSpec act, FakeQuantSpec kv) {
    for (int64_t i = 0; i < model->num_layers(); ++i) {
      model->block(i).sim.act = act;
      model->block(i).sim.k = model->block(i).sim.v = kv;
    }
  };
  auto err = [&] { return (model->forward(tokens) - ref).abs().max().item<double>(); };
  set({16}, {16});
  CHECK(err() == 0);
  set({8}, {16});
  const double e8 = err();
  set({4}, {16});
  const double e4 = err();
  CHECK(e8 > 0);
  CHECK(e4 > e8);
  {
    QuantSimPause pause(*model);
    CHECK(err() == 0);
  }
  CHECK(err() == e4);
  set({16}, {4, 8, 0.95, true});
  CHECK(err() > 0);
  model->block(0).sim.quant_during_calibration = true;
  {
    QuantSimPause pause(*model);
    CHECK(err() > 0);  // block 0 keeps its KV quantization
  }
}
