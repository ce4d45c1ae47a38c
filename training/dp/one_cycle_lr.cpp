#include "training/dp/one_cycle_lr.h"

#include <cmath>
#include <numbers>
#include <string>

#include "core/error.h"

namespace repro::dp {

OneCycleSchedule::OneCycleSchedule(std::vector<double> max_lrs, int64_t total_steps, const OneCycleOptions& options)
    : max_lrs_(std::move(max_lrs)), total_steps_(total_steps), options_(options) {
  if (total_steps < 1) throw ConfigError("OneCycle: total_steps " + std::to_string(total_steps) + " must be >= 1");
  if (!(options.pct_start >= 0.0 && options.pct_start <= 1.0))
    throw ConfigError("OneCycle: pct_start must be in [0, 1]");
  if (!(options.div_factor > 0.0 && options.final_div_factor > 0.0))
    throw ConfigError("OneCycle: div_factor and final_div_factor must be > 0");
  for (double m : max_lrs_)
    if (!(m >= 0.0)) throw ConfigError("OneCycle: every max_lr must be >= 0");
  const double T = static_cast<double>(total_steps), p = options.pct_start;
  if (options.three_phase) {
    phases_ = {{p * T - 1, 0, 1, true, false}, {2 * p * T - 2, 1, 0, false, true}, {T - 1, 0, 2, true, true}};
  } else {
    phases_ = {{p * T - 1, 0, 1, true, false}, {T - 1, 1, 2, false, true}};
  }
}

double OneCycleSchedule::anneal(double start, double end, double pct) const {
  if (options_.cos_anneal) return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  return (end - start) * pct + start;
}

template <class F>
double OneCycleSchedule::at_step(int64_t step, F&& value) const {
  REPRO_ASSERT(step >= 0 && step <= total_steps_,
               "OneCycle: step " + std::to_string(step) + " outside [0, " + std::to_string(total_steps_) + "]");
  const double t = static_cast<double>(step);
  double start_step = 0.0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& ph = phases_[i];
    if (t <= ph.end_step || i + 1 == phases_.size()) {
      const double span = ph.end_step - start_step;
      // torch divides by zero here (a phase of zero length reached at its own end, e.g.
      // pct_start * T = 1 at step 0); the phase is then complete.
      const double pct = span != 0.0 ? (t - start_step) / span : 1.0;
      return value(ph, pct);
    }
    start_step = ph.end_step;
  }
  REPRO_ASSERT(false, "OneCycle: no phase");
  return 0.0;
}

double OneCycleSchedule::lr(size_t group, int64_t step) const {
  REPRO_ASSERT(group < max_lrs_.size(), "OneCycle: no such parameter group");
  const double initial = max_lrs_[group] / options_.div_factor;
  const double levels[3] = {initial, max_lrs_[group], initial / options_.final_div_factor};
  return at_step(step,
                 [&](const Phase& ph, double pct) { return anneal(levels[ph.start_lr], levels[ph.end_lr], pct); });
}

double OneCycleSchedule::momentum(size_t group, int64_t step) const {
  REPRO_ASSERT(group < max_lrs_.size(), "OneCycle: no such parameter group");
  const double hi = options_.max_momentum, lo = options_.base_momentum;
  return at_step(step, [&](const Phase& ph, double pct) {
    return anneal(ph.momentum_from_max ? hi : lo, ph.momentum_to_max ? hi : lo, pct);
  });
}

}  // namespace repro::dp
