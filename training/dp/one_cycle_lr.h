#pragma once
// The one-cycle learning-rate policy (Smith & Topin, "Super-Convergence", arXiv 1708.07120) exactly as
// torch.optim.lr_scheduler.OneCycleLR computes it (torch/optim/lr_scheduler.py, the same in 1.13 and
// 2.x), with its defaults: cosine annealing, two phases, cycle_momentum = true (momentum goes
// max_momentum -> base_momentum while the lr warms up, then back), div_factor 25,
// final_div_factor 1e4. Per group g with peak lr_max[g]:
//   initial = lr_max / div_factor,  min = initial / final_div_factor
//   phase 1: steps [0, pct_start T - 1]     lr initial -> lr_max,  momentum max -> base
//   phase 2: up to T - 1                     lr lr_max -> min,      momentum base -> max
//   cos anneal(a, b, p) = b + (a - b) / 2 (1 + cos(pi p)),  p = (t - phase start) / (phase end - start)
// (three_phase = true adds torch's third phase.) Stateless: the caller counts scheduler steps t.
// SPARTA (mazumder-lab/SPARTA, src/utils/train_utils.py: use_lr_scheduler) builds it with max_lr per
// parameter group, pct_start = --warm_up (0.02 in its launch script) and epochs = int(1.2 E).

#include <cstdint>
#include <vector>

namespace repro::dp {

struct OneCycleOptions {
  double pct_start = 0.3;
  bool cos_anneal = true;  // false: linear
  bool cycle_momentum = true;
  double base_momentum = 0.85, max_momentum = 0.95;
  double div_factor = 25.0, final_div_factor = 1e4;
  bool three_phase = false;
};

class OneCycleSchedule {
 public:
  // max_lrs: one peak lr per parameter group (>= 0). total_steps >= 1. Throws ConfigError otherwise
  // (and for pct_start outside [0, 1]).
  OneCycleSchedule(std::vector<double> max_lrs, int64_t total_steps, const OneCycleOptions& options = {});

  // The lr and momentum torch's scheduler gives group g after `step` scheduler steps, step in
  // [0, total_steps] (torch raises beyond; so does this, with InternalError). momentum() is only
  // meaningful with cycle_momentum.
  double lr(size_t group, int64_t step) const;
  double momentum(size_t group, int64_t step) const;

  int64_t total_steps() const { return total_steps_; }
  size_t groups() const { return max_lrs_.size(); }
  const OneCycleOptions& options() const { return options_; }

 private:
  struct Phase {
    double end_step;
    int start_lr, end_lr;  // 0 initial, 1 max, 2 min
    bool momentum_from_max, momentum_to_max;
  };
  double anneal(double start, double end, double pct) const;
  // value(phase, fraction of the phase done) for the phase that holds `step`.
  template <class F>
  double at_step(int64_t step, F&& value) const;

  std::vector<double> max_lrs_;
  int64_t total_steps_;
  OneCycleOptions options_;
  std::vector<Phase> phases_;
};

}  // namespace repro::dp
