#include "methods/common/admm_schedule.h"

#include <algorithm>

namespace repro {

RhoSchedule::Action RhoSchedule::update(int64_t t, int64_t changes, int64_t k) {
  const double ratio = k > 0 ? static_cast<double>(changes) / static_cast<double>(k) : 0.0;
  Action action = Action::Continue;
  if (ratio > opts_.large_ratio) {
    rho_ *= opts_.grow_large;
    started_ = true;
  } else if (ratio > opts_.medium_ratio) {
    rho_ *= opts_.grow_medium;
    started_ = true;
  } else if (changes >= 1) {
    if (started_) {
      rho_ *= opts_.grow_small;
    } else {
      rho_ /= opts_.shrink;
      action = Action::Reset;
    }
  } else {
    if (started_) return Action::Stop;
    rho_ /= opts_.shrink;
  }
  rho_ = std::min(rho_, opts_.rho_max);
  if (t >= opts_.switch_iter && ratio < opts_.stop_ratio) return Action::Stop;
  return action;
}

}  // namespace repro
