// training/: AdamW against libtorch's own AdamW, the learning-rate schedule and gradient clipping
// against their formulas, and the LM training loop (it learns; an interrupted run resumes to the
// same weights as an uninterrupted one, also when killed in the middle of a checkpoint swap).
#include "tests/catch.h"

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>

#include <torch/optim/adamw.h>

#include "core/error.h"
#include "core/run_context.h"
#include "models/llama.h"
#include "tests/models/models_test_util.h"
#include "tests/test_util.h"
#include "training/adamw.h"
#include "training/train_lm.h"

using namespace repro;
namespace fs = std::filesystem;

TEST_CASE("AdamW matches libtorch's AdamW step for step", "[training][adamw]") {
  at::manual_seed(3);
  at::Tensor a = at::randn({4, 5}), b = at::randn({5});
  at::Tensor ra = a.clone().set_requires_grad(true), rb = b.clone().set_requires_grad(true);
  at::Tensor oa = a.clone().set_requires_grad(true), ob = b.clone().set_requires_grad(true);

  AdamWOptions o;
  o.lr = 0.05, o.beta1 = 0.9, o.beta2 = 0.95, o.eps = 1e-8, o.weight_decay = 0.1;
  // Ours decays only `a`; libtorch gets `b` in a group without decay.
  AdamW ours({{"a", oa}, {"b", ob}}, {"a"}, o);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<at::Tensor>{ra},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(0.1)));
  groups.emplace_back(std::vector<at::Tensor>{rb},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(0.0)));
  torch::optim::AdamW ref(std::move(groups), torch::optim::AdamWOptions(o.lr));

  for (int step = 0; step < 6; ++step) {
    at::Tensor ga = at::randn({4, 5}), gb = at::randn({5});
    oa.mutable_grad() = ga.clone(), ob.mutable_grad() = gb.clone();
    ra.mutable_grad() = ga.clone(), rb.mutable_grad() = gb.clone();
    ours.step(o.lr);
    ref.step();
  }
  CHECK(ours.steps() == 6);
  CHECK(at::allclose(oa, ra, 1e-5, 1e-6));
  CHECK(at::allclose(ob, rb, 1e-5, 1e-6));
  CHECK_FALSE(at::allclose(oa, a, 1e-3, 1e-3));  // it did move
}

TEST_CASE("warmup + cosine schedule hits its end points", "[training][schedule]") {
  const double peak = 2e-3, floor = 2e-4;
  CHECK(warmup_cosine_lr(0, 10, 110, peak, floor) == Approx(peak / 10));
  CHECK(warmup_cosine_lr(9, 10, 110, peak, floor) == Approx(peak));
  CHECK(warmup_cosine_lr(10, 10, 110, peak, floor) == Approx(peak));
  CHECK(warmup_cosine_lr(60, 10, 110, peak, floor) == Approx((peak + floor) / 2));
  CHECK(warmup_cosine_lr(110, 10, 110, peak, floor) == Approx(floor));
  double prev = peak;
  for (int64_t s = 10; s <= 110; ++s) {
    const double lr = warmup_cosine_lr(s, 10, 110, peak, floor);
    CHECK(lr <= prev + 1e-15);
    prev = lr;
  }
}

TEST_CASE("gradient clipping scales to the global norm", "[training][clip]") {
  at::Tensor p = at::zeros({2}).set_requires_grad(true), q = at::zeros({1}).set_requires_grad(true);
  p.mutable_grad() = at::tensor({3.0f, 0.0f});
  q.mutable_grad() = at::tensor({4.0f});
  CHECK(clip_grad_norm({p, q}, 1.0) == Approx(5.0));
  CHECK(p.grad()[0].item<double>() == Approx(0.6).epsilon(1e-4));
  CHECK(q.grad()[0].item<double>() == Approx(0.8).epsilon(1e-4));
  CHECK(clip_grad_norm({p, q}, 10.0) == Approx(1.0).epsilon(1e-4));  // below the bound: untouched
  CHECK(q.grad()[0].item<double>() == Approx(0.8).epsilon(1e-4));
}

namespace {

// A stream with a learnable rule: a repeating pseudo-random cycle of 24 tokens.
at::Tensor cyclic_stream(int64_t n) {
  at::Tensor cycle = at::randperm(24, at::TensorOptions().dtype(at::kLong)) + 3;
  return cycle.repeat({n / 24 + 1}).narrow(0, 0, n).contiguous();
}

TrainOptions small_options() {
  TrainOptions o;
  o.seqlen = 32;
  o.batch_size = 8;
  o.steps = 40;
  o.warmup = 4;
  o.lr = 1e-2;
  o.min_lr = 1e-3;
  o.eval_every = 20;
  o.checkpoint_every = 10;
  o.seed = 5;
  return o;
}

at::Tensor flat_weights(CausalLM& m) {
  std::vector<at::Tensor> parts;
  for (auto& np : m.named_parameters())
    if (np.tensor && np.tensor->defined()) parts.push_back(np.tensor->detach().reshape({-1}));
  return at::cat(parts);
}

}  // namespace

TEST_CASE("LM training learns, and an interrupted run resumes to the same weights", "[training][train_lm]") {
  at::manual_seed(11);
  at::Tensor stream = cyclic_stream(4000);
  at::Tensor valid = stream.narrow(0, 7, 32 * 4).reshape({4, 32}).clone();
  RunOptions ro;
  ro.progress = false;
  ro.log_level = "off";
  RunContext ctx(ro);
  test::TempDir whole, split;

  auto fresh = [] { return CausalLM::random(test::tiny_config(), 9); };
  auto m0 = fresh();
  const double ppl0 = std::exp(mean_next_token_loss(*m0, valid, 4));

  auto m_whole = fresh();
  TrainResult r = train_causal_lm(*m_whole, stream, valid, small_options(), whole.path(), ctx);
  CHECK(r.finished);
  CHECK(r.steps == 40);
  INFO("held-out perplexity " << ppl0 << " -> " << r.final_valid_ppl);
  CHECK(r.final_valid_ppl < ppl0 / 4);  // a 24-token cycle is easy to learn
  CHECK(fs::exists(whole.path() / "log.csv"));

  // Interrupted at step 10 (a checkpoint boundary) and again at 25 (not one: the stop checkpoints).
  TrainOptions o = small_options();
  o.stop_after = 10;
  auto m1 = fresh();
  TrainResult r1 = train_causal_lm(*m1, stream, valid, o, split.path(), ctx);
  CHECK_FALSE(r1.finished);
  CHECK(r1.steps == 10);
  o.stop_after = 25;
  auto m2 = fresh();
  TrainResult r2 = train_causal_lm(*m2, stream, valid, o, split.path(), ctx);
  CHECK(r2.steps == 25);
  {  // asking to stop at a step already passed trains nothing
    TrainOptions again = o;
    again.stop_after = 20;
    auto m = fresh();
    TrainResult r = train_causal_lm(*m, stream, valid, again, split.path(), ctx);
    CHECK(r.steps == 25);
    CHECK_FALSE(r.finished);
  }
  // Killed between the two renames of a checkpoint swap: only checkpoint.old is left.
  fs::rename(split.path() / "checkpoint", split.path() / "checkpoint.old");
  o.stop_after = 0;
  auto m3 = fresh();
  TrainResult r3 = train_causal_lm(*m3, stream, valid, o, split.path(), ctx);
  CHECK(r3.finished);
  CHECK(at::allclose(flat_weights(*m3), flat_weights(*m_whole), 1e-5, 1e-6));
  CHECK(r3.final_valid_ppl == Approx(r.final_valid_ppl).epsilon(1e-4));
  CHECK(r3.log.size() == r.log.size());

  // A checkpoint made with other options is not resumed silently.
  TrainOptions other = small_options();
  other.lr = 5e-3;
  auto m4 = fresh();
  CHECK_THROWS_AS(train_causal_lm(*m4, stream, valid, other, split.path(), ctx), ConfigError);
}
