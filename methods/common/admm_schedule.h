#pragma once
// The penalty (rho) schedule of the ALPS-family ADMM solvers (ALPS, 3BASiL, ADMM-Q): every
// `update_every` iterations, look at how much the support (or grid assignment) changed and grow
// rho accordingly; before the first increase, a frozen support means rho is too large, so it is
// cut by 5 (and the iterates may be reset). As in the ADMM loops of mazumder-lab/3BASiL and mazumder-lab/ALPS.

#include <cstdint>

namespace repro {

struct RhoScheduleOptions {
  double rho0 = 0.1;
  int update_every = 3;           // ALPS 3, 3BASiL 10
  double grow_large = 1.3;        // ratio > large_ratio (ALPS 1.3, 3BASiL 1.1)
  double grow_medium = 1.2;       // ratio > medium_ratio (ALPS 1.2, 3BASiL 1.05)
  double grow_small = 1.1;        // any change once started (ALPS 1.1, 3BASiL 1.02)
  double large_ratio = 0.1;
  double medium_ratio = 0.005;
  double shrink = 5.0;            // rho /= shrink before the first increase
  int64_t switch_iter = 30;       // stop once t >= switch_iter and ratio < stop_ratio (ALPS 30, 3BASiL 100)
  double stop_ratio = 0.0003;
  double rho_max = 1e6;
};

class RhoSchedule {
 public:
  enum class Action {
    Continue,  // keep iterating (rho may have changed: check changed())
    Reset,     // rho was cut before it ever grew while the support still moved: reset the iterates
    Stop,      // converged
  };

  explicit RhoSchedule(const RhoScheduleOptions& opts = {}) : opts_(opts), rho_(opts.rho0) {}

  double rho() const { return rho_; }
  bool started() const { return started_; }
  // True when iteration t (0-based) ends an update period: (t + 1) % update_every == 0.
  bool is_update(int64_t t) const { return (t + 1) % opts_.update_every == 0; }

  // At an update iteration t: `changes` entries changed status since the previous update, out of
  // `k` (the number of kept entries). Applies the rule and returns what the solver should do.
  Action update(int64_t t, int64_t changes, int64_t k);

 private:
  RhoScheduleOptions opts_;
  double rho_;
  bool started_ = false;
};

}  // namespace repro
