// training/dp/dp_sgd: flat clipping bounds every example's joint norm by C and leaves small ones
// alone; without clipping and noise the privatised gradient is the batch gradient / L; the noise
// has std sigma C / L after normalisation and is the same for the same seed; empty lots.
#include "tests/catch.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include "core/error.h"
#include "training/dp/dp_sgd.h"
#include "training/dp/per_sample_layers.h"

using namespace repro;
using namespace repro::dp;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Per-example gradients of two "parameters" whose joint norms spread around 1.
std::vector<at::Tensor> spread_grads(int64_t B) {
  at::Tensor a = at::randn({B, 4, 3}), b = at::randn({B, 5});
  const at::Tensor norms = (a.square().sum({1, 2}) + b.square().sum(1)).sqrt();
  const at::Tensor target = at::linspace(0.2, 3.0, B);  // below and above C = 1
  const at::Tensor s = target / norms;
  return {a * s.view({B, 1, 1}), b * s.view({B, 1})};
}

}  // namespace

TEST_CASE("clipping bounds the joint per-example norm and keeps small gradients", "[dp][dp_sgd]") {
  at::manual_seed(11);
  const double C = 1.0;
  const auto g = spread_grads(16);
  const at::Tensor before = per_sample_norms(g);
  const auto clipped = clip_per_sample(g, C);
  const at::Tensor after = per_sample_norms(clipped);
  CHECK(after.max().item<double>() <= C + 1e-6);
  for (int64_t i = 0; i < 16; ++i) {
    const double n = before[i].item<double>();
    if (n < C - 1e-5) {
      CHECK(clipped[0][i].equal(g[0][i]));  // factor clamped to exactly 1
      CHECK(clipped[1][i].equal(g[1][i]));
    } else {
      CHECK(after[i].item<double>() == Approx(C).margin(1e-5));
    }
  }
  // The norm is joint: each part below C, the whole above, so both parts shrink.
  const std::vector<at::Tensor> parts{at::full({1, 4}, 0.4), at::full({1, 4}, 0.4)};  // norms 0.8 each, 1.13 joint
  const auto c = clip_per_sample(parts, C);
  CHECK(per_sample_norms(c).item<double>() == Approx(C).margin(1e-5));
  CHECK(c[0].max().item<double>() < 0.4);
  // The clipped sum is the sum of the clipped examples.
  const auto sums = clip_and_sum(g, C);
  CHECK(at::allclose(sums[0], clipped[0].sum(0), 1e-5, 1e-6));
  CHECK(at::allclose(sums[1], clipped[1].sum(0), 1e-5, 1e-6));
}

TEST_CASE("with sigma 0 and C infinite the privatised gradient is the batch gradient / L", "[dp][dp_sgd]") {
  at::manual_seed(12);
  torch::nn::Sequential net = with_grad_samples(
      torch::nn::Sequential(torch::nn::Linear(6, 5), torch::nn::Tanh(), torch::nn::Linear(5, 3)));
  const at::Tensor x = at::randn({9, 6}), r = at::randn({9, 3});
  clear_grad_samples(*net);
  (net->forward(x) * r).sum().backward();
  const auto gs = collect_grad_samples(*net);
  std::vector<at::Tensor> samples;
  for (const auto& g : gs) samples.push_back(g.grad_sample);
  DpSgdOptions o;
  o.max_grad_norm = kInf;
  o.noise_multiplier = 0.0;
  o.expected_lot_size = 12.5;  // the expected lot, not the 9 examples drawn
  at::Generator gen = make_noise_generator(0);
  const auto priv = privatize(samples, o, gen);
  REQUIRE(priv.size() == gs.size());
  for (size_t k = 0; k < gs.size(); ++k) {
    INFO(gs[k].name);
    CHECK(priv[k].sizes() == gs[k].param.sizes());
    CHECK(at::allclose(priv[k], gs[k].param.grad() / 12.5, 1e-5, 1e-7));
  }
}

TEST_CASE("DP noise has std sigma C / L and is fixed by the seed", "[dp][dp_sgd]") {
  // Zero gradients: the output is pure noise N(0, (sigma C / L)^2). With n = 400000 coordinates
  // the sample std is within 2% of the truth unless 2% / (1 / sqrt(2n)) ~ 18 standard errors
  // happen, and the seed fixes the draw anyway.
  const int64_t n = 400000;
  const std::vector<at::Tensor> zero{at::zeros({3, n / 4, 2}), at::zeros({3, n / 2})};
  DpSgdOptions o;
  o.max_grad_norm = 0.7;
  o.noise_multiplier = 1.3;
  o.expected_lot_size = 50.0;
  at::Generator gen = make_noise_generator(2025);
  const auto noisy = privatize(zero, o, gen);
  const double want = 1.3 * 0.7 / 50.0;
  for (const auto& t : noisy) {
    CHECK(t.std().item<double>() == Approx(want).epsilon(0.02));
    CHECK(std::abs(t.mean().item<double>()) < 0.02 * want);
  }
  // Same seed, same noise; another seed, other noise; the draws do not touch the global generator.
  at::Generator again = make_noise_generator(2025), other = make_noise_generator(2026);
  at::manual_seed(1);
  const auto same = privatize(zero, o, again);
  const auto diff = privatize(zero, o, other);
  for (size_t k = 0; k < noisy.size(); ++k) {
    CHECK(same[k].equal(noisy[k]));
    CHECK_FALSE(diff[k].equal(noisy[k]));
  }
  // An empty lot is a noise-only step with the parameters' shapes.
  const std::vector<at::Tensor> empty{at::zeros({0, 4, 3}), at::zeros({0, 5})};
  at::Generator g3 = make_noise_generator(3);
  const auto e = privatize(empty, o, g3);
  CHECK(e[0].sizes() == at::IntArrayRef({4, 3}));
  CHECK(e[1].sizes() == at::IntArrayRef({5}));
  CHECK(e[0].abs().sum().item<double>() > 0);
}

TEST_CASE("DP-SGD options out of range are ConfigErrors", "[dp][dp_sgd]") {
  const std::vector<at::Tensor> g{at::ones({2, 3})};
  at::Generator gen = make_noise_generator(0);
  DpSgdOptions o;
  o.max_grad_norm = kInf;
  o.noise_multiplier = 1.0;  // noise std sigma * C would be infinite
  CHECK_THROWS_AS(privatize(g, o, gen), ConfigError);
  o.max_grad_norm = 0.0;
  CHECK_THROWS_AS(privatize(g, o, gen), ConfigError);
  o.max_grad_norm = 1.0;
  o.expected_lot_size = 0.0;
  CHECK_THROWS_AS(privatize(g, o, gen), ConfigError);
}
