#include "training/dp/dp_trainer_loop.h"

#include <ATen/ATen.h>

#include <ATen/core/grad_mode.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/error.h"
#include "core/run_context.h"
#include "training/dp/dp_sgd.h"
#include "training/dp/image_augment.h"
#include "training/dp/per_sample_layers.h"

namespace repro::dp {

namespace {

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

void check_options(const DpTrainOptions& o) {
  auto fail = [](const std::string& what) { throw ConfigError("private training: " + what); };
  if (o.physical_batch < 1) fail("physical_batch must be >= 1");
  if (o.epochs < 1) fail("epochs must be >= 1");
  if (o.eval_batch < 1) fail("eval_batch must be >= 1");
  if (!(o.lr >= 0.0) || !(o.head_lr >= 0.0)) fail("learning rates must be >= 0");
  if (!(o.momentum >= 0.0 && o.momentum < 1.0)) fail("momentum must be in [0, 1)");
  if (!(o.delta > 0.0 && o.delta < 1.0)) fail("delta " + num(o.delta) + " must be in (0, 1)");
  if (!(o.max_grad_norm > 0.0)) fail("max_grad_norm must be > 0");
  if (!(o.schedule_stretch >= 1.0)) fail("schedule_stretch must be >= 1 (OneCycle cannot run past its last step)");
  if (o.crop_padding < 0) fail("crop_padding must be >= 0");
  if (o.target_epsilon > 0.0 && o.noise_multiplier >= 0.0)
    fail("give either a target epsilon (sigma is calibrated) or a noise multiplier, not both");
  if (!(o.target_epsilon > 0.0) && !(o.noise_multiplier >= 0.0))
    fail("neither a target epsilon (> 0) nor a noise multiplier (>= 0) was given");
}

void check_images(const LabeledImages& d, const std::string& which, const VisionModel& model, bool allow_empty) {
  const std::string where = "private training: the " + which + " set";
  if (!d.images.defined() || !d.labels.defined()) {
    if (allow_empty) return;
    throw DataError(where + " is missing");
  }
  if (d.images.dim() != 4) throw DataError(where + ": images must be [N, C, H, W]");
  if (d.labels.dim() != 1 || d.labels.size(0) != d.images.size(0))
    throw DataError(where + ": labels must be [N] with N = " + std::to_string(d.images.size(0)));
  if (d.labels.scalar_type() != at::kLong) throw DataError(where + ": labels must be int64");
  if (!d.images.is_floating_point()) throw DataError(where + ": images must be floating point");
  if (d.images.size(1) != model.in_channels())
    throw DataError(where + ": images have " + std::to_string(d.images.size(1)) + " channels, the model expects " +
                    std::to_string(model.in_channels()));
  if (d.size() == 0) {
    if (allow_empty) return;
    throw DataError(where + " is empty");
  }
  const auto [lo, hi] = at::aminmax(d.labels);
  if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= model.num_classes())
    throw DataError(where + ": labels must be in [0, " + std::to_string(model.num_classes()) + ")");
}

double calibrated_sigma(const DpTrainOptions& o, const LotPlan& plan) {
  if (o.target_epsilon > 0.0)
    return calibrate_noise_multiplier(o.target_epsilon, o.delta, plan.sample_rate, plan.lots_per_epoch * o.epochs);
  return o.noise_multiplier;
}

}  // namespace

std::vector<TrainableParam> params_with_roles(const VisionModel& model, const std::vector<ParamRole>& roles) {
  std::vector<TrainableParam> out;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const ParamRole r = model.role(p.key());
    if (r == ParamRole::Frozen) continue;
    if (std::find(roles.begin(), roles.end(), r) != roles.end()) out.push_back({p.key(), at::Tensor()});
  }
  return out;
}

DpTrainer::DpTrainer(VisionModel& model, const LabeledImages& train, const LabeledImages& test,
                     const DpTrainOptions& options, RunContext& ctx)
    : model_(model),
      train_(train),
      test_(test),
      options_((check_options(options), options)),
      ctx_(ctx),
      plan_((check_images(train, "training", model, false), check_images(test, "test", model, true),
             plan_lots(train.size(), options.lot_size))),
      sigma_(calibrated_sigma(options, plan_)),
      sampler_(train.size(), plan_.sample_rate, ctx.component_seed("dp_train.sampling"), options.randomness),
      noise_generator_(make_noise_generator(seed_for(options.randomness, ctx.component_seed("dp_train.noise")))),
      augment_generator_(make_noise_generator(seed_for(options.randomness, ctx.component_seed("dp_train.augment")))),
      schedule_(
          {options.head_lr, options.lr},
          static_cast<int64_t>(static_cast<double>(options.epochs) * options.schedule_stretch) * plan_.lots_per_epoch,
          options.schedule) {
  for (const auto& p : model_.named_parameters(/*recurse=*/true)) {
    params_.emplace(p.key(), p.value());
    roles_.emplace(p.key(), model_.role(p.key()));
    initial_requires_grad_.emplace_back(p.key(), p.value().requires_grad());
    p.value().set_requires_grad(false);
  }
  REPRO_ASSERT(!params_.empty(), "private training: the model has no parameters");
  record_.accountant = accountant_.name();
  record_.randomness = random_source_name(options.randomness);
  record_.noise_multiplier = sigma_;
  record_.sample_rate = plan_.sample_rate;
  record_.expected_lot_size = plan_.expected_lot_size;
  record_.max_grad_norm = options.max_grad_norm;
  record_.lots_per_epoch = plan_.lots_per_epoch;
  record_.planned_steps = planned_steps();
  record_.target_epsilon = options.target_epsilon;
  record_.delta = options.delta;
  ctx_.log().info(
      "private training: n = {}, q = {:.6g} ({} lots per epoch, expected lot {}), sigma = {:.4f}{}, C = {}, "
      "{} epochs = {} steps, accountant {}, {} randomness",
      train.size(), plan_.sample_rate, plan_.lots_per_epoch, plan_.expected_lot_size, sigma_,
      options.target_epsilon > 0.0 ? fmt::format(" (for epsilon {} at delta {})", options.target_epsilon, options.delta)
                                   : std::string(" (given)"),
      options.max_grad_norm, options.epochs, planned_steps(), accountant_.name(), record_.randomness);
}

DpTrainer::~DpTrainer() {
  for (const auto& [name, flag] : initial_requires_grad_) {
    at::Tensor& p = params_.at(name);
    p.mutable_grad().reset();
    p.set_requires_grad(flag);
  }
  clear_grad_samples(model_);
}

at::Tensor& DpTrainer::param(const std::string& name) {
  auto it = params_.find(name);
  REPRO_ASSERT(it != params_.end(), "private training: the model has no parameter '" + name + "'");
  return it->second;
}

size_t DpTrainer::group_of(const std::string& name) const { return roles_.at(name) == ParamRole::Head ? 0 : 1; }

void DpTrainer::set_trainable(const std::vector<TrainableParam>& params) {
  std::map<std::string, at::Tensor> chosen;
  for (const TrainableParam& t : params) {
    const at::Tensor& p = param(t.name);
    REPRO_ASSERT(roles_.at(t.name) != ParamRole::Frozen, "private training: '" + t.name + "' is Frozen");
    REPRO_ASSERT(chosen.count(t.name) == 0, "private training: '" + t.name + "' listed twice");
    if (t.mask.defined())
      REPRO_ASSERT(t.mask.scalar_type() == at::kBool && t.mask.sizes() == p.sizes(),
                   "private training: the mask of '" + t.name + "' must be bool of the parameter's shape");
    chosen.emplace(t.name, t.mask.defined() ? t.mask.to(p.device()) : at::Tensor());
  }
  // Keep named_parameters() order: collect_grad_samples() returns gradients in that order.
  trainable_.clear();
  for (const auto& [name, flag] : initial_requires_grad_) {
    at::Tensor& p = params_.at(name);
    auto it = chosen.find(name);
    p.set_requires_grad(it != chosen.end());
    if (it != chosen.end()) trainable_.push_back({name, it->second});
  }
}

int64_t DpTrainer::trainable_coordinates() const {
  int64_t n = 0;
  for (const TrainableParam& t : trainable_)
    n += t.mask.defined() ? t.mask.sum().item<int64_t>() : params_.at(t.name).numel();
  return n;
}

std::vector<at::Tensor> DpTrainer::step(StepKind kind, ReleaseKind release, StepStats& stats) {
  REPRO_ASSERT(!trainable_.empty(), "private training: no trainable parameter (call set_trainable)");
  const at::Tensor lot = sampler_.next();
  const int64_t B = lot.size(0);
  if (B == 0) ++stats.empty_lots;  // still one step: the noise alone, accounted like any other
  const c10::Device device = params_.begin()->second.device();
  const double C = options_.max_grad_norm;
  const bool sum_of_abs = kind == StepKind::kRelease && release == ReleaseKind::kSumOfAbs;

  std::vector<at::Tensor> sums;
  for (const TrainableParam& t : trainable_) sums.push_back(at::zeros_like(params_.at(t.name)));

  for (int64_t start = 0; start < B; start += options_.physical_batch) {
    const at::Tensor idx = lot.narrow(0, start, std::min(options_.physical_batch, B - start));
    at::Tensor x = train_.images.index_select(0, idx);
    if (options_.augment) x = random_crop_flip(x, options_.crop_padding, train_.black, augment_generator_);
    x = x.to(device);
    const at::Tensor y = train_.labels.index_select(0, idx).to(device);

    clear_grad_samples(model_);
    const at::Tensor logits = model_.forward(x);
    const at::Tensor loss = at::cross_entropy_loss(logits, y, {}, at::Reduction::Sum);
    loss.backward();
    std::vector<ParamGradSample> gs = collect_grad_samples(model_, LossReduction::kSum);
    REPRO_ASSERT(gs.size() == trainable_.size(), "private training: per-example gradients of " +
                                                     std::to_string(gs.size()) + " parameters for " +
                                                     std::to_string(trainable_.size()) + " trainable ones");
    std::vector<at::Tensor> samples;
    {
      at::NoGradGuard no_grad;
      for (size_t k = 0; k < gs.size(); ++k) {
        REPRO_ASSERT(gs[k].name == trainable_[k].name, "private training: gradient order differs from trainable order");
        // W = W0 + m ⊙ D: the per-example gradient of D is m ⊙ dL/dW (zero outside the mask).
        const at::Tensor& m = trainable_[k].mask;
        samples.push_back(m.defined() ? gs[k].grad_sample.masked_fill(m.logical_not(), 0.0) : gs[k].grad_sample);
      }
      if (sum_of_abs) {
        const std::vector<at::Tensor> clipped = clip_per_sample(samples, C);
        for (size_t k = 0; k < sums.size(); ++k) sums[k].add_(clipped[k].abs().sum(0));
      } else {
        const std::vector<at::Tensor> s = clip_and_sum(samples, C);
        for (size_t k = 0; k < sums.size(); ++k) sums[k].add_(s[k]);
      }
      stats.examples += idx.size(0);
      stats.loss_sum += loss.item<double>();
      stats.correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    for (const TrainableParam& t : trainable_) params_.at(t.name).mutable_grad().reset();
    clear_grad_samples(model_);
  }

  if (kind == StepKind::kRelease && release == ReleaseKind::kAbsOfSum)
    for (at::Tensor& s : sums) s.abs_();
  const DpSgdOptions dp{C, sigma_, plan_.expected_lot_size};
  std::vector<at::Tensor> noisy = noise_and_normalize(sums, dp, noise_generator_);
  accountant_.compose(plan_.sample_rate, sigma_, 1);

  if (kind == StepKind::kUpdate) {
    for (size_t k = 0; k < trainable_.size(); ++k) {
      const std::string& name = trainable_[k].name;
      const size_t g = group_of(name);
      const double lr = schedule_.lr(g, schedule_step_);
      const double mu = options_.schedule.cycle_momentum ? schedule_.momentum(g, schedule_step_) : options_.momentum;
      sgd_.step(name, params_.at(name), noisy[k], lr, mu, trainable_[k].mask);
    }
    ++schedule_step_;
  }
  return noisy;
}

EpochRecord DpTrainer::run_epoch(StepKind kind, ReleaseKind release, std::map<std::string, at::Tensor>* releases) {
  const auto t0 = std::chrono::steady_clock::now();
  EpochRecord r;
  r.epoch = epochs_done();
  r.phase = kind == StepKind::kUpdate ? "train" : "select";
  r.trainable = kind == StepKind::kUpdate ? trainable_coordinates() : 0;
  model_.train(true);
  auto progress = ctx_.progress(fmt::format("private {} epoch {}", r.phase, r.epoch), plan_.lots_per_epoch);
  StepStats stats;
  for (int64_t s = 0; s < plan_.lots_per_epoch; ++s) {
    if (kind == StepKind::kUpdate) {
      r.head_lr = schedule_.lr(0, schedule_step_);
      r.lr = schedule_.lr(1, schedule_step_);
    }
    std::vector<at::Tensor> noisy = step(kind, release, stats);
    if (releases) {
      for (size_t k = 0; k < trainable_.size(); ++k) {
        at::Tensor& acc = (*releases)[trainable_[k].name];
        if (acc.defined())
          acc.add_(noisy[k]);
        else
          acc = noisy[k];
      }
    }
    ++r.steps;
    progress->advance();
  }
  progress->finish();
  r.examples = stats.examples;
  r.empty_lots = stats.empty_lots;
  r.train_loss = stats.examples > 0 ? stats.loss_sum / static_cast<double>(stats.examples) : 0.0;
  r.train_accuracy =
      stats.examples > 0 ? static_cast<double>(stats.correct) / static_cast<double>(stats.examples) : 0.0;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

EpochRecord DpTrainer::train_epoch() { return run_epoch(StepKind::kUpdate, ReleaseKind::kAbsOfSum, nullptr); }

std::map<std::string, at::Tensor> DpTrainer::release_epoch(ReleaseKind kind, EpochRecord& record) {
  std::map<std::string, at::Tensor> releases;
  record = run_epoch(StepKind::kRelease, kind, &releases);
  return releases;
}

double DpTrainer::evaluate() {
  if (test_.size() == 0) return -1.0;
  at::NoGradGuard no_grad;
  model_.train(false);
  const c10::Device device = params_.begin()->second.device();
  int64_t correct = 0;
  for (int64_t start = 0; start < test_.size(); start += options_.eval_batch) {
    const int64_t b = std::min(options_.eval_batch, test_.size() - start);
    const at::Tensor logits = model_.forward(test_.images.narrow(0, start, b).to(device));
    correct += logits.argmax(1).eq(test_.labels.narrow(0, start, b).to(device)).sum().item<int64_t>();
  }
  model_.train(true);
  return static_cast<double>(correct) / static_cast<double>(test_.size());
}

bool DpTrainer::end_epoch(EpochRecord r) {
  r.test_accuracy = evaluate();
  r.epsilon = accountant_.epsilon(options_.delta);
  record_.steps = accountant_.total_steps();
  record_.epsilon = r.epsilon;
  record_.test_accuracy = r.test_accuracy;
  if (r.phase == "train") record_.trainable = r.trainable;
  ctx_.log().info(
      "private {} epoch {}/{}: {} lots ({:.1f} examples per lot), train loss {:.4f}, train acc {:.2f}%, test acc "
      "{:.2f}%, epsilon {:.4f}, lr {:.3g} / head {:.3g}, {} trainable, {:.1f} s",
      r.phase, r.epoch + 1, options_.epochs, r.steps,
      r.steps > 0 ? static_cast<double>(r.examples) / static_cast<double>(r.steps) : 0.0, r.train_loss,
      100.0 * r.train_accuracy, 100.0 * r.test_accuracy, r.epsilon, r.lr, r.head_lr, r.trainable, r.seconds);
  record_.epochs.push_back(std::move(r));
  if (options_.target_epsilon > 0.0 && options_.stop_over_budget && record_.epsilon > options_.target_epsilon) {
    record_.stopped_over_budget = true;
    ctx_.log().warn("private training: epsilon {:.4f} exceeds the target {}; stopping after epoch {}", record_.epsilon,
                    options_.target_epsilon, record_.epochs.back().epoch + 1);
    return false;
  }
  return true;
}

DpTrainRecord train_private(VisionModel& model, const LabeledImages& train, const LabeledImages& test,
                            const DpTrainOptions& options, const std::vector<TrainableParam>& trainable,
                            RunContext& ctx) {
  DpTrainer t(model, train, test, options, ctx);
  t.set_trainable(trainable);
  for (int64_t e = 0; e < options.epochs; ++e)
    if (!t.end_epoch(t.train_epoch())) break;
  return t.record();
}

}  // namespace repro::dp
