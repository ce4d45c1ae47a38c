// training/dp: the private training loop and its parts — Poisson lots (mean q n, variance
// n q (1 - q), empty lots), OneCycle landmarks, momentum SGD with update masks (masked coordinates
// bitwise unchanged), the crop + flip augmentation, SPARTA's row masks, and DpTrainer: one step
// with sigma 0, C = infinity, q = 1 is one SGD step on the mean loss; empty lots are noise-only
// steps that are accounted; sigma calibrated over all steps keeps epsilon under the target; the
// same seed gives the same run; a release epoch moves nothing.
#include "tests/catch.h"
#include "tests/test_util.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <map>
#include <numbers>

#include <torch/csrc/autograd/autograd.h>

#include "core/error.h"
#include "core/run_context.h"
#include "tests/toy_vision_model.h"
#include "training/dp/dp_sgd.h"
#include "training/dp/dp_trainer_loop.h"
#include "training/dp/image_augment.h"
#include "training/dp/momentum_sgd.h"
#include "training/dp/one_cycle_lr.h"
#include "training/dp/poisson_sampler.h"
#include "training/dp/sparse_masks.h"

using namespace repro;
using namespace repro::dp;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// libtorch 1.13 has no at::tensor of bools.
at::Tensor bools(std::initializer_list<int64_t> v) { return at::tensor(std::vector<int64_t>(v)).to(at::kBool); }

std::map<std::string, at::Tensor> snapshot(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

// Options for quick deterministic runs: no augmentation, sigma given.
DpTrainOptions quick(double sigma, int64_t lot_size, int64_t epochs) {
  DpTrainOptions o;
  o.noise_multiplier = sigma;
  o.lot_size = lot_size;
  o.physical_batch = 16;
  o.epochs = epochs;
  o.augment = false;
  o.lr = 0.05;
  o.head_lr = 0.1;
  return o;
}

}  // namespace

TEST_CASE("Poisson lots: size mean q n and variance n q (1 - q), sorted indices, empty lots", "[private][dp]") {
  const int64_t n = 2000, lots = 400;
  const double q = 0.05;
  PoissonSampler s(n, q, 17);
  std::vector<double> sizes;
  at::Tensor hits = at::zeros({n}, at::kLong);
  for (int64_t i = 0; i < lots; ++i) {
    const at::Tensor lot = s.next();
    REQUIRE(lot.dim() == 1);
    if (lot.numel() > 1) CHECK(lot.diff().gt(0).all().item<bool>());
    if (lot.numel() > 0) CHECK((lot.min().item<int64_t>() >= 0 && lot.max().item<int64_t>() < n));
    hits.index_add_(0, lot, at::ones_like(lot));
    sizes.push_back(static_cast<double>(lot.numel()));
  }
  const at::Tensor sz = at::tensor(sizes, at::kDouble);
  // Mean: standard error sqrt(n q (1 - q) / lots) = 0.49, so +-2.5 is five of them; the variance
  // estimate has a relative standard error of about sqrt(2 / lots) = 7%, so +-30% is four.
  CHECK(sz.mean().item<double>() == Approx(n * q).margin(2.5));
  CHECK(sz.var().item<double>() == Approx(n * q * (1 - q)).epsilon(0.3));
  // Every example is drawn independently at rate q: each one's count is Binomial(400, 0.05).
  CHECK(hits.to(at::kDouble).mean().item<double>() == Approx(lots * q).margin(0.2));

  // Small populations give empty lots: P(empty) = 0.9^10 = 0.349.
  PoissonSampler small(10, 0.1, 3);
  int64_t empty = 0;
  for (int i = 0; i < 400; ++i) empty += small.next().numel() == 0;
  CHECK(empty / 400.0 == Approx(std::pow(0.9, 10)).margin(0.12));
  CHECK(PoissonSampler(5, 0.0, 1).next().numel() == 0);
  CHECK(PoissonSampler(5, 1.0, 1).next().numel() == 5);
  // Same seed, same lots.
  PoissonSampler a(100, 0.3, 9), b(100, 0.3, 9);
  for (int i = 0; i < 5; ++i) CHECK(at::equal(a.next(), b.next()));
  // Secure seeds: two samplers given the same seed still draw different lots (the seed is ignored).
  PoissonSampler s1(1000, 0.5, 9, RandomSource::kSecureSeed), s2(1000, 0.5, 9, RandomSource::kSecureSeed);
  CHECK_FALSE(at::equal(s1.next(), s2.next()));
  CHECK(secure_seed() != secure_seed());
  CHECK(seed_for(RandomSource::kSeeded, 42) == 42);
  CHECK(std::string(random_source_name(RandomSource::kSeeded)) == "seeded");
  CHECK(random_source_from_name("secure_seed") == RandomSource::kSecureSeed);
  CHECK_THROWS_AS(random_source_from_name("secure"), ConfigError);

  // Opacus's plan: ceil(n / L) lots, q = 1 / that, expected lot int(q n).
  const LotPlan cifar = plan_lots(50000, 500);
  CHECK(cifar.lots_per_epoch == 100);
  CHECK(cifar.sample_rate == 0.01);
  CHECK(cifar.expected_lot_size == 500.0);
  const LotPlan odd = plan_lots(1000, 64);
  CHECK(odd.lots_per_epoch == 16);
  CHECK(odd.sample_rate == 0.0625);
  CHECK(odd.expected_lot_size == 62.0);
}

TEST_CASE("OneCycle: torch's landmarks (warm-up end, cosine midpoint, final lr, cycled momentum)", "[private][dp]") {
  OneCycleOptions o;  // torch defaults: pct_start 0.3, cos, momentum 0.95 -> 0.85 -> 0.95, div 25, final 1e4
  OneCycleSchedule s({1.0, 0.1}, 100, o);
  // Phase 1 ends at step pct_start * T - 1 = 29.
  CHECK(s.lr(0, 0) == Approx(1.0 / 25));
  CHECK(s.momentum(0, 0) == Approx(0.95));
  CHECK(s.lr(0, 29) == Approx(1.0));
  CHECK(s.momentum(0, 29) == Approx(0.85));
  CHECK(s.lr(1, 29) == Approx(0.1));
  // Phase 2 from 29 to 99: halfway (step 64) the cosine is at the mean of max and min.
  const double min_lr = 1.0 / 25 / 1e4;
  CHECK(s.lr(0, 64) == Approx((1.0 + min_lr) / 2));
  CHECK(s.momentum(0, 64) == Approx(0.9));
  CHECK(s.lr(0, 99) == Approx(min_lr));
  CHECK(s.momentum(0, 99) == Approx(0.95));
  CHECK(s.lr(0, 100) > min_lr);  // torch allows one step past the end, where the cosine turns back up
  CHECK_THROWS_AS(s.lr(0, 101), InternalError);
  // Inside the warm-up.
  CHECK(s.lr(0, 10) == Approx(1.0 - (1.0 - 0.04) / 2 * (std::cos(std::numbers::pi * 10 / 29.0) + 1)));
  OneCycleOptions lin = o;
  lin.cos_anneal = false;
  CHECK(OneCycleSchedule({1.0}, 100, lin).lr(0, 10) == Approx(0.04 + (1 - 0.04) * 10 / 29.0));
  // SPARTA: pct_start 0.02 over int(1.2 * 50) * 100 steps: the peak is at step 119.
  OneCycleOptions sp = o;
  sp.pct_start = 0.02;
  OneCycleSchedule sparta({0.01}, 6000, sp);
  CHECK(sparta.lr(0, 119) == Approx(0.01));
  CHECK(sparta.lr(0, 4999) > 1e3 * sparta.lr(0, 5999));  // stretched: far from the minimum after 50 epochs
}

TEST_CASE("momentum SGD: torch's recurrence; masked coordinates stay bitwise", "[private][dp]") {
  at::manual_seed(5);
  at::Tensor p = at::randn({4, 3});
  p[0][0] = -0.0;  // a signed zero outside the mask must survive
  const at::Tensor p0 = p.clone();
  at::Tensor mask = at::ones({4, 3}, at::kBool);
  mask[0].fill_(false);
  mask[2][1] = false;
  MomentumSgd sgd;
  at::Tensor buf;
  at::Tensor expect = p0.clone();
  const double lrs[3] = {0.1, 0.2, 0.05}, mus[3] = {0.9, 0.8, 0.95};
  for (int t = 0; t < 3; ++t) {
    const at::Tensor g = at::randn({4, 3});
    buf = t == 0 ? g.clone() : buf * mus[t] + g;
    expect = expect - lrs[t] * buf;
    sgd.step("w", p, g, lrs[t], mus[t], mask);
  }
  CHECK(at::allclose(p.masked_select(mask), expect.masked_select(mask), 1e-6, 1e-7));
  // Bitwise: compare the bytes of the masked-out entries.
  const at::Tensor frozen = mask.logical_not();
  CHECK(at::equal(p.masked_select(frozen).view(at::kInt), p0.masked_select(frozen).view(at::kInt)));
  CHECK(std::signbit(p[0][0].item<float>()));
  // momentum 0 keeps no buffer.
  MomentumSgd plain;
  at::Tensor q = at::zeros({2});
  plain.step("q", q, at::ones({2}), 0.5, 0.0);
  CHECK_FALSE(plain.has_buffer("q"));
  CHECK(at::allclose(q, at::full({2}, -0.5)));
}

TEST_CASE("crop + flip: every output is a flipped or plain crop of the padded input", "[private][dp]") {
  at::manual_seed(6);
  const at::Tensor x = at::randn({6, 2, 5, 5});
  at::Generator g = make_noise_generator(4);
  const std::vector<double> fill{-1.5, 2.0};
  const at::Tensor y = random_crop_flip(x, 2, fill, g);
  REQUIRE(y.sizes() == x.sizes());
  at::Tensor padded = at::empty({6, 2, 9, 9});
  padded.select(1, 0).fill_(-1.5);
  padded.select(1, 1).fill_(2.0);
  padded.narrow(2, 2, 5).narrow(3, 2, 5).copy_(x);
  int flipped = 0;
  for (int64_t b = 0; b < 6; ++b) {
    bool found = false;
    for (int64_t i = 0; i <= 4 && !found; ++i)
      for (int64_t j = 0; j <= 4 && !found; ++j) {
        const at::Tensor crop = padded[b].narrow(1, i, 5).narrow(2, j, 5);
        if (at::equal(crop, y[b])) found = true;
        if (at::equal(crop.flip({2}), y[b])) found = true, ++flipped;
      }
    CHECK(found);
  }
  // Padding 0 is a flip or the identity.
  const at::Tensor z = random_crop_flip(x, 0, {}, g);
  for (int64_t b = 0; b < 6; ++b) CHECK((at::equal(z[b], x[b]) || at::equal(z[b], x[b].flip({2}))));
}

TEST_CASE("row masks: the code's kept counts, SPARTA's row scores, magnitude masks", "[private][dp]") {
  CHECK(kept_count(10, 0.2) == 2);   // int(10 * 0.8) = 8 removed
  CHECK(kept_count(64, 0.2) == 13);  // int(51.2) = 51 removed
  CHECK(kept_count(7, 0.2) == 2);
  CHECK(kept_count(5, 1.0) == 5);
  CHECK(kept_count(5, 0.0) == 0);
  const at::Tensor scores = at::tensor({3.0, -1.0, 5.0, 3.0, 0.0});
  // 4 removed at density 0.2: -1, 0, then the tie at 3.0 goes in index order (index 0 first).
  CHECK(at::equal(keep_top_rows(scores, 0.2), bools({0, 0, 1, 0, 0})));
  CHECK(at::equal(keep_top_rows(scores, 0.4), bools({0, 0, 1, 1, 0})));
  // Row score max(0, sum of the row).
  const at::Tensor S = at::tensor({1.0, 2.0, -5.0, 1.0, 0.5, 0.5}).view({3, 2});
  CHECK(at::allclose(sparta_row_scores(S), at::tensor({3.0f, 0.0f, 1.0f})));
  // Magnitude masks of a [4, 2, 1, 1] weight: rows by L2 norm, or entries by |W|.
  const at::Tensor W = at::tensor({0.1, 0.1, 3.0, 0.0, -1.0, -1.0, 0.5, 0.2}).view({4, 2, 1, 1});
  const at::Tensor rows = magnitude_mask(W, 0.5, MaskGranularity::kRows);  // norms 0.14, 3, 1.41, 0.54
  CHECK(at::equal(rows.flatten(1).all(1), bools({0, 1, 1, 0})));
  CHECK(at::equal(rows.flatten(1).any(1), rows.flatten(1).all(1)));           // whole rows
  const at::Tensor el = magnitude_mask(W, 0.25, MaskGranularity::kElements);  // 6 of 8 removed
  CHECK(el.sum().item<int64_t>() == 2);
  CHECK(el.flatten()[2].item<bool>());
  CHECK((el.flatten()[4].item<bool>() || el.flatten()[5].item<bool>()));
}

TEST_CASE("sigma 0, C infinite, q 1: one DP step is one SGD step on the mean loss", "[private][dp]") {
  at::manual_seed(21);
  test::ToyVisionModel model(3);
  const LabeledImages data = test::toy_images(20, 3, 8);
  test::ToyVisionModel ref(3);
  for (const auto& p : model.named_parameters()) {
    at::NoGradGuard g;
    ref.named_parameters()[p.key()].copy_(p.value());
  }
  DpTrainOptions o = quick(0.0, 20, 1);  // lot = n: q = 1, L = 20
  o.max_grad_norm = kInf;
  o.physical_batch = 7;  // three micro-batches add up to the lot
  o.lr = 0.5;
  o.head_lr = 1.0;
  o.schedule.div_factor = 1.0;  // the first step runs at the peak lr ...
  o.schedule_stretch = 100;     // ... of a schedule long enough to start in its warm-up
  DpTrainer t(model, data, LabeledImages{}, o, test::quiet_context());
  REQUIRE(t.plan().sample_rate == 1.0);
  t.set_trainable(params_with_roles(model, {ParamRole::Head, ParamRole::Norm, ParamRole::Bias, ParamRole::Maskable}));
  const EpochRecord r = t.train_epoch();
  CHECK(r.steps == 1);
  CHECK(r.examples == 20);

  // The reference: mean cross-entropy, autograd, p -= lr0 g with OneCycle's first lr of each group.
  ref.offset.set_requires_grad(false);
  const at::Tensor loss = at::cross_entropy_loss(ref.forward(data.images), data.labels);
  loss.backward();
  const OneCycleSchedule schedule({o.head_lr, o.lr}, 100, o.schedule);
  const double head_lr0 = schedule.lr(0, 0), lr0 = schedule.lr(1, 0);
  REQUIRE(lr0 == Approx(0.5));
  for (const auto& p : ref.named_parameters()) {
    if (p.key() == "offset") {
      CHECK(at::equal(model.named_parameters()[p.key()], p.value()));
      continue;
    }
    const double lr = p.key().rfind("head.", 0) == 0 ? head_lr0 : lr0;
    const at::Tensor expect = p.value().detach() - lr * p.value().grad();
    INFO(p.key());
    CHECK(at::allclose(model.named_parameters()[p.key()], expect, 1e-5, 1e-6));
    CHECK_FALSE(at::equal(model.named_parameters()[p.key()], p.value()));  // it did move
  }
  CHECK(r.train_loss == Approx(loss.item<double>()).epsilon(1e-5));
}

TEST_CASE("empty lots are noise-only steps, counted by the accountant", "[private][dp]") {
  at::manual_seed(22);
  test::ToyVisionModel model(2);
  const LabeledImages data = test::toy_images(4, 2, 3);
  DpTrainOptions o = quick(1.0, 1, 6);  // n = 4, lot 1: q = 1/4, P(empty) = 0.75^4 = 0.32
  DpTrainer t(model, data, data, o, test::quiet_context());
  t.set_trainable(params_with_roles(model, {ParamRole::Head}));
  int64_t empty = 0, examples = 0;
  for (int64_t e = 0; e < o.epochs; ++e) {
    EpochRecord r = t.train_epoch();
    empty += r.empty_lots;
    examples += r.examples;
    CHECK(r.steps == 4);
    REQUIRE(t.end_epoch(r));
  }
  CHECK(empty > 0);
  CHECK(examples > 0);
  CHECK(t.accountant().total_steps() == 24);
  CHECK(t.record().steps == 24);
  CHECK(at::isfinite(model.head->weight).all().item<bool>());
}

TEST_CASE("sigma calibrated over all planned steps: epsilon stays under the target", "[private][dp]") {
  at::manual_seed(23);
  test::ToyVisionModel model(2);
  const LabeledImages data = test::toy_images(40, 2, 5);
  DpTrainOptions o = quick(-1.0, 8, 3);  // q = 1/5, 15 steps
  o.target_epsilon = 3.0;
  const DpTrainRecord r = train_private(model, data, data, o, params_with_roles(model, {ParamRole::Head}), test::quiet_context());
  CHECK(r.planned_steps == 15);
  CHECK(r.steps == 15);
  CHECK(r.accountant == "rdp");
  CHECK(r.randomness == "seeded");
  CHECK(r.epsilon <= 3.0);
  CHECK(r.epsilon >= 3.0 - 0.011);  // Opacus's bisection stops within 0.01 of the target
  CHECK(r.noise_multiplier == Approx(calibrate_noise_multiplier(3.0, 1e-5, 0.2, 15)));
  CHECK_FALSE(r.stopped_over_budget);
  REQUIRE(r.epochs.size() == 3);
  CHECK(r.epochs[0].epsilon < r.epochs[1].epsilon);
  CHECK(r.epochs[2].epsilon == r.epsilon);
  // requires_grad is restored: the toy model's parameters were all trainable before.
  for (const auto& p : model.named_parameters()) CHECK(p.value().requires_grad());
  // Giving both a target and a sigma, or neither, is a ConfigError.
  DpTrainOptions both = o;
  both.noise_multiplier = 1.0;
  CHECK_THROWS_AS(DpTrainer(model, data, data, both, test::quiet_context()), ConfigError);
}

TEST_CASE("the same seed gives the same run; another seed another", "[private][dp]") {
  const LabeledImages data = test::toy_images(48, 3, 11);
  auto run = [&](uint64_t seed, DpTrainRecord* rec) {
    at::manual_seed(31);
    auto m = std::make_shared<test::ToyVisionModel>(3);
    DpTrainOptions o = quick(0.8, 12, 2);
    o.augment = true;
    *rec = train_private(*m, data, data, o,
                         params_with_roles(*m, {ParamRole::Head, ParamRole::Norm, ParamRole::Maskable}), test::quiet_context(seed));
    return snapshot(*m);
  };
  DpTrainRecord r1, r2, r3;
  const auto a = run(1, &r1), b = run(1, &r2), c = run(2, &r3);
  for (const auto& [name, t] : a) {
    INFO(name);
    CHECK(at::equal(t, b.at(name)));
  }
  CHECK(r1.epochs.back().train_loss == r2.epochs.back().train_loss);
  CHECK(r1.test_accuracy == r2.test_accuracy);
  CHECK_FALSE(at::equal(a.at("head.weight"), c.at("head.weight")));
}

TEST_CASE("a release epoch spends privacy and moves nothing; with sigma 0 it is sum |sum clipped g| / L",
          "[private][dp]") {
  at::manual_seed(24);
  test::ToyVisionModel model(2);
  const LabeledImages data = test::toy_images(12, 2, 6);
  DpTrainOptions o = quick(0.0, 12, 1);  // q = 1: the one lot is the whole set
  DpTrainer t(model, data, data, o, test::quiet_context());
  t.set_trainable(params_with_roles(model, {ParamRole::Head, ParamRole::Maskable}));
  const auto before = snapshot(model);
  EpochRecord r;
  const auto S = t.release_epoch(ReleaseKind::kAbsOfSum, r);
  CHECK(r.phase == "select");
  CHECK(t.accountant().total_steps() == 1);
  for (const auto& [name, v] : before) CHECK(at::equal(v, model.named_parameters()[name]));
  REQUIRE(S.count("conv2.weight") == 1);
  CHECK(S.count("gn.weight") == 0);
  // Reference: per-example gradients by a loop, clipped to C = 1 jointly over the trainable set.
  std::vector<std::string> names{"conv1.weight", "conv2.weight", "head.bias", "head.weight"};
  std::map<std::string, at::Tensor> sum_clipped, sum_abs_clipped;
  for (int64_t i = 0; i < 12; ++i) {
    for (const auto& n : names) model.named_parameters()[n].set_requires_grad(true);
    const at::Tensor loss = at::cross_entropy_loss(model.forward(data.images.narrow(0, i, 1)),
                                                   data.labels.narrow(0, i, 1), {}, at::Reduction::Sum);
    std::vector<at::Tensor> ps;
    for (const auto& n : names) ps.push_back(model.named_parameters()[n]);
    const auto gs = torch::autograd::grad({loss}, ps);
    double sq = 0;
    for (const auto& g : gs) sq += g.square().sum().item<double>();
    const double c = std::min(1.0, 1.0 / (std::sqrt(sq) + 1e-6));
    for (size_t k = 0; k < names.size(); ++k) {
      auto& a = sum_clipped[names[k]];
      a = a.defined() ? a + c * gs[k] : c * gs[k];
      auto& b = sum_abs_clipped[names[k]];
      b = b.defined() ? b + (c * gs[k]).abs() : (c * gs[k]).abs();
    }
  }
  for (const auto& n : names) {
    INFO(n);
    CHECK(at::allclose(S.at(n), sum_clipped[n].abs() / 12.0, 1e-4, 1e-6));
  }
  const auto S2 = t.release_epoch(ReleaseKind::kSumOfAbs, r);
  for (const auto& n : names) CHECK(at::allclose(S2.at(n), sum_abs_clipped[n] / 12.0, 1e-4, 1e-6));
}

TEST_CASE("frozen parameters get no per-example gradients, even downstream of a trainable layer",
          "[private][dp]") {
  at::manual_seed(25);
  test::ToyVisionModel model(2);
  const LabeledImages data = test::toy_images(6, 2, 7);
  for (const auto& p : model.named_parameters()) p.value().set_requires_grad(false);
  model.conv1->bias.set_requires_grad(true);  // DP-BitFit-like: conv1's bias and the head train
  model.head->weight.set_requires_grad(true);
  clear_grad_samples(model);
  at::cross_entropy_loss(model.forward(data.images), data.labels, {}, at::Reduction::Sum).backward();
  CHECK_FALSE(model.conv1->grad_sample().weight.defined());
  REQUIRE(model.conv1->grad_sample().bias.defined());
  CHECK_FALSE(model.conv2->grad_sample().weight.defined());  // its output requires grad, its weight does not
  CHECK_FALSE(model.gn->grad_sample().weight.defined());
  CHECK_FALSE(model.head->grad_sample().bias.defined());
  const auto gs = collect_grad_samples(model);
  REQUIRE(gs.size() == 2);
  // The bias-only path equals the full computation's bias.
  model.conv1->weight.set_requires_grad(true);
  clear_grad_samples(model);
  at::cross_entropy_loss(model.forward(data.images), data.labels, {}, at::Reduction::Sum).backward();
  CHECK(at::allclose(model.conv1->grad_sample().bias, gs[0].grad_sample, 1e-5, 1e-7));
  for (const auto& p : model.named_parameters()) {
    p.value().mutable_grad().reset();
    p.value().set_requires_grad(true);
  }
}
